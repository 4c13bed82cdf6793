/**
 * One request over node:http with the answer's bytes as they came (nothing decoded), and no
 * header added: fetch adds Cache-Control: no-cache to conditional requests and decodes
 * Content-Encoding, which tests of caching and compression must see past.
 */
import { request } from 'node:http';

/** An answer as it came over the wire. */
export interface WireAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Sends one request; resolves with the status, headers and the undecoded body. */
export function wire(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<WireAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
