/**
 * Backend credentials as an upstream policy: the headers a service needs (basic, bearer, API
 * key, static headers, an OAuth2 client-credentials token) are added to a copy of the call's
 * headers, which every connector sends. Static values are computed once at load; only OAuth2
 * does work per call (a cached token in the common case). Secrets are never logged.
 */
import type { CallContext, ConnectorCall, ConnectorResult } from '../../../contracts/connector.ts';
import type { IssueReporter } from '../../../contracts/issues.ts';
import type { UpstreamHandler, UpstreamPolicy } from '../../../contracts/policy.ts';
import { ChorusError } from '../../../errors/catalogue.ts';
import { OAuth2TokenSource } from './oauth2.ts';
import type { BackendCredentialsConfig } from './schema.ts';

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_BREAK = /[\r\n\0]/;

/** Builds the credentials policy of a service; issues go to the reporter at `at`. */
export function credentialsPolicy(
  service: string,
  config: BackendCredentialsConfig,
  at: readonly (string | number)[],
  issue: IssueReporter,
  env: Readonly<Record<string, string | undefined>> = process.env,
): UpstreamPolicy | undefined {
  if (config.type === 'oauth2') return oauth2Policy(new OAuth2TokenSource(service, config));
  const headers: Record<string, string> = {};
  switch (config.type) {
    case 'basic':
      headers.authorization = `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}`;
      break;
    case 'bearer': {
      const token = config.token ?? (config.tokenEnv === undefined ? undefined : env[config.tokenEnv]);
      if (token === undefined || token === '') {
        issue(
          [...at],
          config.tokenEnv === undefined
            ? 'a bearer credential needs token or tokenEnv'
            : `environment variable ${config.tokenEnv} is not set`,
        );
        return undefined;
      }
      headers.authorization = `Bearer ${token}`;
      break;
    }
    case 'apiKey':
      headers[config.header.toLowerCase()] = config.key;
      break;
    case 'headers':
      for (const [name, value] of Object.entries(config.headers)) headers[name.toLowerCase()] = value;
      break;
  }
  let valid = true;
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) {
      issue([...at, config.type === 'apiKey' ? 'header' : 'headers'], `"${name}" is not a valid header name`);
      valid = false;
    } else if (HEADER_BREAK.test(value)) {
      // The value is a secret: the message never repeats it.
      issue([...at], `the credential for header "${name}" contains a line break`);
      valid = false;
    }
  }
  if (!valid) return undefined;
  return staticHeadersPolicy(Object.freeze(headers));
}

/** Adds fixed headers to every call. */
function staticHeadersPolicy(added: Readonly<Record<string, string>>): UpstreamPolicy {
  return (next: UpstreamHandler): UpstreamHandler =>
    (call: ConnectorCall, ctx: CallContext): Promise<ConnectorResult> =>
      next({ ...call, headers: { ...call.headers, ...added } }, ctx);
}

/** Adds the current OAuth2 token; a 401 from the backend drops it so the next call fetches a new one. */
function oauth2Policy(source: OAuth2TokenSource): UpstreamPolicy {
  return (next: UpstreamHandler): UpstreamHandler =>
    async (call: ConnectorCall, ctx: CallContext): Promise<ConnectorResult> => {
      const token = await source.token();
      try {
        return await next({ ...call, headers: { ...call.headers, authorization: `Bearer ${token}` } }, ctx);
      } catch (error) {
        if (error instanceof ChorusError && error.extras.upstreamStatus === 401) source.invalidate(token);
        throw error;
      }
    };
}
