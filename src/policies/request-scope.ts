/** The request as the expressions of inbound policies (limit keys, cache keys) see it. */
import type { InboundContext } from '../contracts/policy.ts';

/** What a key or cache expression sees of a request before the handler runs (no body). */
export function requestScope(ctx: InboundContext): Record<string, unknown> {
  return {
    method: ctx.method,
    path: ctx.path,
    params: ctx.params,
    query: ctx.query,
    headers: ctx.headers,
    consumer: ctx.consumer,
    clientIp: ctx.clientIp,
  };
}
