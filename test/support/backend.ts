/** Real HTTP backends on loopback for tests: programmable handlers, call counting, in-flight tracking. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running test backend. */
export interface TestBackend {
  url: string;
  port: number;
  /** Requests received, in order (method, url, headers, body). */
  calls: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  /** Requests being handled right now, and the most seen at once. */
  inFlight: number;
  maxInFlight: number;
  /** Requests whose connection closed before an answer was sent. */
  aborted: number;
  /** Sockets that closed (to see pooled connections closed on timeout). */
  closedSockets: number;
  openedSockets: number;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

/** Starts a backend on 127.0.0.1 with a random port. */
export async function startBackend(handler: Handler): Promise<TestBackend> {
  const backend: TestBackend = {
    url: '',
    port: 0,
    calls: [],
    inFlight: 0,
    maxInFlight: 0,
    aborted: 0,
    closedSockets: 0,
    openedSockets: 0,
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      backend.calls.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      backend.inFlight++;
      backend.maxInFlight = Math.max(backend.maxInFlight, backend.inFlight);
      let done = false;
      res.on('close', () => {
        if (!done && !res.writableFinished) backend.aborted++;
        done = true;
        backend.inFlight--;
      });
      void handler(req, res, body);
    });
  });
  server.on('connection', (socket) => {
    backend.openedSockets++;
    socket.on('close', () => backend.closedSockets++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  backend.port = port;
  backend.url = `http://127.0.0.1:${port}`;
  backend.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return backend;
}

/** Answers JSON after an optional delay. */
export function json(res: ServerResponse, status: number, body: unknown, delayMs = 0): void {
  const send = (): void => {
    if (res.destroyed) return;
    const payload = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
    });
    res.end(payload);
  };
  if (delayMs > 0) setTimeout(send, delayMs);
  else send();
}

/** Waits until a condition holds, polling; fails after timeoutMs. */
export async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
