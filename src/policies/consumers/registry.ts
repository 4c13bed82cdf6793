/**
 * The consumers of the API and how they prove who they are, built once at load: the API-key
 * index (digests only), the consumers by JWT subject, the plans' scopes, and the JWT verifier.
 * Consumers may be listed in the config or in a file it names (`consumers: {file: …}`); problems
 * in that file are reported at its own file:line:col.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { formatPath } from '../../config/issues.ts';
import type { ConfigPath } from '../../contracts/issues.ts';
import type { Consumer, PolicyFactoryContext } from '../../contracts/policy.ts';
import {
  type ApiKeyIndex,
  type ApiKeySource,
  createApiKeyIndex,
  hashApiKey,
  parseKeyHash,
} from './api-key.ts';
import type { AuthSettings } from './auth-settings.ts';
import { createJwtVerifier, type JwtVerifier, type SubjectDirectory } from './jwt.ts';
import { type ConsumerConfig, type ConsumersConfig, consumerSchema, type PlanConfig } from './schema.ts';

/** A declared consumer, with its plan's scopes folded into its own. */
export interface ConsumerEntry {
  readonly id: string;
  readonly plan: string | undefined;
  readonly scopes: readonly string[];
}

/** Who calls, indexed at load. */
export interface ConsumerRegistry extends SubjectDirectory {
  /** Declared consumers by id. */
  readonly consumers: ReadonlyMap<string, ConsumerEntry>;
  /** The API keys of every consumer. */
  readonly apiKeys: ApiKeyIndex;
  /** Where API keys are read (auth.apiKey). */
  readonly apiKeySource: ApiKeySource;
  /** The JWT verifier, when auth.jwt is set (and loaded). */
  readonly jwt: JwtVerifier | undefined;
  /** Lower-case name of the header carrying `Bearer <token>`. */
  readonly jwtHeader: string;
  /** Whether auth.jwt is configured (even if it failed to load). */
  readonly jwtConfigured: boolean;
  /** The realm named in WWW-Authenticate. */
  readonly realm: string;
  close(): Promise<void>;
}

/** The parts of the config the registry reads. */
export interface ConsumerSettings {
  readonly consumers: ConsumersConfig;
  readonly plans: Readonly<Record<string, PlanConfig>>;
  readonly auth?: AuthSettings | undefined;
}

/** Builds the registry; problems go to ctx.issue. */
export async function createConsumerRegistry(
  config: ConsumerSettings,
  ctx: PolicyFactoryContext,
): Promise<ConsumerRegistry> {
  const declared = await readConsumers(config.consumers, ctx);
  const plans = new Map<string, readonly string[]>();
  for (const [name, plan] of Object.entries(config.plans)) {
    const scopes = (plan as { scopes?: unknown }).scopes;
    plans.set(name, Array.isArray(scopes) ? scopes.filter((s): s is string => typeof s === 'string') : []);
  }
  const { consumers, bySubject, keyEntries } = indexConsumers(declared, plans);
  const settings = config.auth;
  const directory: SubjectDirectory = {
    bySubject: (subject) => bySubject.get(subject),
    planScopes: (plan) => plans.get(plan),
  };
  const jwt = settings?.jwt
    ? await createJwtVerifier(settings.jwt, directory, ctx, ['auth', 'jwt'])
    : undefined;
  return {
    ...directory,
    consumers,
    apiKeys: createApiKeyIndex(keyEntries),
    apiKeySource: {
      header: (settings?.apiKey.header ?? 'x-api-key').toLowerCase(),
      query: settings?.apiKey.query,
    },
    jwt,
    jwtHeader: (settings?.jwt?.header ?? 'authorization').toLowerCase(),
    jwtConfigured: settings?.jwt !== undefined,
    realm: settings?.realm ?? 'chorus',
    close: async () => {},
  };
}

interface ConsumerIndex {
  consumers: Map<string, ConsumerEntry>;
  bySubject: Map<string, ConsumerEntry>;
  keyEntries: { digest: Buffer; consumer: Consumer }[];
}

/** Indexes the declared consumers by id, by JWT subject and by key digest; duplicates are reported. */
function indexConsumers(
  declared: readonly PlacedConsumer[],
  plans: ReadonlyMap<string, readonly string[]>,
): ConsumerIndex {
  const index: ConsumerIndex = { consumers: new Map(), bySubject: new Map(), keyEntries: [] };
  const digests = new Map<string, string>();
  const keyIds = new Set<string>();
  for (const { consumer: item, report } of declared) {
    if (index.consumers.has(item.id)) {
      report(['id'], `duplicate consumer id "${item.id}"`);
      continue;
    }
    if (item.plan !== undefined && !plans.has(item.plan)) {
      report(['plan'], `no plan "${item.plan}" in plans${suggestion([...plans.keys()])}`);
    }
    const scopes = Object.freeze([...new Set([...item.scopes, ...(plans.get(item.plan ?? '') ?? [])])]);
    const entry: ConsumerEntry = Object.freeze({ id: item.id, plan: item.plan, scopes });
    index.consumers.set(item.id, entry);
    for (const subject of [item.id, ...item.subjects]) {
      const other = index.bySubject.get(subject);
      if (other && other !== entry) {
        report(['subjects'], `subject "${subject}" is also consumer "${other.id}"`);
      } else index.bySubject.set(subject, entry);
    }
    item.keys.forEach((key, keyIndex) => {
      const keyAt: ConfigPath = ['keys', keyIndex];
      const keyId = (typeof key === 'object' ? key.id : undefined) ?? `${item.id}.key${keyIndex + 1}`;
      if (keyIds.has(keyId)) report(keyAt, `duplicate key id "${keyId}"`);
      keyIds.add(keyId);
      const digest =
        typeof key === 'string'
          ? parseKeyHash(key)
          : key.hash !== undefined
            ? parseKeyHash(key.hash)
            : hashApiKey(key.key!);
      const hex = digest.toString('hex');
      const owner = digests.get(hex);
      if (owner !== undefined) {
        // Never print the key or its digest: only who else holds it.
        report(keyAt, `this key is also a key of consumer "${owner}"`);
        return;
      }
      digests.set(hex, item.id);
      const consumer: Consumer = Object.freeze({
        id: item.id,
        plan: item.plan,
        scopes,
        via: 'apiKey',
        keyId,
      });
      index.keyEntries.push({ digest, consumer });
    });
  }
  return index;
}

interface PlacedConsumer {
  consumer: ConsumerConfig;
  /** Reports a problem at a place inside this consumer's entry. */
  report(at: ConfigPath, message: string): void;
}

/** The consumers of the config, read from the named file when there is one. */
async function readConsumers(
  consumers: ConsumersConfig,
  ctx: PolicyFactoryContext,
): Promise<PlacedConsumer[]> {
  if (Array.isArray(consumers)) {
    return consumers.map((consumer, index) => ({
      consumer,
      report: (at, message) => ctx.issue(['consumers', index, ...at], message),
    }));
  }
  const at: ConfigPath = ['consumers', 'file'];
  const file = path.resolve(ctx.baseDir, consumers.file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    ctx.issue(at, `cannot read the consumers file: ${(error as NodeJS.ErrnoException).code ?? error}`);
    return [];
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const where = (offset: number | undefined): string => {
    if (offset === undefined) return consumers.file;
    const { line, col } = lines.linePos(offset);
    return `${consumers.file}:${line}:${col}`;
  };
  const syntax = doc.errors[0];
  if (syntax) {
    ctx.issue(at, `${where(syntax.pos[0])} ${syntax.message.split('\n')[0]}`);
    return [];
  }
  const reportAt = (inFile: readonly (string | number)[], message: string): void => {
    // The deepest node that exists: a missing key is reported at its parent.
    let node: { range?: [number, number] } | undefined;
    for (let depth = inFile.length; depth >= 0 && node?.range === undefined; depth--) {
      node = doc.getIn(inFile.slice(0, depth), true) as { range?: [number, number] } | undefined;
    }
    const named = inFile.length > 0 ? `${formatPath(inFile)}: ` : '';
    ctx.issue(at, `${where(node?.range?.[0] ?? 0)} ${named}${message}`);
  };
  const parsed = z.array(consumerSchema).safeParse(doc.toJS());
  if (!parsed.success) {
    for (const problem of parsed.error.issues) reportAt(problem.path as (string | number)[], problem.message);
    return [];
  }
  return parsed.data.map((consumer, index) => ({
    consumer,
    report: (inEntry, message) => reportAt([index, ...inEntry], message),
  }));
}

function suggestion(known: string[]): string {
  return known.length === 0 ? ' (no plans are declared)' : ` (known: ${known.join(', ')})`;
}
