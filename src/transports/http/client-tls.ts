/** Reads a service's client TLS files (mTLS certificate and key, private CA) once, at load. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClientTlsConfig } from './schema.ts';

/** The undici `connect` options of a service's TLS settings. */
export interface TlsConnectOptions {
  cert?: Buffer;
  key?: Buffer;
  ca?: Buffer;
  servername?: string;
}

/** A problem with the TLS settings, by the key at fault. */
export interface TlsIssue {
  path: readonly string[];
  message: string;
}

/** Reads the files named by the settings, relative to baseDir. */
export function readClientTls(
  config: ClientTlsConfig,
  baseDir: string,
): { options: TlsConnectOptions } | { issues: TlsIssue[] } {
  const issues: TlsIssue[] = [];
  const options: TlsConnectOptions = {};
  if ((config.cert === undefined) !== (config.key === undefined)) {
    issues.push({
      path: ['tls', config.cert === undefined ? 'cert' : 'key'],
      message: 'give both cert and key',
    });
  }
  for (const field of ['cert', 'key', 'ca'] as const) {
    const file = config[field];
    if (file === undefined) continue;
    try {
      options[field] = readFileSync(path.resolve(baseDir, file));
    } catch (error) {
      // The path is the user's own config; the key's content never appears.
      issues.push({
        path: ['tls', field],
        message: `cannot read ${field} file "${file}": ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      });
    }
  }
  if (config.servername !== undefined) options.servername = config.servername;
  return issues.length > 0 ? { issues } : { options };
}
