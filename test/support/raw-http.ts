/** A raw HTTP/1.1 client over a TCP socket, for requests no well-behaved client would send. */
import { connect } from 'node:net';

/** What came back on the socket. */
export interface RawAnswer {
  /** The status of the first answer, or 0 when none arrived. */
  status: number;
  /** Header names lower-cased (the last of duplicates). */
  headers: Record<string, string>;
  body: string;
  /** Everything read, as latin1 text. */
  raw: string;
  /** The socket ended with an error (ECONNRESET, EPIPE) rather than a clean close. */
  error: string | undefined;
  /** Milliseconds from the first byte written to the socket's close. */
  closedAfterMs: number;
}

/** Options of rawRequest. */
export interface RawOptions {
  /** Written after the head, in chunks, while the answer may already be coming back. */
  body?: Buffer;
  /** Give up (and destroy the socket) after this long. */
  timeoutMs?: number;
}

/** Sends bytes to host:port and reads until the server closes (or the timeout); never rejects. */
export function rawRequest(
  port: number,
  head: string | Buffer,
  options: RawOptions = {},
): Promise<RawAnswer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let error: string | undefined;
    const timer = setTimeout(() => {
      error ??= 'timeout';
      socket.destroy();
    }, options.timeoutMs ?? 5000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ ...parseAnswer(Buffer.concat(chunks)), error, closedAfterMs: performance.now() - started });
    });
    socket.on('connect', () => {
      socket.write(head);
      const body = options.body;
      if (body !== undefined) writeChunks(socket, body);
    });
  });
}

/** Writes a body in 64 KB chunks, respecting backpressure, until done or the socket goes away. */
function writeChunks(socket: import('node:net').Socket, body: Buffer): void {
  let offset = 0;
  const next = (): void => {
    while (offset < body.length && !socket.destroyed && socket.writable) {
      const chunk = body.subarray(offset, offset + 65536);
      offset += chunk.length;
      if (!socket.write(chunk)) {
        socket.once('drain', next);
        return;
      }
    }
  };
  next();
}

/** Parses the first HTTP answer in what was read. */
export function parseAnswer(data: Buffer): Pick<RawAnswer, 'status' | 'headers' | 'body' | 'raw'> {
  const raw = data.toString('latin1');
  const end = raw.indexOf('\r\n\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  if (match === null || end === -1) return { status: 0, headers: {}, body: '', raw };
  const headers: Record<string, string> = {};
  for (const line of raw.slice(0, end).split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? Number.NaN);
  const rest = data.subarray(Buffer.byteLength(raw.slice(0, end + 4), 'latin1'));
  const body = (Number.isNaN(length) ? rest : rest.subarray(0, length)).toString('utf8');
  return { status: Number(match[1]), headers, body, raw };
}

/** The first final (non-1xx) answer of a raw exchange, and how long it took to arrive whole. */
export interface TimedAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** From connect to the whole answer read (or to the close/timeout when none came). */
  ms: number;
  error: string | undefined;
}

/**
 * Connects, writes the bytes, and resolves as soon as one final answer has arrived whole (its
 * content-length read; no body for HEAD), then destroys the socket; never rejects.
 */
export function exchange(
  port: number,
  bytes: Buffer,
  options: { head?: boolean; timeoutMs?: number } = {},
): Promise<TimedAnswer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let error: string | undefined;
    let done = false;
    const finish = (answer: Omit<TimedAnswer, 'ms' | 'error'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...answer, ms: performance.now() - started, error });
      socket.destroy();
    };
    const timer = setTimeout(() => {
      error ??= 'timeout';
      finish(finalAnswer(data, options.head === true, true) ?? { status: 0, headers: {}, body: '' });
    }, options.timeoutMs ?? 5000);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const answer = finalAnswer(data, options.head === true, false);
      if (answer !== undefined) finish(answer);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
    });
    socket.on('close', () =>
      finish(finalAnswer(data, options.head === true, true) ?? { status: 0, headers: {}, body: '' }),
    );
    socket.on('connect', () => writeChunks(socket, bytes));
  });
}

/** The first non-1xx answer in data, once whole (or, at the end, whatever of it came). */
function finalAnswer(
  data: Buffer,
  head: boolean,
  ended: boolean,
): Omit<TimedAnswer, 'ms' | 'error'> | undefined {
  let offset = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', offset);
    if (end === -1) return undefined;
    const text = data.subarray(offset, end).toString('latin1');
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
    if (match === null) return undefined;
    const status = Number(match[1]);
    if (status >= 100 && status < 200) {
      offset = end + 4;
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of text.split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length =
      head || status === 204 || status === 304 ? 0 : Number(headers['content-length'] ?? Number.NaN);
    const rest = data.subarray(end + 4);
    if (Number.isNaN(length)) return ended ? { status, headers, body: rest.toString('utf8') } : undefined;
    if (rest.length < length && !ended) return undefined;
    return { status, headers, body: rest.subarray(0, length).toString('utf8') };
  }
}
