/**
 * The channel of a `grpc` service at load: where it goes (host:port, grpc:// or grpcs://), its
 * credentials (plaintext, TLS, mutual TLS from PEM files beside the config) and the one
 * @grpc/grpc-js client every call goes through. The client connects lazily, on the first call.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type ChannelCredentials, Client, credentials } from '@grpc/grpc-js';
import type { ConnectorIssue } from '../../contracts/connector.ts';
import type { GrpcServiceConfig } from './schema.ts';

/** The largest 32-bit signed integer: grpc-js's limit for message sizes. */
export const MAX_INT32 = 2_147_483_647;

/** Where the channel goes and how it is secured; undefined when an issue was found. */
export function channelCredentials(
  config: GrpcServiceConfig,
  baseDir: string,
  issues: ConnectorIssue[],
): { address: string; credentials: ChannelCredentials | undefined } {
  const target = parseTarget(config.url);
  const tls = config.tls !== undefined || target.tls === true;
  if (target.tls === false && config.tls !== undefined) {
    issues.push({
      path: ['url'],
      message: 'the url says grpc:// (plaintext) but tls is set; use grpcs:// or host:port',
    });
  }
  return { address: target.address, credentials: buildCredentials(tls, config.tls, baseDir, issues) };
}

/** The client of the channel, or the issue that keeps it from being made. */
export function createClient(
  address: string,
  channelCredentials: ChannelCredentials,
  maxResponseBytes: number,
): Client | { issues: ConnectorIssue[] } {
  try {
    return new Client(address, channelCredentials, {
      'grpc.max_receive_message_length': maxResponseBytes,
    });
  } catch (error) {
    return {
      issues: [{ path: ['url'], message: `cannot create a gRPC client: ${(error as Error).message}` }],
    };
  }
}

function parseTarget(url: string): { address: string; tls: boolean | undefined } {
  if (url.startsWith('grpcs://')) return { address: url.slice('grpcs://'.length), tls: true };
  if (url.startsWith('grpc://')) return { address: url.slice('grpc://'.length), tls: false };
  return { address: url, tls: undefined };
}

function buildCredentials(
  tls: boolean,
  options: GrpcServiceConfig['tls'],
  baseDir: string,
  issues: ConnectorIssue[],
): ChannelCredentials | undefined {
  if (!tls) return credentials.createInsecure();
  const read = (key: 'ca' | 'cert' | 'key'): Buffer | null => {
    const file = options?.[key];
    if (file === undefined) return null;
    try {
      return readFileSync(path.resolve(baseDir, file));
    } catch (error) {
      issues.push({ path: ['tls', key], message: `cannot read ${key} file "${file}": ${fileError(error)}` });
      return null;
    }
  };
  const before = issues.length;
  const ca = read('ca');
  const cert = read('cert');
  const key = read('key');
  if ((options?.cert === undefined) !== (options?.key === undefined)) {
    issues.push({
      path: ['tls', options?.cert === undefined ? 'cert' : 'key'],
      message: 'mutual TLS needs both cert and key',
    });
  }
  if (issues.length > before) return undefined;
  try {
    return credentials.createSsl(
      ca,
      key,
      cert,
      options?.insecure === true ? { rejectUnauthorized: false } : {},
    );
  } catch (error) {
    issues.push({ path: ['tls'], message: `the TLS files cannot be used: ${(error as Error).message}` });
    return undefined;
  }
}

/** Why a file the config names cannot be read: its code (ENOENT…), else the message. */
export function fileError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : (error as Error).message;
}
