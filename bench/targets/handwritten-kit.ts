/**
 * Building blocks of the hand-written server (the Node limit): what a careful person writes with
 * node:http and undici's Pool.request, no framework. Bodies that are passed on unchanged are
 * relayed as bytes, never parsed and re-serialized; JSON is parsed only where a value is read.
 */
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type { Pool } from 'undici';

const JSON_TYPE = 'application/json';

/** GETs `path` and parses the JSON body; a non-2xx answer rejects. */
export async function getJson(pool: Pool, path: string): Promise<unknown> {
  const { statusCode, body } = await pool.request({ path, method: 'GET' });
  if (statusCode < 200 || statusCode > 299) {
    await body.dump();
    throw new Error(`upstream ${path} answered ${statusCode}`);
  }
  return body.json();
}

/** GETs `path` and returns the raw body text (for answers spliced into a response unparsed). */
export async function getText(pool: Pool, path: string): Promise<string> {
  const { statusCode, body } = await pool.request({ path, method: 'GET' });
  if (statusCode < 200 || statusCode > 299) {
    await body.dump();
    throw new Error(`upstream ${path} answered ${statusCode}`);
  }
  return body.text();
}

/** Bodies up to this size are buffered and sent with one write; larger ones are streamed. */
const BUFFER_LIMIT = 64 * 1024;

/** Forwards a GET to `path` and relays status, content type and body bytes. */
export async function relay(pool: Pool, path: string, res: ServerResponse): Promise<void> {
  const { statusCode, headers, body } = await pool.request({ path, method: 'GET' });
  const type = (headers['content-type'] as string | undefined) ?? JSON_TYPE;
  const length = Number(headers['content-length']);
  if (Number.isFinite(length) && length > BUFFER_LIMIT) {
    res.writeHead(statusCode, { 'content-type': type, 'content-length': length });
    pipeline(body, res, () => {});
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  res.writeHead(statusCode, { 'content-type': type, 'content-length': size });
  res.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
}

/** Sends JSON text with its length. */
export function sendJson(res: ServerResponse, text: string): void {
  res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answers 404 for paths the scenario does not serve. */
export function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-length': 0 });
  res.end();
}

/** Answers 502 when an upstream call failed. */
export function badGateway(res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(502, { 'content-length': 0 });
  res.end();
}
