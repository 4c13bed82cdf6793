/** Load time of the `graphql` connector: each operation's document read (inline or from a file) and parsed. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConnectorIssue } from '../../contracts/connector.ts';
import { type ParsedDocument, parseDocument } from './documents.ts';
import type { GraphqlServiceConfig } from './schema.ts';

/** A document read and parsed at load, with where it came from (for issues and messages). */
export interface LoadedDocument {
  readonly parsed: ParsedDocument;
  readonly source: string;
  readonly at: string[];
  readonly where: string;
}

type Source = { source: string; at: string[] } | { problem: string; at: string[] };

/** The documents of the service's operations, by operation name; problems go to `issues`. */
export async function loadDocuments(
  config: GraphqlServiceConfig,
  baseDir: string,
  issues: ConnectorIssue[],
): Promise<Map<string, LoadedDocument>> {
  const documents = new Map<string, LoadedDocument>();
  const entries = Object.entries(config.operations);
  const sources = await Promise.all(
    entries.map(([, operation]) => loadSource(operation.query, operation.file, baseDir)),
  );
  entries.forEach(([name, operation], index) => {
    const loaded = sources[index]!;
    if ('problem' in loaded) {
      issues.push({ path: ['operations', name, ...loaded.at], message: loaded.problem });
      return;
    }
    const where = loaded.at[0] === 'file' ? `document ${operation.file}` : 'the query';
    const parsed = parseDocument(loaded.source, operation.operationName, where);
    if ('problem' in parsed) {
      const at =
        parsed.at === 'operationName' && operation.operationName !== undefined
          ? ['operationName']
          : loaded.at;
      issues.push({ path: ['operations', name, ...at], message: parsed.problem });
      return;
    }
    documents.set(name, { parsed, source: loaded.source, at: loaded.at, where });
  });
  return documents;
}

async function loadSource(
  query: string | undefined,
  file: string | undefined,
  baseDir: string,
): Promise<Source> {
  if (query !== undefined && file !== undefined) {
    return { problem: 'give the document as query or as file, not both', at: ['file'] };
  }
  if (query !== undefined) return { source: query, at: ['query'] };
  if (file === undefined) return { problem: 'an operation needs a document: set query or file', at: [] };
  try {
    return { source: await readFile(path.resolve(baseDir, file), 'utf8'), at: ['file'] };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      problem: `cannot read document "${file}": ${typeof code === 'string' ? code : (error as Error).message}`,
      at: ['file'],
    };
  }
}
