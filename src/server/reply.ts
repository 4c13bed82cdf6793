/**
 * Stage 11 of a request, send: a Reply or a JSON value serialized with its content-length and
 * x-request-id; an error as an RFC 9457 problem document (application/problem+json); a request
 * node:http could not parse answered on the socket.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Reply } from '../contracts/policy.ts';
import { ChorusError, toProblem } from '../errors/catalogue.ts';
import { hasBody } from './body.ts';

export const JSON_TYPE = 'application/json; charset=utf-8';
export const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

/** Writes an endpoint's reply: its pre-serialized payload as it is, else its body as JSON. */
export function sendReply(res: ServerResponse, reply: Reply, requestId: string): void {
  if (reply.payload !== undefined) {
    res.writeHead(reply.status, {
      'content-type': JSON_TYPE,
      ...reply.headers,
      'content-length': Buffer.byteLength(reply.payload),
      'x-request-id': requestId,
    });
    res.end(reply.payload);
    return;
  }
  sendJson(res, reply.status, reply.body, requestId, reply.headers);
}

/** Writes a JSON answer (no body for undefined, 204 and 304), always with a length. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  requestId: string,
  headers: Record<string, string> | undefined,
): void {
  const bodiless = body === undefined || status === 204 || status === 304;
  const payload = bodiless ? '' : JSON.stringify(body);
  const out: Record<string, string | number> = { 'x-request-id': requestId, ...headers };
  if (!bodiless) out['content-type'] ??= JSON_TYPE;
  // Always a length, so an empty answer is not sent chunked.
  if (status !== 204 && status !== 304) out['content-length'] = Buffer.byteLength(payload);
  res.writeHead(status, out);
  res.end(payload);
}

/** Writes a problem document; the connection closes when draining or when the body was not read. */
export function sendProblem(
  res: ServerResponse,
  problem: ReturnType<typeof toProblem>,
  requestId: string,
  draining: boolean,
  extra?: Record<string, string>,
): void {
  const payload = JSON.stringify(problem);
  const headers: Record<string, string | number> = {
    ...extra,
    'content-type': PROBLEM_TYPE,
    'content-length': Buffer.byteLength(payload),
    'x-request-id': requestId,
  };
  if (Array.isArray(problem.allow)) headers.allow = problem.allow.join(', ');
  // A body we did not read (too large, wrong type) leaves the connection unusable: close it.
  if (draining || problem.status === 413 || problem.status === 415) headers.connection = 'close';
  res.writeHead(problem.status, headers);
  res.end(payload);
}

/**
 * Answers a request node:http could not parse: 431 problem+json for a head over server.maxHeaderSize
 * (no handler ran: there is no request id but a fresh one), Node's plain 400/408 otherwise.
 */
export function answerClientError(
  error: NodeJS.ErrnoException,
  socket: Duplex,
  maxHeaderSize: number,
  requestId: () => string,
): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    const id = requestId();
    const problem = toProblem(
      new ChorusError(
        'CHORUS_HEADERS_TOO_LARGE',
        `the request head is over the ${maxHeaderSize}-byte limit`,
        {
          extras: { limit: maxHeaderSize },
        },
      ),
      id,
    );
    const payload = JSON.stringify(problem);
    socket.end(
      `HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: ${PROBLEM_TYPE}\r\n` +
        `content-length: ${Buffer.byteLength(payload)}\r\nx-request-id: ${id}\r\nconnection: close\r\n\r\n${payload}`,
    );
    return;
  }
  const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  socket.end(`HTTP/1.1 ${timedOut ? '408 Request Timeout' : '400 Bad Request'}\r\nconnection: close\r\n\r\n`);
}

/** Lets a body nobody reads flow away, so the connection can be reused. */
export function discardBody(req: IncomingMessage): void {
  if (hasBody(req)) req.resume();
}
