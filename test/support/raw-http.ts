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
