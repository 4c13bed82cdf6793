/**
 * gRPC metadata: the static entries of the service (checked at load), the metadata of one call
 * (static, then propagated headers, then input.metadata), and response headers and trailers read
 * back as one record.
 */
import { Metadata, type MetadataValue } from '@grpc/grpc-js';
import type { ConnectorIssue } from '../../contracts/connector.ts';
import { internal } from '../../errors/call-errors.ts';
import type { GrpcOperation } from './grpc-operations.ts';

/** Metadata the transport sets itself; sending them from config or input could only break calls. */
const RESERVED_METADATA =
  /^(?:grpc-.*|:.*|content-type|te|host|user-agent|connection|keep-alive|transfer-encoding|upgrade|proxy-connection)$/;

/** The service's static metadata; problems go to `issues`. */
export function buildStaticMetadata(
  entries: Record<string, string> | undefined,
  issues: ConnectorIssue[],
): Metadata {
  const metadata = new Metadata();
  if (entries === undefined) return metadata;
  for (const [key, value] of Object.entries(entries)) {
    const problem = addMetadata(metadata, key, value);
    if (problem !== undefined) issues.push({ path: ['metadata', key], message: problem });
  }
  return metadata;
}

/** Adds one metadata entry, or says why it cannot be sent; `-bin` values are given in base64. */
function addMetadata(metadata: Metadata, key: string, value: string): string | undefined {
  const lower = key.toLowerCase();
  if (RESERVED_METADATA.test(lower)) return `metadata "${lower}" is set by the gRPC transport; remove it`;
  try {
    metadata.add(lower, lower.endsWith('-bin') ? Buffer.from(value, 'base64') : value);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Static metadata, then the propagated headers (x-request-id…), then input.metadata. */
export function buildCallMetadata(
  op: GrpcOperation,
  base: Metadata,
  propagated: Record<string, string>,
  input: unknown,
): Metadata {
  const metadata = base.clone();
  for (const name of Object.keys(propagated)) {
    const lower = name.toLowerCase();
    if (RESERVED_METADATA.test(lower) || lower.endsWith('-bin')) continue;
    try {
      metadata.set(lower, propagated[name]!);
    } catch {
      // A header that is not valid metadata is not propagated.
    }
  }
  if (input === undefined || input === null) return metadata;
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw internal(
      op.extras,
      `operation "${op.name}" of service "${op.extras.service}": input.metadata must be a map`,
    );
  }
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (value === undefined || value === null) continue;
    const values = Array.isArray(value) ? value : [value];
    metadata.remove(key.toLowerCase());
    for (const item of values) {
      const problem =
        typeof item === 'string' || typeof item === 'number'
          ? addMetadata(metadata, key, String(item))
          : 'values must be strings or numbers';
      if (problem !== undefined) {
        throw internal(
          op.extras,
          `operation "${op.name}" of service "${op.extras.service}": input.metadata "${key}": ${problem}`,
        );
      }
    }
  }
  return metadata;
}

/** Response headers and trailers as one record: one value a string, several a list, binary base64. */
export function metadataRecord(
  headers: Metadata | undefined,
  trailers: Metadata | undefined,
): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  for (const source of [headers, trailers]) {
    if (source === undefined) continue;
    const entries = source.toJSON() as Record<string, MetadataValue[]>;
    for (const key of Object.keys(entries)) {
      const values = entries[key]!.map((value) =>
        typeof value === 'string' ? value : value.toString('base64'),
      );
      const previous = record[key];
      const merged =
        previous === undefined ? values : [...(Array.isArray(previous) ? previous : [previous]), ...values];
      record[key] = merged.length === 1 ? merged[0]! : merged;
    }
  }
  return record;
}
