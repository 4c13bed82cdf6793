/**
 * Stage 3 of a request, route: the route table of a plan (find-my-way, Fastify's radix router),
 * built once per plan. The endpoints first; then the built-in routes a config does not take
 * itself (/healthz, /readyz, /openapi.json, /metrics, the portal, the admin routes). A CORS
 * preflight on a path without an OPTIONS endpoint is answered by the requested method's
 * endpoint, through the preflight its inbound stack gave the plan.
 */
import FindMyWay from 'find-my-way';
import type { Logger } from 'pino';
import { resolveOperationIds } from '../config/operation-ids.ts';
import type { PreflightHandler } from '../contracts/policy.ts';
import type { EndpointPlan } from '../engine/plan.ts';
import type { Tracing } from '../observability/tracing.ts';
import type { AdminGuard } from '../portal/admin.ts';
import { buildPortal, type Portal } from '../portal/portal.ts';
import type { BodyReading } from './body.ts';
import { createResponseEncoding, type ResponseEncoding } from './encoding.ts';
import type { ServedPlan } from './served-plan.ts';

/** What a path leads to. */
export type Route =
  | { kind: 'endpoint'; endpoint: EndpointPlan; body: BodyReading }
  | { kind: 'health' }
  | { kind: 'ready' }
  | { kind: 'openapi'; document: () => Buffer }
  | { kind: 'metrics' }
  | { kind: 'portal'; portal: Portal; base: string }
  | { kind: 'traces' }
  | { kind: 'upstreams' }
  | { kind: 'trace' }
  | { kind: 'config' }
  | { kind: 'reload' };

/** The routes that are not endpoints. */
export type BuiltInRoute = Exclude<Route, { kind: 'endpoint' }>;

/** What find-my-way keeps for each route. */
export interface RouterStore {
  route: Route;
}

export type Router = FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;

/** A plan with its route table and the requests running on it. */
export interface Routing {
  plan: ServedPlan;
  router: Router;
  /** How answers are written (compression, ETags), fixed for the plan. */
  encoding: ResponseEncoding;
  inFlight: number;
}

/** What every request of a gateway shares, whatever the plan: logger, tracing, admin guard. */
export interface Site {
  logger: Logger;
  /** Undefined when no trace is kept nor exported: then no request creates a span. */
  tracing: Tracing | undefined;
  /** Undefined when admin.credential is not set: then the admin routes do not exist. */
  adminGuard: AdminGuard | undefined;
  /** Loads the config again and swaps it in (POST /admin/reload); undefined when the starter gave none. */
  reload: (() => Promise<ReloadOutcome>) | undefined;
}

/** What a reload did: swapped a new plan in, or kept the old one for the new config's problems. */
export type ReloadOutcome =
  | { readonly ok: true; readonly endpoints: number }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * The listener's shutdown state as a request reads it, live: from SIGTERM on it is draining
 * (readiness 503, every answer with connection: close); once the drain delay is over the
 * listener has stopped and endpoints answer 503 CHORUS_SHUTTING_DOWN.
 */
export interface ListenerView {
  readonly draining: boolean;
  readonly stopped: boolean;
}

export const ROUTER_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

const noop = (): void => {};

/** Which listener a route table is for: the public one, or admin.listen's (admin routes and /healthz only). */
export type ListenerPart = 'public' | 'admin';

/** The routing of a plan: its route table, no request in flight yet. */
export function routingOf(plan: ServedPlan, site: Site, part: ListenerPart = 'public'): Routing {
  const router =
    part === 'admin'
      ? buildAdminRouter(plan, site)
      : buildRouter(plan, site, plan.config.admin.listen === undefined);
  return { plan, router, encoding: createResponseEncoding(plan.config.server), inFlight: 0 };
}

/** admin.listen's route table: the admin routes and /healthz. */
function buildAdminRouter(plan: ServedPlan, site: Site): Router {
  const router = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 500, caseSensitive: true });
  addBuiltIn(router, '/healthz', { kind: 'health' });
  addAdminRoutes(router, plan.config.admin.path, site);
  return router;
}

function addAdminRoutes(router: Router, adminPath: string, site: Site): void {
  if (site.adminGuard === undefined) return;
  addBuiltIn(router, `${adminPath}/traces`, { kind: 'traces' });
  addBuiltIn(router, `${adminPath}/traces/:id`, { kind: 'trace' });
  addBuiltIn(router, `${adminPath}/upstreams`, { kind: 'upstreams' });
  addBuiltIn(router, `${adminPath}/config`, { kind: 'config' });
  if (site.reload !== undefined && !router.hasRoute('POST', `${adminPath}/reload`)) {
    router.on('POST', `${adminPath}/reload`, noop, { route: { kind: 'reload' } } satisfies RouterStore);
  }
}

function buildRouter(plan: ServedPlan, site: Site, withAdmin: boolean): Router {
  const router = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 500, caseSensitive: true });
  const forms = formEndpoints(plan);
  for (const endpoint of plan.endpoints) {
    // Chorus writes {id}; find-my-way writes :id.
    const path = endpoint.path.replace(/\{([^}]+)\}/g, ':$1');
    const body: BodyReading = {
      limit: plan.bodyLimit,
      depthLimit: plan.jsonDepthLimit,
      forms: forms.has(endpoint.id),
    };
    router.on(endpoint.method as FindMyWay.HTTPMethod, path, noop, {
      route: { kind: 'endpoint', endpoint, body },
    } satisfies RouterStore);
  }
  addBuiltIn(router, '/healthz', { kind: 'health' });
  addBuiltIn(router, '/readyz', { kind: 'ready' });
  // Generated once per plan, when first asked for: the document only changes when the config does.
  if (!router.hasRoute('GET', '/openapi.json')) {
    let document: Buffer | undefined;
    router.on('GET', '/openapi.json', noop, {
      route: {
        kind: 'openapi',
        // The same bytes for the life of the plan: hashed and compressed once (encoding.ts staticBody).
        document: () => {
          document ??= Buffer.from(JSON.stringify(plan.openApi));
          return document;
        },
      },
    });
  }
  const { metrics } = plan.config.observability;
  if (metrics.enabled) addBuiltIn(router, metrics.path, { kind: 'metrics' });
  const adminPath = plan.config.admin.path;
  if (withAdmin) addAdminRoutes(router, adminPath, site);
  const portalConfig = plan.config.portal;
  if (portalConfig.enabled && !router.hasRoute('GET', portalConfig.path)) {
    const portal = buildPortal(plan, {
      basePath: portalConfig.path,
      // The portal reads traces from its own origin: not when the admin routes listen elsewhere.
      adminPath: site.adminGuard === undefined || !withAdmin ? undefined : adminPath,
      openApi: () => plan.openApi,
    });
    const store = { route: { kind: 'portal', portal, base: portalConfig.path } } satisfies RouterStore;
    router.on('GET', portalConfig.path, noop, store);
    router.on('GET', `${portalConfig.path}/*`, noop, store);
  }
  return router;
}

/** The ids of the endpoints whose input.bodyTypes takes form bodies. */
function formEndpoints(plan: ServedPlan): Set<string> {
  const ids = resolveOperationIds(plan.config.endpoints);
  const forms = new Set<string>();
  plan.config.endpoints.forEach((endpoint, index) => {
    if (endpoint.input?.bodyTypes?.includes('application/x-www-form-urlencoded')) forms.add(ids[index]!);
  });
  return forms;
}

/** A built-in GET route, unless an endpoint of the config takes its path. */
function addBuiltIn(router: Router, path: string, route: BuiltInRoute): void {
  if (!router.hasRoute('GET', path)) router.on('GET', path, noop, { route } satisfies RouterStore);
}

/** The CORS preflight answer of the endpoint an OPTIONS request asks about, if it has a CORS policy. */
export function findPreflight(
  router: Router,
  method: string,
  path: string,
  headers: Record<string, string | string[] | undefined>,
): { endpoint: EndpointPlan; answer: PreflightHandler } | undefined {
  const requested = headers['access-control-request-method'];
  if (method !== 'OPTIONS' || typeof requested !== 'string' || headers.origin === undefined) return undefined;
  if (!(ROUTER_METHODS as readonly string[]).includes(requested)) return undefined;
  const { route } = (router.find(requested as FindMyWay.HTTPMethod, path)?.store ??
    {}) as Partial<RouterStore>;
  if (route?.kind !== 'endpoint') return undefined;
  const answer = route.endpoint.preflight;
  return answer ? { endpoint: route.endpoint, answer } : undefined;
}
