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
import { collectProcessMetrics } from '../observability/metrics.ts';
import { createTracing } from '../observability/tracing.ts';
import { createAdminGuard } from '../portal/admin.ts';
import { answerClientError } from './reply.ts';
import { handleRequest, nextRequestId } from './request.ts';
import { type Routing, routingOf, type Site } from './routes.ts';
import type { ServedPlan } from './served-plan.ts';

/** A running gateway. */
export interface Gateway {
  readonly server: Server;
  /** The base URL it listens on, e.g. http://127.0.0.1:8080. */
  readonly url: string;
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
}

/** The listener's state: the routing requests start on, whether it drains, who waits for idle. */
interface ListenerState {
  current: Routing;
  draining: boolean;
  readonly idleWaiters: Set<() => void>;
}

/** Starts serving a compiled plan. */
export async function startGateway(initialPlan: ServedPlan, options: StartOptions): Promise<Gateway> {
  const site = createSite(initialPlan, options);
  collectProcessMetrics();
  const state: ListenerState = {
    current: routingOf(initialPlan, site),
    draining: false,
    idleWaiters: new Set(),
  };
  const server = createListener(initialPlan, state, site);
  const serverConfig = initialPlan.config.server;
  const url = await listen(server, options.port ?? serverConfig.port, options.host ?? serverConfig.host);
  return lifecycle(server, url, state, site);
}

/** Tracing and the admin credential are read at start; a reload keeps them (and the kept traces). */
function createSite(plan: ServedPlan, options: StartOptions): Site {
  return {
    logger: options.logger,
    tracing: createTracing(
      plan.config,
      options.spanProcessors ? { spanProcessors: options.spanProcessors } : {},
    ),
    adminGuard:
      plan.config.admin.credential === undefined ? undefined : createAdminGuard(plan.config.admin.credential),
  };
}

/** Stage 1, accept: the node:http server with its limits and timeouts. */
function createListener(plan: ServedPlan, state: ListenerState, site: Site): Server {
  const settled = (routing: Routing): void => {
    routing.inFlight--;
    if (routing.inFlight === 0) for (const wake of state.idleWaiters) wake();
  };
  const maxHeaderSize = plan.config.server.maxHeaderSize;
  const server = createServer({ maxHeaderSize }, (req, res) => {
    const routing = state.current;
    routing.inFlight++;
    handleRequest(req, res, routing, state.draining, site).finally(() => settled(routing));
  });
  const serverConfig = plan.config.server;
  server.keepAliveTimeout = serverConfig.keepAliveTimeout;
  server.headersTimeout = serverConfig.headersTimeout;
  server.on('clientError', (error: NodeJS.ErrnoException, socket) =>
    answerClientError(error, socket, maxHeaderSize, nextRequestId),
  );
  // Node's whole-request timeout must outlast the longest endpoint deadline.
  server.requestTimeout = Math.max(...plan.endpoints.map((e) => e.timeoutMs), plan.requestTimeoutMs) + 5000;
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
function lifecycle(server: Server, url: string, state: ListenerState, site: Site): Gateway {
  let closing: Promise<void> | undefined;
  return {
    server,
    url,
    reload(plan) {
      const previous = state.current;
      state.current = routingOf(plan, site);
      void waitIdle(state, previous, previous.plan.shutdownGraceMs).then(() => previous.plan.close());
    },
    close() {
      closing ??= shutdown(server, state, site);
      return closing;
    },
  };
}

async function shutdown(server: Server, state: ListenerState, site: Site): Promise<void> {
  state.draining = true;
  const routing = state.current;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const finished = await waitIdle(state, routing, routing.plan.shutdownGraceMs);
  if (!finished)
    site.logger.warn({ inFlight: routing.inFlight }, 'shutdown grace period over; closing connections');
  server.closeAllConnections();
  await closed;
  await Promise.all([routing.plan.close(), site.tracing?.close()]);
}
