/**
 * The HTTP cache upstream policy module (config key `httpCache` of a service, order 5): outermost,
 * so a hit needs no credentials nor a breaker slot, and stale-if-error covers the breaker being
 * open and the retries given up. For `http` services, whose operations have methods and whose
 * answers carry their HTTP heads.
 */
import type { UpstreamPolicyModule } from '../../contracts/policy.ts';
import type { PolicyRuntime } from '../shared.ts';
import { createHttpCachePolicy } from './http-cache.ts';
import { httpCachePolicySchema } from './http-cache-schema.ts';

export const httpCachePolicy: UpstreamPolicyModule<typeof httpCachePolicySchema, 'httpCache'> = {
  name: 'httpCache',
  order: 5,
  schema: httpCachePolicySchema,
  create(config, ctx) {
    const runtime = ctx.shared as Pick<PolicyRuntime, 'stores'> | undefined;
    if (runtime === undefined) return undefined;
    if (ctx.connector.kind !== 'http') {
      ctx.issue(ctx.at, `httpCache applies to http services; "${ctx.service}" is ${ctx.connector.kind}`);
      return undefined;
    }
    const methods = new Map<string, string>();
    for (const operation of ctx.connector.describe()) {
      if (typeof operation.method === 'string') methods.set(operation.name, operation.method.toUpperCase());
    }
    for (const [index, name] of (config.operations ?? []).entries()) {
      if (!methods.has(name)) {
        ctx.issue(
          [...ctx.at, 'operations', index],
          `no operation "${name}" in service "${ctx.service}" (operations: ${[...methods.keys()].join(', ')})`,
        );
      }
    }
    const store = runtime.stores.select(config.store, [...ctx.at, 'store'], ctx.issue);
    return { wrap: createHttpCachePolicy(config, { ...ctx, store, methods }) };
  },
};
