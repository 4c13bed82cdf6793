/**
 * A validating scan of JSON bytes (RFC 8259): the answer a passthrough forwards undecoded is
 * checked to be one well-formed JSON text, without building any value. Strings (escapes, no raw
 * control characters), numbers, the three literals, objects and arrays nested at most `maxDepth`
 * deep; the bytes must be UTF-8 (checked by node:buffer's isUtf8, in C++), with no BOM.
 *
 * Why a scan and not JSON.parse: measured once on Node 24 (x64, 2 cores shared with other work),
 * a one-off micro-benchmark of an object of items (strings with escapes and non-ASCII, numbers,
 * literals, nesting), per KB of body, this scan against `JSON.parse(bytes.toString('utf8'))`:
 *   1 KB body:   scan 3.4 µs/KB, JSON.parse 6.0–6.5 µs/KB
 *   100 KB body: scan 2.3–2.7 µs/KB, JSON.parse 5.4–5.5 µs/KB (isUtf8 alone: 0.05 µs/KB)
 * On the same machine a bare loop summing every byte of the buffer costs about as much as the scan
 * (2–4 µs/KB), so the scan runs near the cost of reading the bytes at all. It is about twice as
 * cheap as JSON.parse and allocates nothing (one shared depth stack), so it adds no
 * garbage to collect either; the scan is kept.
 */
import { isUtf8 } from 'node:buffer';

/** The deepest nesting a forwarded answer may have (a backend's answer, not a client's body). */
export const MAX_FORWARDED_DEPTH = 512;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

const IN_OBJECT = 1;
const IN_ARRAY = 2;

// What may follow a backslash: " \ / b f n r t (u is checked apart).
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;
// Hexadecimal digits of \uXXXX.
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

let sharedStack = new Uint8Array(MAX_FORWARDED_DEPTH);

/** Why a scan failed: the byte offset, and what was wrong there. */
export interface JsonScanError {
  readonly offset: number;
  readonly reason: string;
}

/** Whether `bytes` is one well-formed JSON text; the error (offset, reason) when it is not. */
export function scanJson(bytes: Uint8Array, maxDepth = MAX_FORWARDED_DEPTH): JsonScanError | undefined {
  if (!isUtf8(bytes)) return { offset: 0, reason: 'not UTF-8' };
  const end = scanStructure(bytes, maxDepth);
  if (end >= 0) return undefined;
  const offset = -end - 1;
  return { offset, reason: offset >= bytes.length ? 'unexpected end' : 'unexpected byte' };
}

/** Whether `bytes` is one well-formed JSON text. */
export function isWellFormedJson(bytes: Uint8Array, maxDepth = MAX_FORWARDED_DEPTH): boolean {
  return isUtf8(bytes) && scanStructure(bytes, maxDepth) >= 0;
}

/**
 * The structural scan, an iterative state machine over one depth stack: returns the length when
 * the bytes are one JSON value (with surrounding whitespace), else -(offset of the fault) - 1.
 */
function scanStructure(b: Uint8Array, maxDepth: number): number {
  const length = b.length;
  // One stack for every scan: a scan is synchronous, so none runs while another does.
  if (sharedStack.length < maxDepth) sharedStack = new Uint8Array(maxDepth);
  const stack = sharedStack;
  let depth = 0;
  let i = skipSpace(b, 0);
  // true: a value is expected at i; false: the value before i is done.
  let wantValue = true;
  while (true) {
    if (wantValue) {
      if (i >= length) return -i - 1;
      const c = b[i]!;
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (depth >= maxDepth) return -i - 1;
        i = skipSpace(b, i + 1);
        if (b[i] === (c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET)) {
          i++;
          wantValue = false;
          continue;
        }
        stack[depth++] = c === OPEN_BRACE ? IN_OBJECT : IN_ARRAY;
        if (c === OPEN_BRACE) {
          i = scanKey(b, i);
          if (i < 0) return i;
        }
        continue;
      }
      i = c === QUOTE ? scanString(b, i) : scanScalar(b, i, c);
      if (i < 0) return i;
      wantValue = false;
      continue;
    }
    i = skipSpace(b, i);
    if (depth === 0) return i === length ? length : -i - 1;
    const c = b[i];
    const inObject = stack[depth - 1] === IN_OBJECT;
    if (c === COMMA) {
      i = skipSpace(b, i + 1);
      if (inObject) {
        i = scanKey(b, i);
        if (i < 0) return i;
      }
      wantValue = true;
    } else if (c === (inObject ? CLOSE_BRACE : CLOSE_BRACKET)) {
      i++;
      depth--;
    } else {
      return -i - 1;
    }
  }
}

/** A key, the colon and the space after it; returns where its value starts. */
function scanKey(b: Uint8Array, start: number): number {
  if (b[start] !== QUOTE) return -start - 1;
  let i = scanString(b, start);
  if (i < 0) return i;
  i = skipSpace(b, i);
  if (b[i] !== COLON) return -i - 1;
  return skipSpace(b, i + 1);
}

/** A string starting at its opening quote; returns the offset after the closing quote. */
function scanString(b: Uint8Array, start: number): number {
  const length = b.length;
  let i = start + 1;
  while (i < length) {
    const c = b[i]!;
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) {
      const e = b[i + 1] ?? 0;
      if (SIMPLE_ESCAPE[e] === 1) {
        i += 2;
      } else if (e === 0x75) {
        if (
          HEX[b[i + 2] ?? 0] !== 1 ||
          HEX[b[i + 3] ?? 0] !== 1 ||
          HEX[b[i + 4] ?? 0] !== 1 ||
          HEX[b[i + 5] ?? 0] !== 1
        ) {
          return -i - 1;
        }
        i += 6;
      } else {
        return -i - 1;
      }
    } else if (c < 0x20) {
      return -i - 1;
    } else {
      i++;
    }
  }
  return -length - 1;
}

/** A number or a literal (true, false, null) starting with byte c; returns the offset after it. */
function scanScalar(b: Uint8Array, start: number, c: number): number {
  if (c === 0x74) return literal(b, start, TRUE);
  if (c === 0x66) return literal(b, start, FALSE);
  if (c === 0x6e) return literal(b, start, NULL);
  let i = start;
  if (c === MINUS) i++;
  // int: 0, or a digit 1–9 then digits
  if (b[i] === ZERO) i++;
  else if (isDigit(b[i])) i = digits(b, i);
  else return -i - 1;
  if (b[i] === DOT) {
    if (!isDigit(b[i + 1])) return -(i + 1) - 1;
    i = digits(b, i + 1);
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === PLUS || b[i] === MINUS) i++;
    if (!isDigit(b[i])) return -i - 1;
    i = digits(b, i);
  }
  return i;
}

function literal(b: Uint8Array, start: number, word: readonly number[]): number {
  for (let k = 0; k < word.length; k++) if (b[start + k] !== word[k]) return -(start + k) - 1;
  return start + word.length;
}

function digits(b: Uint8Array, start: number): number {
  let i = start;
  while (isDigit(b[i])) i++;
  return i;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= ZERO && c <= NINE;
}

/** Skips JSON whitespace (space, tab, LF, CR). */
function skipSpace(b: Uint8Array, start: number): number {
  let i = start;
  while (i < b.length) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}
