/**
 * The built-in routes: /healthz (always ok), /readyz (ready, draining, or waiting for the
 * services some step calls), /openapi.json (bytes built once per plan, when first asked for, tagged and compressed once), /metrics
 * (Prometheus) and the portal; the admin routes are in admin.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ChorusError } from '../errors/catalogue.ts';
import { metricsText } from '../observability/cluster-metrics.ts';
import { serveAdmin } from './admin.ts';
import { type ResponseEncoding, staticBody } from './encoding.ts';
import { JSON_TYPE, sendJson } from './reply.ts';
import type { BuiltInRoute, ListenerView, Site } from './routes.ts';
import type { ServedPlan } from './served-plan.ts';

/** What a built-in route needs of its request. */
export interface BuiltInRequest {
  readonly requestId: string;
  readonly path: string;
}

/** Answers a built-in route; resolves to the status sent. */
export function serveBuiltIn(
  req: IncomingMessage,
  res: ServerResponse,
  route: BuiltInRoute,
  params: Partial<Record<string, string>>,
  request: BuiltInRequest,
  plan: ServedPlan,
  listener: ListenerView,
  site: Site,
  encoding: ResponseEncoding,
): number | Promise<number> {
  const { requestId } = request;
  switch (route.kind) {
    case 'health':
      sendJson(res, 200, { status: 'ok' }, requestId, undefined);
      return 200;
    case 'ready':
      return serveReady(res, plan, listener.draining, requestId);
    case 'openapi': {
      // The same bytes for the life of the plan: tagged and compressed once, not per request.
      encoding.sendStatic(
        res,
        { 'content-type': JSON_TYPE, 'x-request-id': requestId },
        staticBody(route.document()),
      );
      return 200;
    }
    case 'metrics':
      return serveMetrics(res, requestId);
    case 'portal':
      return servePortal(res, route, request, encoding);
    default:
      return serveAdmin(req, res, route, params, requestId, plan, site);
  }
}

/** 200 ready; 503 while draining or while a service some step calls is not ready. */
function serveReady(res: ServerResponse, plan: ServedPlan, draining: boolean, requestId: string): number {
  const notReady = unreadyServices(plan);
  const status = draining || notReady.length > 0 ? 503 : 200;
  const body = draining
    ? { status: 'draining' }
    : notReady.length > 0
      ? { status: 'waiting', services: notReady }
      : { status: 'ready' };
  sendJson(res, status, body, requestId, undefined);
  return status;
}

/** Services whose connector says it cannot take calls yet (e.g. a broker still connecting). */
function unreadyServices(plan: ServedPlan): string[] {
  const waiting: string[] = [];
  for (const [name, connector] of plan.connectors) {
    if (!plan.calledServices.has(name)) continue;
    if (connector.ready && !connector.ready()) waiting.push(name);
  }
  return waiting;
}

async function serveMetrics(res: ServerResponse, requestId: string): Promise<number> {
  // With --workers N, every worker's metrics summed (observability/cluster-metrics.ts).
  const { text, contentType } = await metricsText();
  res.writeHead(200, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-request-id': requestId,
  });
  res.end(text);
  return 200;
}

async function servePortal(
  res: ServerResponse,
  route: Extract<BuiltInRoute, { kind: 'portal' }>,
  { path, requestId }: BuiltInRequest,
  encoding: ResponseEncoding,
): Promise<number> {
  const file = await route.portal.file(path.slice(route.base.length));
  if (file === undefined) throw new ChorusError('CHORUS_ROUTE_NOT_FOUND', `no portal page ${path}`);
  const headers: Record<string, string | number> = {
    'content-type': file.type,
    'cache-control': file.cache,
    // Everything the portal loads comes from the gateway itself: no CDN, works offline.
    'content-security-policy':
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'x-request-id': requestId,
  };
  // Every portal file is fixed once built (the assets once per process, the page, document and
  // diagrams once per plan): tagged and compressed once, in the background, then served as they are.
  encoding.sendStatic(res, headers, staticBody(portalBytes(route.portal, path, file.body)));
  return 200;
}

/** The bytes of each portal text by path, kept while its portal lives, so a text is encoded once. */
const portalTexts = new WeakMap<object, Map<string, { text: string; bytes: Buffer }>>();

function portalBytes(portal: object, path: string, body: string | Buffer): Buffer {
  if (Buffer.isBuffer(body)) return body;
  let texts = portalTexts.get(portal);
  if (texts === undefined) {
    texts = new Map();
    portalTexts.set(portal, texts);
  }
  const known = texts.get(path);
  if (known !== undefined && known.text === body) return known.bytes;
  const bytes = Buffer.from(body);
  texts.set(path, { text: body, bytes });
  return bytes;
}
