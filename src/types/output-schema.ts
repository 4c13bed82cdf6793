/**
 * The declared output of an operation whose protocol does not describe it (HTTP, plain XML): a
 * JSON Schema inline, or `{ $ref: "file#/pointer" }` into a document of the backend (its OpenAPI
 * description, a JSON Schema file), read once at load. The schema given to describe() is
 * standalone (the references inside the document are resolved inline), so the portal and the
 * flow types read it without the file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { ConnectorIssue } from '../contracts/connector.ts';
import { embed, type JsonSchema, resolve } from './json-type.ts';

/** The `output` field of an operation: the schema of what it answers. */
export const operationOutputSchema = z
  .record(z.string(), z.unknown())
  .optional()
  .describe(
    'The JSON Schema of what the operation answers (the decoded body): inline, or {$ref: "file#/pointer"} into the backend\'s OpenAPI or JSON Schema document (relative to the config file). Flows reading it are checked at load; endpoints passing it on get it as their response schema.',
  );

const MAX_DOCUMENT_BYTES = 8 * 1024 * 1024;

/** Reads the documents referenced by outputs once per file, for one connector's operations. */
export function createOutputSchemaReader(baseDir: string) {
  const documents = new Map<string, JsonSchema | Error>();
  const documentAt = (file: string): JsonSchema | Error => {
    const full = path.resolve(baseDir, file);
    let document = documents.get(full);
    if (document === undefined) {
      try {
        const text = readFileSync(full, 'utf8');
        if (text.length > MAX_DOCUMENT_BYTES) throw new Error('the document is larger than 8 MB');
        const parsed: unknown = parseYaml(text, { maxAliasCount: 100 });
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new Error('not a JSON or YAML object');
        document = parsed as JsonSchema;
      } catch (error) {
        document = new Error(
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? `no such file ${file}`
            : (error as Error).message,
        );
      }
      documents.set(full, document);
    }
    return document;
  };
  /** The standalone schema of a declared output; problems go to `issues` at `at`. */
  return (
    output: Record<string, unknown> | undefined,
    at: readonly (string | number)[],
    issues: ConnectorIssue[],
  ) => {
    if (output === undefined) return undefined;
    const ref = output.$ref;
    if (typeof ref !== 'string' || ref.startsWith('#')) return embed({ schema: output, root: output });
    const hash = ref.indexOf('#');
    const file = hash === -1 ? ref : ref.slice(0, hash);
    const document = documentAt(file);
    if (document instanceof Error) {
      issues.push({
        path: [...at, '$ref'],
        message: `the output schema cannot be read: ${document.message}`,
      });
      return undefined;
    }
    const pointer = hash === -1 ? '' : ref.slice(hash);
    const target = resolve({ schema: { $ref: pointer === '' ? '#' : pointer }, root: document });
    if (target === undefined) {
      issues.push({ path: [...at, '$ref'], message: `${file} has nothing at ${pointer || '#'}` });
      return undefined;
    }
    return embed(target);
  };
}
