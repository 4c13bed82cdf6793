/**
 * The retry upstream policy module (order 20): inside the credentials, outside the circuit
 * breaker. The breaker sees every attempt (so a failing backend opens it sooner), and once it
 * opens the next attempt fails with CHORUS_CIRCUIT_OPEN, which is not retryable, so retries stop
 * at once instead of hammering an open circuit. The host is chosen per attempt in the connector,
 * so a retry goes to another host.
 */
import type { Connector } from '../../../contracts/connector.ts';
import type { UpstreamPolicyContext, UpstreamPolicyModule } from '../../../contracts/policy.ts';
import { retryPolicy as createRetryPolicy, retryOptions } from './retry.ts';
import { retryPolicySchema } from './schema.ts';

export const retryPolicy: UpstreamPolicyModule<typeof retryPolicySchema, 'retry'> = {
  name: 'retry',
  order: 20,
  schema: retryPolicySchema,
  create(config, ctx) {
    const idempotent = idempotentOperations(ctx.connector, config.idempotentOperations, ctx);
    return { wrap: createRetryPolicy(retryOptions(ctx.service, config, idempotent, ctx.telemetry)) };
  },
};

/**
 * The operations a retry may repeat, decided once at load: those the connector says are
 * idempotent (http by method or `idempotent: true`, graphql queries), and those the retry
 * policy declares safe.
 */
function idempotentOperations(
  connector: Connector,
  declared: readonly string[] | undefined,
  ctx: UpstreamPolicyContext,
): ReadonlySet<string> {
  const operations = connector.describe();
  const names = new Set<string>();
  for (const operation of operations) {
    if (operation.idempotent) names.add(operation.name);
  }
  for (const [index, name] of (declared ?? []).entries()) {
    if (operations.some((operation) => operation.name === name)) names.add(name);
    else {
      ctx.issue(
        [...ctx.at, 'idempotentOperations', index],
        `service "${ctx.service}" has no operation "${name}"`,
      );
    }
  }
  return names;
}
