/**
 * The auth policy: names the consumer of a request (API key or JWT bearer token), then checks the
 * endpoint's required scopes and claims. Every authentication failure — no credentials, an unknown
 * key, a wrong key, a bad token — answers the same 401, so a caller learns nothing about which
 * keys exist; a missing scope or claim answers 403 naming it.
 */

import type { Consumer, InboundPolicy, InboundPolicyContext } from '../../../contracts/policy.ts';
import { ChorusError } from '../../../errors/catalogue.ts';
import { readApiKey } from '../../consumers/api-key.ts';
import type { ConsumerRegistry } from '../../consumers/registry.ts';
import type { PolicyRuntime } from '../../shared.ts';
import type { AuthMethod, AuthPolicyConfig } from './schema.ts';

const UNAUTHORIZED = 'authentication is missing or invalid';
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

type ClaimValue = string | number | boolean;

/** An endpoint's auth requirement in its full form. */
export interface Requirement {
  methods?: readonly AuthMethod[] | undefined;
  scopes: readonly string[];
  claims: Record<string, ClaimValue | ClaimValue[]>;
  anonymous: boolean;
}

/** The full form of a requirement. */
export function normalizeAuth(config: AuthPolicyConfig): Requirement {
  if (typeof config === 'string') return { methods: [config], scopes: [], claims: {}, anonymous: false };
  if (Array.isArray(config)) return { methods: config, scopes: [], claims: {}, anonymous: false };
  return config;
}

/** Whether a claim's value satisfies a required value (a list claim must contain it). */
function claimHolds(claim: unknown, wanted: readonly ClaimValue[]): boolean {
  if (Array.isArray(claim)) return claim.some((item) => wanted.includes(item as ClaimValue));
  return wanted.includes(claim as ClaimValue);
}

/** Builds the auth policy of an endpoint; undefined (with an issue) when the config cannot work. */
export function createAuthPolicy(
  config: AuthPolicyConfig,
  ctx: InboundPolicyContext<PolicyRuntime>,
): InboundPolicy | undefined {
  const requirement = normalizeAuth(config);
  const registry = ctx.shared.consumers;
  const methods = requirement.methods ?? (registry.jwtConfigured ? ['apiKey', 'jwt'] : ['apiKey']);
  if (methods.includes('jwt') && !registry.jwtConfigured) {
    ctx.issue(ctx.at, 'jwt needs the gateway-wide auth.jwt settings (issuer, audience, keys, algorithms)');
    return undefined;
  }
  if (
    requirement.anonymous &&
    (requirement.scopes.length > 0 || Object.keys(requirement.claims).length > 0)
  ) {
    ctx.issue(ctx.at, 'anonymous callers have no scopes or claims: drop anonymous or the requirements');
    return undefined;
  }
  const useJwt = methods.includes('jwt');
  const useApiKey = methods.includes('apiKey');
  const { realm, apiKeySource } = registry;
  const challenges: string[] = [];
  if (useJwt) challenges.push(`Bearer realm="${realm}"`);
  if (useApiKey) challenges.push(`ApiKey realm="${realm}", header="${apiKeySource.header}"`);
  const challenge = challenges.join(', ');
  const tokenChallenge = [`Bearer realm="${realm}", error="invalid_token"`, ...challenges.slice(1)].join(
    ', ',
  );
  const { endpointId, telemetry } = ctx;
  const unauthorized = (tokenPresented: boolean): ChorusError => {
    telemetry.authFailed(endpointId, 401);
    return new ChorusError('CHORUS_UNAUTHORIZED', UNAUTHORIZED, {
      headers: { 'www-authenticate': tokenPresented ? tokenChallenge : challenge },
    });
  };
  const forbidden = (message: string, extras: Record<string, unknown>): ChorusError => {
    telemetry.authFailed(endpointId, 403);
    return new ChorusError('CHORUS_FORBIDDEN', message, { extras });
  };
  const identify = identifier(registry, useJwt, useApiKey, unauthorized);
  const authorize = authorizer(requirement, forbidden);
  return (next) => async (request) => {
    const { consumer, presented } = await identify(request);
    if (consumer === undefined) {
      if (!presented && requirement.anonymous) return next(request);
      throw unauthorized(false);
    }
    authorize(consumer);
    request.consumer = consumer;
    return next(request);
  };
}

type Request = Parameters<Parameters<InboundPolicy>[0]>[0];

/** Finds who calls from the token or the API key; throws 401 for credentials that do not hold. */
function identifier(
  registry: ConsumerRegistry,
  useJwt: boolean,
  useApiKey: boolean,
  unauthorized: (tokenPresented: boolean) => ChorusError,
): (request: Request) => Promise<{ consumer: Consumer | undefined; presented: boolean }> {
  const { apiKeys, apiKeySource, jwtHeader } = registry;
  return async (request) => {
    let consumer: Consumer | undefined;
    let presented = false;
    if (useJwt) {
      const raw = request.headers[jwtHeader];
      if (raw !== undefined) {
        presented = true;
        const token = typeof raw === 'string' ? BEARER.exec(raw)?.[1] : undefined;
        // Another scheme (e.g. Basic) is not ours: it counts as no token unless API keys are off.
        if (token === undefined) {
          if (!useApiKey) throw unauthorized(false);
          presented = false;
        } else {
          const result = await registry.jwt!.verify(token);
          if ('reason' in result) {
            request.logger.debug({ requestId: request.requestId, reason: result.reason }, 'token refused');
            throw unauthorized(true);
          }
          consumer = result.consumer;
        }
      }
    }
    if (consumer === undefined && useApiKey) {
      const key = readApiKey(apiKeySource, request.headers, request.query);
      if (key !== undefined) {
        presented = true;
        consumer = key === null ? undefined : apiKeys.find(key);
        if (consumer === undefined) throw unauthorized(false);
      }
    }
    return { consumer, presented };
  };
}

/** Checks the required scopes and claims of a consumer; throws 403 naming the first one missing. */
function authorizer(
  requirement: Requirement,
  forbidden: (message: string, extras: Record<string, unknown>) => ChorusError,
): (consumer: Consumer) => void {
  const claims = Object.entries(requirement.claims).map(([name, value]) => ({
    name,
    wanted: Array.isArray(value) ? value : [value],
  }));
  const scopes = requirement.scopes;
  return (consumer) => {
    for (const scope of scopes) {
      if (!consumer.scopes.includes(scope)) {
        throw forbidden(`the consumer lacks the scope "${scope}"`, { missingScope: scope });
      }
    }
    for (const { name, wanted } of claims) {
      if (!claimHolds(consumer.claims?.[name], wanted)) {
        throw forbidden(`the consumer lacks the claim "${name}" with a required value`, {
          missingClaim: name,
        });
      }
    }
  };
}
