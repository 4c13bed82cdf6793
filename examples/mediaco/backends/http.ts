/** A tiny node:http toolkit shared by the demo providers: listen on a port, send JSON or XML, read a body. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Handles one request; the URL is parsed once. */
export type Handler = (req: IncomingMessage, url: URL, res: ServerResponse) => void | Promise<void>;

/** A demo provider listening on 127.0.0.1. */
export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Most bytes a demo provider reads from a request body. */
const BODY_LIMIT = 64 * 1024;

/**
 * Starts a server on 127.0.0.1:port (0: any free port); MEDIACO_BACKENDS_HOST changes the address
 * (0.0.0.0 in a container, see serve.ts). Handler errors answer 500.
 */
export async function listen(handler: Handler, port = 0): Promise<RunningServer> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    Promise.resolve()
      .then(() => handler(req, url, res))
      .catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: String((error as Error).message ?? error) });
        else res.destroy();
      });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, process.env.MEDIACO_BACKENDS_HOST ?? '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

/** Sends an XML document (the declaration is added). */
export function sendXml(
  res: ServerResponse,
  status: number,
  xml: string,
  contentType = 'application/xml',
): void {
  const payload = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
  res.writeHead(status, {
    'content-type': `${contentType}; charset=utf-8`,
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

/** Reads a request body as text (at most 64 KiB). */
export async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Escapes text for XML content and attributes. */
export function escapeXml(text: string | number): string {
  return String(text)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** Whether a title matches a search text (case-insensitive substring). */
export function titleMatches(title: string, text: string): boolean {
  return title.toLowerCase().includes(text.trim().toLowerCase());
}
