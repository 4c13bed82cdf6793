/**
 * The auth policy: names the consumer of a request (API key or JWT bearer token), then checks the
 * endpoint's required scopes and claims. Every authentication failure — no credentials, an unknown
 * key, a wrong key, a bad token — answers the same 401, so a caller learns nothing about which
 * keys exist; a missing scope or claim answers 403 naming it.
 */

import type { Consumer } from '../../../contracts/policy.ts';
import { ChorusError } from '../../../errors/catalogue.ts';
import { policyMetrics } from '../../../observability/metrics.ts';
import type { InboundPolicyFactory } from '../../inbound.ts';
import { readApiKey } from '../../consumers/api-key.ts';
import type { AuthMethod, AuthPolicyConfig } from './schema.ts';

const UNAUTHORIZED = 'authentication is missing or invalid';
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

type ClaimValue = string | number | boolean;

interface Requirement {
  methods?: readonly AuthMethod[] | undefined;
  scopes: readonly string[];
  claims: Record<string, ClaimValue | ClaimValue[]>;
  anonymous: boolean;
}

function normalize(config: AuthPolicyConfig): Requirement {
  if (typeof config === 'string') return { methods: [config], scopes: [], claims: {}, anonymous: false };
  if (Array.isArray(config)) return { methods: config, scopes: [], claims: {}, anonymous: false };
  return config;
}

/** Whether a claim's value satisfies a required value (a list claim must contain it). */
function claimHolds(claim: unknown, wanted: readonly ClaimValue[]): boolean {
  if (Array.isArray(claim)) return claim.some((item) => wanted.includes(item as ClaimValue));
  return wanted.includes(claim as ClaimValue);
}

/** Builds the auth policy of an endpoint. */
export const createAuthPolicy: InboundPolicyFactory<AuthPolicyConfig> = (config, ctx) => {
  const requirement = normalize(config);
  const registry = ctx.runtime.consumers;
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
  const { apiKeys, apiKeySource, realm, jwtHeader } = registry;
  const claims = Object.entries(requirement.claims).map(([name, value]) => ({
    name,
    wanted: Array.isArray(value) ? value : [value],
  }));
  const scopes = requirement.scopes;
  const endpointId = ctx.endpointId;
  const challenges: string[] = [];
  if (useJwt) challenges.push(`Bearer realm="${realm}"`);
  if (useApiKey) challenges.push(`ApiKey realm="${realm}", header="${apiKeySource.header}"`);
  const challenge = challenges.join(', ');
  const tokenChallenge = [`Bearer realm="${realm}", error="invalid_token"`, ...challenges.slice(1)].join(
    ', ',
  );

  const unauthorized = (tokenPresented: boolean): ChorusError => {
    policyMetrics.authFailed(endpointId, 401);
    return new ChorusError('CHORUS_UNAUTHORIZED', UNAUTHORIZED, {
      headers: { 'www-authenticate': tokenPresented ? tokenChallenge : challenge },
    });
  };
  const forbidden = (message: string, extras: Record<string, unknown>): ChorusError => {
    policyMetrics.authFailed(endpointId, 403);
    return new ChorusError('CHORUS_FORBIDDEN', message, { extras });
  };

  return (next) => async (request) => {
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
    if (consumer === undefined) {
      if (!presented && requirement.anonymous) return next(request);
      throw unauthorized(false);
    }
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
    request.consumer = consumer;
    return next(request);
  };
};
