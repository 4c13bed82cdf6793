/**
 * What the auth policy adds to an endpoint's OpenAPI operation: the accepted methods as OR-ed
 * security requirements (JWT ones with the required scopes; `{}` when anonymous callers pass),
 * their security schemes from the gateway-wide `auth` settings, 401, and 403 when scopes or
 * claims are required.
 */
import type { OpenApiContext, OpenApiContribution } from '../../../contracts/policy.ts';
import type { AuthSettings } from '../../consumers/auth-settings.ts';
import { normalizeAuth } from './auth.ts';
import type { AuthPolicyConfig } from './schema.ts';

/** The auth policy's part of an operation. */
export function authOpenApi(config: AuthPolicyConfig, ctx: OpenApiContext): OpenApiContribution {
  const settings = ctx.config.auth as AuthSettings | undefined;
  const schemes = securitySchemes(settings);
  const requirement = normalizeAuth(config);
  const methods = requirement.methods ?? (settings?.jwt !== undefined ? ['apiKey', 'jwt'] : ['apiKey']);
  const used: Record<string, Record<string, unknown>> = {};
  const security: Record<string, readonly string[]>[] = methods.map((method) => {
    const scheme = method === 'jwt' ? 'bearerJwt' : 'apiKey';
    if (schemes[scheme] !== undefined) used[scheme] = schemes[scheme];
    return { [scheme]: method === 'jwt' ? [...requirement.scopes] : [] };
  });
  if (requirement.anonymous) security.push({});
  const responses: Record<string, string> = { 401: 'Unauthorized' };
  if (requirement.scopes.length > 0 || Object.keys(requirement.claims).length > 0) {
    responses[403] = 'Forbidden';
  }
  return { security, securitySchemes: used, responses };
}

/** The schemes the auth settings can document: the API key header, and the JWT bearer when set. */
function securitySchemes(settings: AuthSettings | undefined): Record<string, Record<string, unknown>> {
  const apiKeyHeader = settings?.apiKey?.header ?? 'x-api-key';
  const schemes: Record<string, Record<string, unknown>> = {
    apiKey: {
      type: 'apiKey',
      in: 'header',
      name: apiKeyHeader,
      description: `An API key of a consumer, in the ${apiKeyHeader} header.`,
    },
  };
  const jwt = settings?.jwt;
  if (jwt !== undefined) {
    schemes.bearerJwt =
      jwt.header.toLowerCase() === 'authorization'
        ? { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A JWT from the issuer.' }
        : { type: 'apiKey', in: 'header', name: jwt.header, description: 'Bearer <JWT> in this header.' };
  }
  return schemes;
}
