/**
 * The admin routes (under admin.path, only when admin.credential is set, each asking for it as
 * a bearer credential): the kept traces, one trace, the upstream state of every service, the
 * effective config (secrets redacted) and POST reload (load the config file again, swap it in).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { redactConfig } from '../config/redact.ts';
import { ChorusError } from '../errors/catalogue.ts';
import { clustered, gatherFromWorkers } from '../observability/cluster-gather.ts';
import type { TraceRecord, TraceSummary } from '../observability/trace-ring.ts';
import { sendJson } from './reply.ts';
import type { BuiltInRoute, Site } from './routes.ts';
import type { ServedPlan } from './served-plan.ts';

/** The admin routes. */
export type AdminRoute = Extract<
  BuiltInRoute,
  { kind: 'traces' | 'trace' | 'upstreams' | 'config' | 'reload' }
>;

/** Answers an admin route, or 401 without the admin credential. */
export function serveAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  route: AdminRoute,
  params: Partial<Record<string, string>>,
  requestId: string,
  plan: ServedPlan,
  site: Site,
): number | Promise<number> {
  if (!site.adminGuard?.(req.headers.authorization)) {
    throw new ChorusError('CHORUS_UNAUTHORIZED', 'the admin routes need the admin bearer credential', {
      headers: { 'www-authenticate': 'Bearer realm="chorus-admin"' },
    });
  }
  if (route.kind === 'reload') return serveReload(res, requestId, site);
  if ((route.kind === 'traces' || route.kind === 'trace') && clustered()) {
    return serveWorkersTraces(res, route.kind, params.id ?? '', requestId, site);
  }
  const ring = site.tracing?.ring;
  let body: unknown;
  if (route.kind === 'config') body = redactConfig(plan.config);
  else if (route.kind === 'traces') body = { capacity: ring?.capacity ?? 0, traces: ring?.list() ?? [] };
  else if (route.kind === 'upstreams') {
    // Breaker state and counts, bulkhead use and hosts of every service, read now.
    body = { services: plan.upstreams() };
  } else {
    body = ring?.get(params.id ?? '');
    if (body === undefined) throw new ChorusError('CHORUS_ROUTE_NOT_FOUND', `no kept trace "${params.id}"`);
  }
  sendJson(res, 200, body, requestId, { 'cache-control': 'no-store' });
  return 200;
}

/** Loads the config again: 200 with the new plan's size, or 422 with its problems (the old plan keeps serving). */
async function serveReload(res: ServerResponse, requestId: string, site: Site): Promise<number> {
  const outcome = await site.reload!();
  if (!outcome.ok) {
    throw new ChorusError('CHORUS_RELOAD_REJECTED', `the config has ${outcome.problems.length} problem(s)`, {
      extras: { problems: outcome.problems },
    });
  }
  sendJson(res, 200, { status: 'reloaded', endpoints: outcome.endpoints }, requestId, {
    'cache-control': 'no-store',
  });
  return 200;
}

/** The traces topic each worker answers (server.ts): its list, or one trace. */
export const TRACES_TOPIC = 'traces';

/** With --workers N: the kept traces of every worker, newest first, or one trace from whichever kept it. */
async function serveWorkersTraces(
  res: ServerResponse,
  kind: 'traces' | 'trace',
  id: string,
  requestId: string,
  site: Site,
): Promise<number> {
  const capacity = site.tracing?.ring?.capacity ?? 0;
  let body: unknown;
  if (kind === 'traces') {
    const parts = (await gatherFromWorkers(TRACES_TOPIC, { list: true })) as TraceSummary[][];
    const traces = parts.flat().sort((a, b) => b.startedAt - a.startedAt);
    body = { capacity, traces: traces.slice(0, capacity) };
  } else {
    const parts = (await gatherFromWorkers(TRACES_TOPIC, { id })) as TraceRecord[];
    body = parts[0];
    if (body === undefined) throw new ChorusError('CHORUS_ROUTE_NOT_FOUND', `no kept trace "${id}"`);
  }
  sendJson(res, 200, body, requestId, { 'cache-control': 'no-store' });
  return 200;
}
