/**
 * JSON a backend sent that Chorus forwards without decoding it: a step whose output is only the
 * whole response body skips JSON.parse and JSON.stringify (DESIGN.md: no re-serialization a
 * passthrough does not need). If such a value ever ends up inside other data, toJSON decodes it.
 */
import { parseUntrustedJson } from './parse.ts';

/** Undecoded JSON bytes, forwarded as they are. */
export class RawJson {
  readonly bytes: Buffer;
  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }

  /** Decodes the bytes (safely), for the rare path that needs the value after all. */
  toJSON(): unknown {
    return parseUntrustedJson(this.bytes.toString('utf8'));
  }
}
