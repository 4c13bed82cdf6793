/**
 * The pieces every connector that calls over an undici Pool shares: reading a capped body, the
 * errors of one upstream call (always naming the service and operation), and closing a pool with
 * a grace period.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Pool } from 'undici';
import { ChorusError } from '../errors/catalogue.ts';
import { errorCode, type OperationExtras } from './call-errors.ts';
import { closedWithinGrace } from './close-grace.ts';

/** Errors that say the request itself cannot be sent, so sending it again cannot help. */
const NOT_RETRYABLE_TRANSPORT: ReadonlySet<string> = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);

/**
 * Collects a response body, counting bytes as they come; resolves null (and destroys the body,
 * which closes the connection) as soon as the count passes the limit.
 */
export function readCapped(stream: Readable, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stream.destroy();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => {
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    // Stays attached after a resolve so a late destroy error is never unhandled.
    stream.on('error', reject);
  });
}

/** The backend could not be reached, or undici refused to send the request. */
export function transportError(extras: OperationExtras, error: unknown): ChorusError {
  const code = errorCode(error);
  const local = NOT_RETRYABLE_TRANSPORT.has(code);
  // undici's messages for requests it refuses name the header or option at fault and no address;
  // socket errors only get their code, so backend addresses stay out of client-facing details.
  const detail =
    (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') && error instanceof Error
      ? `the request was refused before sending (${error.message})`
      : `transport failed: ${code}`;
  return new ChorusError(
    'CHORUS_UPSTREAM_TRANSPORT',
    `service "${extras.service}" operation "${extras.operation}": ${detail}`,
    { cause: error, retryable: !local, extras },
  );
}

/** Closes a pool, destroying its connections when calls are still running after a grace period. */
export async function closePool(pool: Pool, service: string, logger: Logger, kind: string): Promise<void> {
  if (!(await closedWithinGrace(pool.close()))) {
    logger.warn(
      { service },
      `${kind} connector: calls still running after the close grace; destroying its connections`,
    );
    await pool.destroy();
  }
}
