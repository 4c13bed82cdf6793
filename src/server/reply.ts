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
import type { ResponseEncoding } from './encoding.ts';

export const JSON_TYPE = 'application/json; charset=utf-8';
export const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

/**
 * Writes an endpoint's reply: its pre-serialized payload as it is, else its body as JSON. With an
 * encoding: compressed by Accept-Encoding, and for a `conditional` request (GET, HEAD) an ETag and
 * 304 when If-None-Match matches it.
 */
export function sendReply(
  res: ServerResponse,
  reply: Reply,
  requestId: string,
  encoding?: ResponseEncoding,
  conditional = false,
): void {
  if (reply.payload !== undefined) {
    const headers: Record<string, string | number> = {
      'content-type': JSON_TYPE,
      ...reply.headers,
      'x-request-id': requestId,
    };
    if (encoding !== undefined) {
      encoding.send(res, reply.status, headers, reply.payload, conditional);
      return;
    }
    headers['content-length'] = Buffer.byteLength(reply.payload);
    res.writeHead(reply.status, headers);
    res.end(reply.payload);
    return;
  }
  sendJson(res, reply.status, reply.body, requestId, reply.headers, encoding, conditional);
}

/** Writes a JSON answer (no body for undefined, 204 and 304), always with a length. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  requestId: string,
  headers: Record<string, string> | undefined,
  encoding?: ResponseEncoding,
  conditional = false,
): void {
  const bodiless = body === undefined || status === 204 || status === 304;
  const payload = bodiless ? '' : JSON.stringify(body);
  const out: Record<string, string | number> = { 'x-request-id': requestId, ...headers };
  if (!bodiless) {
    out['content-type'] ??= JSON_TYPE;
    if (encoding !== undefined) {
      encoding.send(res, status, out, payload, conditional);
      return;
    }
  }
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
  encoding?: ResponseEncoding,
): void {
  const payload = JSON.stringify(problem);
  const headers: Record<string, string | number> = {
    ...extra,
    'content-type': PROBLEM_TYPE,
    'x-request-id': requestId,
  };
  if (Array.isArray(problem.allow)) headers.allow = problem.allow.join(', ');
  // A body we did not read (too large, wrong type, an unmet Expect) leaves the connection unusable: close it, but
  // lingering, so that the client still sending its body reads the answer instead of a reset.
  const unread = problem.status === 413 || problem.status === 415 || problem.status === 417;
  if (draining || unread) headers.connection = 'close';
  if (unread) lingerAfter(res);
  if (encoding !== undefined) {
    encoding.send(res, problem.status, headers, payload, false);
    return;
  }
  headers['content-length'] = Buffer.byteLength(payload);
  res.writeHead(problem.status, headers);
  res.end(payload);
}

/** How long a connection whose request was not read keeps being read (and discarded) after its answer. */
export const LINGER_MS = 2000;

/**
 * Makes node:http close the connection of this answer lingering (as nginx does): the request's
 * remaining body is read and discarded while the answer goes out and for up to LINGER_MS after,
 * instead of destroying the socket with unread bytes, which resets the connection and loses the
 * answer the client has not read yet.
 */
function lingerAfter(res: ServerResponse): void {
  const socket = res.socket;
  if (socket === null) return;
  res.req.resume();
  socket.destroySoon = () => lingeringClose(socket);
}

/** Half-closes a socket after what was written, discards what still arrives, destroys it later. */
export function lingeringClose(socket: Duplex): void {
  if (socket.destroyed) return;
  socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.once('end', () => socket.destroy());
  socket.resume();
}

/** Sockets already answered by answerClientError (the parser reports again on each later chunk). */
const answered = new WeakSet<Duplex>();

/** The reason phrases of the statuses written on a raw socket. */
const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
};

/** Writes a problem document as a raw HTTP/1.1 answer on a socket no handler owns, then closes it lingering. */
export function answerOnSocket(socket: Duplex, error: ChorusError, requestId: string): void {
  answered.add(socket);
  const problem = toProblem(error, requestId);
  const payload = JSON.stringify(problem);
  socket.write(
    `HTTP/1.1 ${problem.status} ${REASONS[problem.status] ?? 'Error'}\r\ncontent-type: ${PROBLEM_TYPE}\r\n` +
      `content-length: ${Buffer.byteLength(payload)}\r\nx-request-id: ${requestId}\r\nconnection: close\r\n\r\n${payload}`,
  );
  lingeringClose(socket);
}

/**
 * Answers a request node:http could not parse or would not take, as problem+json on the socket
 * (no handler ran: the request id is a fresh one): 431 for a head over server.maxHeaderSize, 408
 * when the head did not arrive within server.headersTimeout, 501 for a method the parser does
 * not know, 400 CHORUS_BAD_REQUEST_SYNTAX for the rest (CL+TE, duplicate Content-Length, a NUL or
 * bare CR in a header, a non-ASCII path, …).
 */
export function answerClientError(
  error: NodeJS.ErrnoException & { reason?: string },
  socket: Duplex,
  maxHeaderSize: number,
  requestId: () => string,
): void {
  if (answered.has(socket)) return;
  // A response already started on this socket cannot be followed by another one.
  const started = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (error.code === 'ECONNRESET' || !socket.writable || started === true) {
    socket.destroy();
    return;
  }
  answerOnSocket(socket, clientErrorOf(error, maxHeaderSize), requestId());
}

function clientErrorOf(
  error: NodeJS.ErrnoException & { reason?: string },
  maxHeaderSize: number,
): ChorusError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ChorusError(
        'CHORUS_HEADERS_TOO_LARGE',
        `the request head is over the ${maxHeaderSize}-byte limit`,
        {
          extras: { limit: maxHeaderSize },
        },
      );
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ChorusError(
        'CHORUS_REQUEST_TIMEOUT',
        'the request head did not arrive within server.headersTimeout',
      );
    case 'HPE_INVALID_METHOD':
      return new ChorusError(
        'CHORUS_METHOD_NOT_IMPLEMENTED',
        'the request method is not one the gateway knows',
      );
    default: {
      // llhttp's reasons are fixed texts (e.g. "Invalid header value char"); nothing of the request.
      const reason = typeof error.reason === 'string' ? error.reason : 'malformed request';
      return new ChorusError('CHORUS_BAD_REQUEST_SYNTAX', `the request is not valid HTTP/1.1: ${reason}`, {
        extras: { parserCode: error.code },
      });
    }
  }
}

/** Lets a body nobody reads flow away, so the connection can be reused. */
export function discardBody(req: IncomingMessage): void {
  if (hasBody(req)) req.resume();
}
