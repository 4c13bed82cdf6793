/** Reading an answer's body whole, within the service's size cap. */
import type { Readable } from 'node:stream';

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
