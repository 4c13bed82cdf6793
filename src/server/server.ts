/**
 * The HTTP listener and its lifecycle: node:http directly (the benchmark says a framework would
 * cost), start, reload (a new plan swapped in atomically; the old one closes after its
 * requests) and graceful shutdown. Requests are answered by request.ts, routed by routes.ts,
 * written by reply.ts. Only this layer imports node:http.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Logger } from 'pino';
import { ChorusError, toProblem } from '../errors/catalogue.ts';
import { answerGathers } from '../observability/cluster-gather.ts';
import { shareMetricsWithPrimary } from '../observability/cluster-metrics.ts';
import { collectProcessMetrics } from '../observability/metrics.ts';
import { createTracing } from '../observability/tracing.ts';
import { createAdminGuard } from '../portal/admin.ts';
import { TRACES_TOPIC } from './admin.ts';
import { declaredTooLarge } from './body.ts';
import { answerClientError, answerOnSocket, sendProblem } from './reply.ts';
import { handleRequest, nextRequestId } from './request.ts';
import { type ReloadOutcome, type Routing, routingOf, type Site } from './routes.ts';
import type { ServedPlan } from './served-plan.ts';

/** A running gateway. */
export interface Gateway {
  readonly server: Server;
  /** The base URL it listens on, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** The admin listener's base URL when admin.listen is set, else undefined (admin routes on url). */
  readonly adminUrl: string | undefined;
  /** Swaps in a new plan; in-flight requests finish on the old one, whose pools close after them. */
  reload(plan: ServedPlan): void;
  /** Stops accepting, lets in-flight requests finish within the grace period, closes pools. */
  close(): Promise<void>;
}

/** Options of startGateway. */
export interface StartOptions {
  logger: Logger;
  port?: number;
  host?: string;
  /** Extra span processors (tests pass an in-memory exporter); tracing is on when any is given. */
  spanProcessors?: readonly SpanProcessor[];
  /** Loads the config again and swaps it in: POST {admin.path}/reload exists only when given. */
  reload?: () => Promise<ReloadOutcome>;
}

/** The listener's state: the routing requests start on, whether it drains, who waits for idle. */
interface ListenerState {
  current: Routing;
  /** From SIGTERM on: readiness 503, every answer with connection: close. */
  draining: boolean;
  /** Once the drain delay is over: no longer accepting; endpoints answer 503. */
  stopped: boolean;
  readonly idleWaiters: Set<() => void>;
}

/** Starts serving a compiled plan. */
export async function startGateway(initialPlan: ServedPlan, options: StartOptions): Promise<Gateway> {
  const site = await createSite(initialPlan, options);
  collectProcessMetrics();
  shareMetricsWithPrimary();
  const state = listenerState(routingOf(initialPlan, site));
  const server = createListener(initialPlan, state, site);
  const serverConfig = initialPlan.config.server;
  const url = await listen(server, options.port ?? serverConfig.port, options.host ?? serverConfig.host);
  const admin = await startAdminListener(initialPlan, site).catch((error: unknown) => {
    server.close();
    throw error;
  });
  return lifecycle(server, url, state, site, admin);
}

function listenerState(routing: Routing): ListenerState {
  return { current: routing, draining: false, stopped: false, idleWaiters: new Set() };
}

/** The admin routes' own listener (admin.listen), when configured. */
interface AdminListener {
  readonly server: Server;
  readonly url: string;
  readonly state: ListenerState;
}

/** Starts admin.listen's listener: the admin routes and /healthz, nothing public. */
async function startAdminListener(plan: ServedPlan, site: Site): Promise<AdminListener | undefined> {
  const at = plan.config.admin.listen;
  if (at === undefined || site.adminGuard === undefined) return undefined;
  const state = listenerState(routingOf(plan, site, 'admin'));
  const server = createListener(plan, state, site);
  return { server, url: await listen(server, at.port, at.host), state };
}

/** Tracing and the admin credential are read at start; a reload keeps them (and the kept traces). */
async function createSite(plan: ServedPlan, options: StartOptions): Promise<Site> {
  const tracing = await createTracing(
    plan.config,
    options.spanProcessors ? { spanProcessors: options.spanProcessors } : {},
  );
  const ring = tracing?.ring;
  // With --workers N, the primary asks every worker for its traces (admin.ts).
  if (ring !== undefined) {
    answerGathers(TRACES_TOPIC, (query) => {
      const { list, id } = query as { list?: boolean; id?: string };
      return list ? ring.list() : (ring.get(id ?? '') ?? null);
    });
  }
  return {
    logger: options.logger,
    tracing,
    adminGuard:
      plan.config.admin.credential === undefined ? undefined : createAdminGuard(plan.config.admin.credential),
    reload: options.reload,
  };
}

/** Stage 1, accept: the node:http server with its limits and timeouts. */
function createListener(plan: ServedPlan, state: ListenerState, site: Site): Server {
  const settled = (routing: Routing): void => {
    routing.inFlight--;
    if (routing.inFlight === 0) for (const wake of state.idleWaiters) wake();
  };
  const { maxHeaderSize, headersTimeout, keepAliveTimeout } = plan.config.server;
  const server = createServer(
    {
      maxHeaderSize,
      headersTimeout,
      keepAliveTimeout,
      // Node's whole-request timeout must outlast the longest endpoint deadline.
      requestTimeout:
        Math.max(...plan.endpoints.map((e) => e.timeoutMs), plan.requestTimeoutMs, headersTimeout) + 5000,
      // How often Node looks for connections over headersTimeout (its default, 30 s, let a 10 s
      // limit hold for up to 40 s): a quarter of the limit, at most every second.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    (req, res) => {
      const routing = state.current;
      routing.inFlight++;
      handleRequest(req, res, routing, state, site).finally(() => settled(routing));
    },
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket) =>
    answerClientError(error, socket, maxHeaderSize, nextRequestId),
  );
  // Expect: 100-continue: a declared body over the limit is refused before the client sends it.
  server.on('checkContinue', (req, res) => {
    if (!declaredTooLarge(req, state.current.plan.bodyLimit)) res.writeContinue();
    server.emit('request', req, res);
  });
  server.on('checkExpectation', (_req, res) => {
    const id = nextRequestId();
    const error = new ChorusError('CHORUS_EXPECTATION_FAILED', 'only Expect: 100-continue is understood');
    sendProblem(res, toProblem(error, id), id, state.draining, { connection: 'close' });
  });
  server.on('connect', (_req, socket) =>
    answerOnSocket(
      socket,
      new ChorusError(
        'CHORUS_METHOD_NOT_IMPLEMENTED',
        'CONNECT is not supported: the gateway is not a proxy',
      ),
      nextRequestId(),
    ),
  );
  return server;
}

/** Listens; resolves to the base URL. */
async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${address.port}`;
}

/** Resolves true when the routing's requests are done, false when the grace period ends first. */
function waitIdle(state: ListenerState, routing: Routing, graceMs: number): Promise<boolean> {
  if (routing.inFlight === 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      state.idleWaiters.delete(check);
      resolve(false);
    }, graceMs);
    const check = (): void => {
      if (routing.inFlight > 0) return;
      clearTimeout(timer);
      state.idleWaiters.delete(check);
      resolve(true);
    };
    state.idleWaiters.add(check);
  });
}

/** Reload and graceful shutdown. */
function lifecycle(
  server: Server,
  url: string,
  state: ListenerState,
  site: Site,
  admin: AdminListener | undefined,
): Gateway {
  let closing: Promise<void> | undefined;
  return {
    server,
    url,
    adminUrl: admin?.url,
    reload(plan) {
      const previous = state.current;
      state.current = routingOf(plan, site);
      if (admin) admin.state.current = routingOf(plan, site, 'admin');
      void waitIdle(state, previous, previous.plan.shutdownGraceMs).then(() => previous.plan.close());
    },
    close() {
      closing ??= shutdown(server, state, site).finally(() => {
        // The admin listener answers until the public one is done (a reload, traces of the drain).
        admin?.server.close();
        admin?.server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** How long a connection must stay idle after the listener stops before it is closed. */
const IDLE_QUIET_MS = 100;
/** Once no request is in flight, how long the connections left get to close themselves. */
const SETTLE_MS = 300;
/** After every connection was closed, how long the listener may take to report it. */
const CLOSE_WAIT_MS = 1000;

/**
 * Graceful shutdown: draining at once (readiness 503, every answer with connection: close, so
 * no client reuses a connection that is about to close); after server.drainDelay the listener
 * stops accepting; connections that stay idle are closed (a busy one closes itself with its
 * answer); in-flight requests have shutdownGrace; then what is left is closed, then the pools.
 */
async function shutdown(server: Server, state: ListenerState, site: Site): Promise<void> {
  state.draining = true;
  const routing = state.current;
  const drainDelay = routing.plan.config.server.drainDelay;
  if (drainDelay > 0) await new Promise((resolve) => setTimeout(resolve, drainDelay));
  state.stopped = true;
  const closed = stopAccepting(server);
  const sweeper = setInterval(() => server.closeIdleConnections(), IDLE_QUIET_MS);
  const finished = await settle(state, routing, closed, Date.now() + routing.plan.shutdownGraceMs);
  clearInterval(sweeper);
  if (!finished)
    site.logger.warn({ inFlight: routing.inFlight }, 'shutdown grace period over; closing connections');
  server.closeAllConnections();
  // Every connection node:http tracks is closed now; a socket it does not track (one handed to
  // another handler) must not keep the process from stopping.
  if (!(await within(closed, CLOSE_WAIT_MS)))
    site.logger.warn('connections still open after closing; stopping anyway');
  await Promise.all([routing.plan.close(), site.tracing?.close()]);
}

/**
 * Waits, until the deadline, for the requests in flight to finish and their connections to
 * close; a connection left without a request (a head or body still arriving) gets SETTLE_MS.
 * Resolves false when the deadline came with requests still in flight.
 */
async function settle(
  state: ListenerState,
  routing: Routing,
  closed: Promise<void>,
  deadline: number,
): Promise<boolean> {
  for (;;) {
    if (!(await waitIdle(state, routing, Math.max(0, deadline - Date.now())))) return false;
    const allClosed = await within(closed, Math.max(0, Math.min(SETTLE_MS, deadline - Date.now())));
    // A request that came on a connection left open meanwhile is waited for too.
    if (allClosed || routing.inFlight === 0) return true;
  }
}

/** Resolves true when the promise settles within ms, false otherwise. */
function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(resolve, ms, false);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Stops accepting connections; resolves when every open one has closed. node:http's close()
 * also destroys idle keep-alive connections at once, racing a client that is just reusing one
 * (it sees a reset): those are left to the shutdown, which closes them once they stay idle.
 */
function stopAccepting(server: Server): Promise<void> {
  const closeIdle = Object.getOwnPropertyDescriptor(server, 'closeIdleConnections');
  server.closeIdleConnections = () => {};
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  if (closeIdle === undefined) delete (server as { closeIdleConnections?: unknown }).closeIdleConnections;
  else Object.defineProperty(server, 'closeIdleConnections', closeIdle);
  return closed;
}
