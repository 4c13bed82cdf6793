/**
 * How answer bodies go out: content coding negotiated from Accept-Encoding (br, zstd, gzip by
 * the client's q-values, ties broken by the server's order), above a size threshold, for
 * compressible media types only; a weak ETag computed from the identity body on GET/HEAD 200
 * answers, and If-None-Match answered 304 with no body. Everything the config decides is fixed
 * once per plan (createResponseEncoding); a request only looks its Accept-Encoding value up in a
 * small table of values already seen.
 */
import { hash } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import * as zlib from 'node:zlib';

/** A content coding the gateway can send. */
export type ContentCoding = 'br' | 'zstd' | 'gzip';

/** The codings this Node offers (zstd only where its zlib has it). */
export const AVAILABLE_CODINGS: readonly ContentCoding[] =
  typeof zlib.zstdCompressSync === 'function' ? ['br', 'zstd', 'gzip'] : ['br', 'gzip'];

/** The settings of server.compression and server.etags, as parsed. */
export interface EncodingSettings {
  readonly compression: {
    readonly enabled: boolean;
    /** Bodies smaller than this go out as they are. */
    readonly threshold: number;
    /** The codings offered, in the server's order of preference. */
    readonly encodings: readonly ContentCoding[];
  };
  readonly etags: boolean;
}

/** The response writer of a plan. */
export interface ResponseEncoding {
  /** The coding to send to a request with these headers, or undefined for identity. */
  negotiate(acceptEncoding: string | string[] | undefined): ContentCoding | undefined;
  /** Writes a static file's answer: its precompressed variant for the client's coding, ETag and 304. */
  sendStatic(res: ServerResponse, headers: Record<string, string | number>, file: StaticBody): void;
  /**
   * Writes an answer: ETag and 304 when the request's If-None-Match matches (GET/HEAD 200 with
   * `etag`), the body compressed when the client accepts it and the type is compressible.
   */
  send(
    res: ServerResponse,
    status: number,
    headers: Record<string, string | number>,
    payload: string | Buffer,
    etag: boolean,
  ): void;
}

/** Bodies at least this large are compressed off the event loop (zlib's thread pool). */
const ASYNC_FROM_BYTES = 64 * 1024;
/** How many distinct Accept-Encoding values the negotiation remembers. */
const NEGOTIATED_MAX = 256;

/** Per-request levels: fast, most of the gain (brotli 4 ≈ gzip 6 in time, ~45 % smaller on JSON). */
const DYNAMIC_OPTIONS = {
  br: { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } },
  gzip: { level: 6 },
  zstd: {},
} as const;

/** Media types worth compressing: JSON (problem+json too), text, JavaScript, SVG, XML. */
const COMPRESSIBLE = /^(?:application\/(?:[\w.+-]+\+)?(?:json|xml|javascript)|text\/|image\/svg\+xml)/i;

/** Whether an answer of this content type may be compressed (never what is already compressed: images, archives). */
export function compressibleType(contentType: string | number | undefined): boolean {
  return typeof contentType === 'string' && COMPRESSIBLE.test(contentType);
}

/** The response writer of a plan, from its settings. */
export function createResponseEncoding(settings: EncodingSettings): ResponseEncoding {
  const offered = settings.compression.enabled
    ? settings.compression.encodings.filter((coding) => AVAILABLE_CODINGS.includes(coding))
    : [];
  const threshold = settings.compression.threshold;
  const negotiated = new Map<string, ContentCoding | undefined>();
  const negotiate = (header: string | string[] | undefined): ContentCoding | undefined => {
    if (header === undefined || offered.length === 0) return undefined;
    const value = Array.isArray(header) ? header.join(',') : header;
    if (negotiated.has(value)) return negotiated.get(value);
    const chosen = chooseCoding(value, offered);
    // A client sends one of a handful of values; a flood of distinct ones only costs the parse.
    if (negotiated.size < NEGOTIATED_MAX) negotiated.set(value, chosen);
    return chosen;
  };
  const encoding: ResponseEncoding = {
    negotiate,
    sendStatic(res, headers, file) {
      headers.etag = file.etag;
      const compressible = offered.length > 0 && compressibleType(headers['content-type']);
      if (compressible) addVary(headers);
      if (settings.etags && matchesIfNoneMatch(res.req.headers, file.etag)) {
        delete headers['content-type'];
        res.writeHead(304, headers);
        res.end();
        return;
      }
      const coding = compressible ? negotiate(res.req.headers['accept-encoding']) : undefined;
      const variant = coding === undefined ? undefined : file.variants[coding];
      // Not ready yet (the first requests after start): compressed now, as a dynamic answer.
      if (coding !== undefined && variant === undefined) {
        encoding.send(res, 200, headers, file.identity, false);
        return;
      }
      if (variant !== undefined) headers['content-encoding'] = coding!;
      const body = variant ?? file.identity;
      headers['content-length'] = body.length;
      res.writeHead(200, headers);
      res.end(body);
    },
    send(res, status, headers, payload, etag) {
      const req = res.req;
      if (status === 204 || status === 304) {
        // No content by definition (RFC 9110 §15.3.5, §15.4.5), whatever the reply held.
        res.writeHead(status, headers);
        res.end();
        return;
      }
      const cacheable = etag && settings.etags && status === 200;
      if (cacheable) {
        const tag = (headers.etag as string | undefined) ?? weakEtag(payload);
        headers.etag = tag;
        if (matchesIfNoneMatch(req.headers, tag)) {
          // 304: the headers a 200 would have had that describe the representation, no body.
          if (offered.length > 0 && compressibleType(headers['content-type'])) addVary(headers);
          delete headers['content-length'];
          delete headers['content-type'];
          res.writeHead(304, headers);
          res.end();
          return;
        }
      }
      const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
      if (
        offered.length === 0 ||
        size < threshold ||
        headers['content-encoding'] !== undefined ||
        !compressibleType(headers['content-type'])
      ) {
        headers['content-length'] = size;
        res.writeHead(status, headers);
        res.end(payload);
        return;
      }
      addVary(headers);
      const coding = negotiate(req.headers['accept-encoding']);
      if (coding === undefined) {
        headers['content-length'] = size;
        res.writeHead(status, headers);
        res.end(payload);
        return;
      }
      headers['content-encoding'] = coding;
      if (size < ASYNC_FROM_BYTES) {
        const body = compressSync(coding, payload);
        headers['content-length'] = body.length;
        res.writeHead(status, headers);
        res.end(body);
        return;
      }
      compressAsync(coding, payload, (error, body) => {
        if (res.destroyed) return;
        if (error !== null) {
          // zlib does not fail on valid input; should it, the identity body is still right.
          delete headers['content-encoding'];
          headers['content-length'] = size;
          res.writeHead(status, headers);
          res.end(payload);
          return;
        }
        headers['content-length'] = body.length;
        res.writeHead(status, headers);
        res.end(body);
      });
    },
  };
  return encoding;
}

/** Adds Accept-Encoding to an answer's Vary (caches must not give a gzip body to a client that did not ask). */
export function addVary(headers: Record<string, string | number>): void {
  const vary = headers.vary;
  if (vary === undefined) headers.vary = 'accept-encoding';
  else if (!/(?:^|,)\s*accept-encoding\s*(?:,|$)/i.test(String(vary)))
    headers.vary = `${vary}, accept-encoding`;
}

/**
 * The coding to send for an Accept-Encoding value: the offered coding with the highest q above
 * 0 (a `*` stands for every coding not named), the server's order breaking ties; undefined for
 * identity. Hand-written: the negotiators on npm (negotiator, encoding-negotiator) return the same
 * answer but allocate per call, and this runs once per distinct header value.
 */
export function chooseCoding(value: string, offered: readonly ContentCoding[]): ContentCoding | undefined {
  let best: ContentCoding | undefined;
  let bestQ = 0;
  let bestRank = Number.POSITIVE_INFINITY;
  let wildcard = -1;
  const named = new Set<string>();
  for (const part of value.split(',')) {
    const semicolon = part.indexOf(';');
    const name = (semicolon === -1 ? part : part.slice(0, semicolon)).trim().toLowerCase();
    if (name === '') continue;
    const q = semicolon === -1 ? 1 : qValue(part.slice(semicolon + 1));
    if (name === '*') {
      wildcard = q;
      continue;
    }
    // x-gzip is gzip's old alias (RFC 9110 §8.4.1.3).
    const coding = name === 'x-gzip' ? 'gzip' : name;
    named.add(coding);
    const rank = offered.indexOf(coding as ContentCoding);
    if (rank === -1 || q <= 0) continue;
    if (q > bestQ || (q === bestQ && rank < bestRank)) {
      best = coding as ContentCoding;
      bestQ = q;
      bestRank = rank;
    }
  }
  if (wildcard > 0) {
    for (let rank = 0; rank < offered.length; rank++) {
      const coding = offered[rank]!;
      if (named.has(coding)) continue;
      if (wildcard > bestQ || (wildcard === bestQ && rank < bestRank)) {
        best = coding;
        bestQ = wildcard;
        bestRank = rank;
      }
    }
  }
  return best;
}

/** The q of a parameter list such as " q=0.5"; 1 when absent, 0 when malformed. */
function qValue(parameters: string): number {
  for (const parameter of parameters.split(';')) {
    const equals = parameter.indexOf('=');
    if (equals === -1 || parameter.slice(0, equals).trim().toLowerCase() !== 'q') continue;
    const q = Number(parameter.slice(equals + 1).trim());
    return Number.isFinite(q) && q >= 0 && q <= 1 ? q : 0;
  }
  return 1;
}

/** Compresses with the per-request level of a coding. */
export function compressSync(coding: ContentCoding, payload: string | Buffer): Buffer {
  switch (coding) {
    case 'br':
      return zlib.brotliCompressSync(payload, DYNAMIC_OPTIONS.br);
    case 'zstd':
      return zlib.zstdCompressSync(payload, DYNAMIC_OPTIONS.zstd);
    default:
      return zlib.gzipSync(payload, DYNAMIC_OPTIONS.gzip);
  }
}

function compressAsync(
  coding: ContentCoding,
  payload: string | Buffer,
  done: (error: Error | null, body: Buffer) => void,
): void {
  switch (coding) {
    case 'br':
      zlib.brotliCompress(payload, DYNAMIC_OPTIONS.br, done);
      return;
    case 'zstd':
      zlib.zstdCompress(payload, DYNAMIC_OPTIONS.zstd, done);
      return;
    default:
      zlib.gzip(payload, DYNAMIC_OPTIONS.gzip, done);
  }
}

/** A weak entity tag computed from the body (weak: the same tag for each of its content codings). */
export function weakEtag(payload: string | Buffer): string {
  return `W/"${hash('sha1', payload, 'base64url')}"`;
}

/** Whether If-None-Match names the tag (weak comparison, RFC 9110 §13.1.2) or is `*`. */
export function matchesIfNoneMatch(headers: IncomingHttpHeaders, tag: string): boolean {
  const condition = headers['if-none-match'];
  if (condition === undefined) return false;
  const opaque = tag.startsWith('W/') ? tag.slice(2) : tag;
  for (const part of condition.split(',')) {
    const candidate = part.trim();
    if (candidate === '*') return true;
    if ((candidate.startsWith('W/') ? candidate.slice(2) : candidate) === opaque) return true;
  }
  return false;
}

/** A static file with its content hash and its precompressed variants (each there once ready). */
export interface StaticBody {
  readonly identity: Buffer;
  /** A strong tag: the bytes never change for the life of the process. */
  readonly etag: string;
  readonly variants: Partial<Record<ContentCoding, Buffer>>;
}

/**
 * Levels for static files, done once per file and process, off the event loop: the strongest up to
 * 256 KB; above, brotli 9 and zstd 12 (on the 1.7 MB Swagger bundle brotli 11 takes 2.4 s of CPU, in
 * every worker, for 8 % less than brotli 9's 0.1 s).
 */
const STRONGEST_UP_TO = 256 * 1024;

function brotliLevel(size: number): zlib.BrotliOptions {
  return {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: size > STRONGEST_UP_TO ? 9 : 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size,
    },
  };
}

function zstdLevel(size: number): zlib.ZstdOptions {
  return { params: { [zlib.constants.ZSTD_c_compressionLevel]: size > STRONGEST_UP_TO ? 12 : 19 } };
}

const staticBodies = new WeakMap<Buffer, StaticBody>();

/**
 * The static form of a file's bytes, made once per Buffer (the portal reads its assets once per
 * process): its ETag at once, its gzip, brotli and zstd variants compressed in the background, each
 * served from the moment it is ready (identity until then). A variant that is not smaller is dropped.
 */
export function staticBody(bytes: Buffer): StaticBody {
  let known = staticBodies.get(bytes);
  if (known !== undefined) return known;
  const variants: Partial<Record<ContentCoding, Buffer>> = {};
  known = { identity: bytes, etag: `"${hash('sha256', bytes, 'base64url').slice(0, 32)}"`, variants };
  staticBodies.set(bytes, known);
  const keep =
    (coding: ContentCoding) =>
    (error: Error | null, body: Buffer): void => {
      if (error === null && body.length < bytes.length) variants[coding] = body;
    };
  zlib.gzip(bytes, { level: 9 }, keep('gzip'));
  zlib.brotliCompress(bytes, brotliLevel(bytes.length), keep('br'));
  if (AVAILABLE_CODINGS.includes('zstd')) zlib.zstdCompress(bytes, zstdLevel(bytes.length), keep('zstd'));
  return known;
}
