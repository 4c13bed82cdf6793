/**
 * The CORS policy. Actual requests from an allowed origin get Access-Control-Allow-Origin (and
 * credentials and exposed headers) on every answer, errors included; requests from other origins
 * pass without them, so the browser keeps the answer from the page. Preflights (OPTIONS with
 * Access-Control-Request-Method) are answered by the server through the stack's `preflight`,
 * since a path with only GET or POST endpoints has no OPTIONS route: 204 with the allowed method
 * and headers, or 403 CHORUS_CORS_REJECTED for an origin or a header the policy does not allow.
 */
import type {
  BuiltPolicy,
  InboundHandler,
  InboundPolicy,
  PreflightHandler,
  Reply,
} from '../../../contracts/policy.ts';
import { ChorusError } from '../../../errors/catalogue.ts';
import type { CorsPolicyConfig } from './schema.ts';

const SUBDOMAINS = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/;
const PREFLIGHT_VARY = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';

/** Builds the CORS policy of an endpoint whose method is `method`, and its preflight answer. */
export function createCorsPolicy(config: CorsPolicyConfig, method: string): BuiltPolicy<InboundPolicy> {
  const allowed = originMatcher(config.origins);
  // '*' is only ever sent without credentials (the schema refuses both together).
  const starOrigin = config.origins.includes('*') && !config.credentials;
  const exposed = config.exposeHeaders.join(', ');

  /** The headers of an answer to an allowed origin. */
  const responseHeaders = (origin: string): Record<string, string> => {
    const headers: Record<string, string> = { 'access-control-allow-origin': starOrigin ? '*' : origin };
    if (config.credentials) headers['access-control-allow-credentials'] = 'true';
    if (exposed !== '') headers['access-control-expose-headers'] = exposed;
    return headers;
  };
  const withVary = (headers: Record<string, string> | undefined, value: string): string =>
    headers?.vary ? `${headers.vary}, ${value}` : value;

  const wrap: InboundPolicy = (next) => {
    const handler: InboundHandler = async (request) => {
      const origin = request.headers.origin;
      if (typeof origin !== 'string' || !allowed(origin)) return next(request);
      const cors = responseHeaders(origin);
      let reply: Reply;
      try {
        reply = await next(request);
      } catch (error) {
        if (!(error instanceof ChorusError)) throw error;
        const headers = { ...error.headers, ...cors };
        if (!starOrigin) headers.vary = withVary(error.headers, 'Origin');
        // A copy: the error may be shared by concurrent requests (a coalesced cache miss) from other origins.
        throw new ChorusError(error.code, error.message, {
          cause: error.cause,
          retryable: error.retryable,
          extras: error.extras,
          data: error.data,
          headers,
        });
      }
      // A new reply: the one from next may be shared (a cached answer).
      const headers = { ...reply.headers, ...cors };
      if (!starOrigin) headers.vary = withVary(reply.headers, 'Origin');
      return { ...reply, headers };
    };
    return handler;
  };
  return { wrap, preflight: preflightHandler(config, method, allowed, responseHeaders) };
}

/** Whether an origin is allowed: "*", an exact origin, or a subdomain wildcard ("https://*.example.com"). */
function originMatcher(configured: readonly string[]): (origin: string) => boolean {
  const origins = configured.map((origin) => origin.toLowerCase());
  const anyOrigin = origins.includes('*');
  const exact = new Set(origins.filter((origin) => !origin.includes('*')));
  const wildcards = origins
    .filter((origin) => origin.includes('://*.'))
    .map((origin) => {
      const split = origin.indexOf('*');
      return { prefix: origin.slice(0, split), suffix: origin.slice(split + 1) };
    });
  return (origin) => {
    if (anyOrigin || exact.has(origin)) return true;
    for (const { prefix, suffix } of wildcards) {
      if (
        origin.length > prefix.length + suffix.length &&
        origin.startsWith(prefix) &&
        origin.endsWith(suffix) &&
        SUBDOMAINS.test(origin.slice(prefix.length, origin.length - suffix.length))
      ) {
        return true;
      }
    }
    return false;
  };
}

/** The preflight answer of the endpoint: 204 with the allowed method and headers, or CHORUS_CORS_REJECTED. */
function preflightHandler(
  config: CorsPolicyConfig,
  method: string,
  allowed: (origin: string) => boolean,
  responseHeaders: (origin: string) => Record<string, string>,
): PreflightHandler {
  const allowHeaders = new Set(config.allowHeaders.map((name) => name.toLowerCase()));
  const allowHeadersValue = [...allowHeaders].join(', ');
  const maxAge = String(Math.floor(config.maxAge / 1000));
  return (headers) => {
    const origin = headers.origin;
    if (typeof origin !== 'string' || !allowed(origin)) {
      throw new ChorusError('CHORUS_CORS_REJECTED', 'the origin may not call this endpoint', {
        extras: { origin: typeof origin === 'string' ? origin.slice(0, 200) : null },
      });
    }
    const requested = headers['access-control-request-headers'];
    if (typeof requested === 'string' && requested !== '') {
      for (const raw of requested.split(',')) {
        const name = raw.trim().toLowerCase();
        if (name !== '' && !allowHeaders.has(name)) {
          throw new ChorusError(
            'CHORUS_CORS_REJECTED',
            `the header "${name.slice(0, 100)}" may not be sent`,
            {
              extras: { header: name.slice(0, 100) },
            },
          );
        }
      }
    }
    const answer = responseHeaders(origin);
    answer['access-control-allow-methods'] = method;
    if (allowHeadersValue !== '') answer['access-control-allow-headers'] = allowHeadersValue;
    answer['access-control-max-age'] = maxAge;
    answer.vary = PREFLIGHT_VARY;
    return { status: 204, headers: answer };
  };
}
