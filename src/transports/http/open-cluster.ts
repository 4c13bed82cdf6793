/**
 * Load time of the HTTP transport: the service's base URLs (`url` or `urls`), its limits and
 * client TLS read and checked once, then the cluster opened: one pool per origin, the balancer
 * and the health checks. Problems are reported as issues on the key at fault.
 */
import type { Logger } from 'pino';
import type { ConnectorIssue } from '../../contracts/connector.ts';
import { Balancer, balancerOptions } from './balancer.ts';
import { readClientTls, type TlsConnectOptions } from './client-tls.ts';
import { HttpCluster } from './cluster.ts';
import { startHealthChecks } from './health-check.ts';
import type { ClientTlsConfig, LoadBalancingConfig } from './schema.ts';
import { Pool, type PoolOptions } from './undici-pool.ts';

const DEFAULT_TIMEOUT_MS = 10_000;

/** The keys every HTTP-based service has (urlServiceFields and the pool settings). */
export interface HttpServiceFields {
  readonly url?: string | undefined;
  readonly urls?: readonly string[] | undefined;
  readonly loadBalancing?: LoadBalancingConfig | undefined;
  readonly tls?: ClientTlsConfig | undefined;
  /** Milliseconds, bytes: the schema parsed "5s" and "10mb" into numbers. */
  readonly timeout?: number | undefined;
  readonly keepAliveTimeout: number;
  readonly maxResponseBytes: number;
  readonly connections: number;
}

/** How a connector's URLs are checked. */
export interface UrlRules {
  /** Where credentials belong instead of the url; undefined: credentials are not checked. */
  readonly credentialsHint?: string;
  /** Whether every url must also share its query (endpoint URLs, whose query is sent). */
  readonly sameQuery?: boolean;
}

/** The limits and TLS of a service's pools, read from its config. */
export interface TransportLimits {
  readonly timeoutMs: number;
  readonly keepAliveMs: number;
  readonly maxResponseBytes: number;
  readonly connections: number;
  readonly tls: TlsConnectOptions | undefined;
  readonly loadBalancing: LoadBalancingConfig | undefined;
}

/** Who the cluster serves, for its log lines, and where health checks' paths start. */
export interface ClusterOwner {
  readonly service: string;
  readonly kind: string;
  readonly logger: Logger;
  /** Prefix of the health check path: the base path of base URLs, '' for endpoint URLs. */
  readonly healthBasePath: string;
  /** `chorus test` only: opens the pool that stands in for an origin's (ConnectorFactoryContext.standIn). */
  readonly standInPool?: ((origin: string) => Pool) | undefined;
}

/** The config key of the index-th url: ['urls', index] or ['url']. */
export function urlKey(config: Pick<HttpServiceFields, 'urls'>, index: number): (string | number)[] {
  return config.urls ? ['urls', index] : ['url'];
}

/** The base URLs of `url` or `urls` (one of them required), each checked. */
export function readServiceUrls(
  config: Pick<HttpServiceFields, 'url' | 'urls'>,
  issues: ConnectorIssue[],
  rules: UrlRules,
): URL[] {
  const list = config.urls ?? (config.url === undefined ? [] : [config.url]);
  if (config.url !== undefined && config.urls !== undefined) {
    issues.push({ path: ['urls'], message: 'give url or urls, not both' });
  } else if (list.length === 0) {
    issues.push({ path: ['url'], message: 'give the service url (or urls, to balance over several)' });
  }
  const bases: URL[] = [];
  for (const [index, text] of list.entries()) {
    const url = checkUrl(text, urlKey(config, index), bases, issues, rules);
    if (url !== undefined) bases.push(url);
  }
  return bases;
}

/** One url, unless it is malformed, carries credentials, or does not fit the others. */
function checkUrl(
  text: string,
  at: (string | number)[],
  bases: readonly URL[],
  issues: ConnectorIssue[],
  rules: UrlRules,
): URL | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    issues.push({ path: at, message: `"${text}" is not a valid URL` });
    return undefined;
  }
  const first = bases[0];
  if (rules.credentialsHint !== undefined && (url.username !== '' || url.password !== '')) {
    issues.push({ path: at, message: `credentials in the url are not sent; ${rules.credentialsHint}` });
  } else if (first !== undefined && !samePath(first, url, rules.sameQuery === true)) {
    issues.push({
      path: at,
      message: `every url of a service must have the same path${rules.sameQuery ? ' and query' : ''}`,
    });
  } else if (bases.some((other) => other.origin === url.origin)) {
    issues.push({ path: at, message: `${url.origin} is listed twice` });
  } else {
    return url;
  }
  return undefined;
}

function samePath(a: URL, b: URL, withQuery: boolean): boolean {
  const trimmed = (url: URL): string => url.pathname.replace(/\/+$/, '');
  return trimmed(a) === trimmed(b) && (!withQuery || a.search === b.search);
}

/** The timeout, pool limits and client TLS of a service. */
export function readTransportLimits(
  config: HttpServiceFields,
  baseDir: string,
  issues: ConnectorIssue[],
): TransportLimits | undefined {
  const found = issues.length;
  let tls: TlsConnectOptions | undefined;
  if (config.tls !== undefined) {
    const read = readClientTls(config.tls, baseDir);
    if ('issues' in read) issues.push(...read.issues);
    else tls = read.options;
  }
  const timeoutMs = config.timeout ?? DEFAULT_TIMEOUT_MS;
  if (timeoutMs <= 0) {
    issues.push({ path: ['timeout'], message: 'the timeout must be a duration above 0, such as "5s"' });
  }
  const keepAliveMs = config.keepAliveTimeout;
  if (keepAliveMs <= 0) {
    issues.push({
      path: ['keepAliveTimeout'],
      message: 'keepAliveTimeout must be a duration above 0, such as "4s"',
    });
  }
  const maxResponseBytes = config.maxResponseBytes;
  if (issues.length > found) return undefined;
  return {
    timeoutMs,
    keepAliveMs,
    maxResponseBytes,
    connections: config.connections,
    tls,
    loadBalancing: config.loadBalancing,
  };
}

/**
 * Opens one pool per base URL's origin and the balancer over them, with health checks when the
 * service has them; `at` names the config key of each URL for issues.
 */
export function openCluster(
  bases: readonly URL[],
  limits: TransportLimits,
  owner: ClusterOwner,
  at: (index: number) => (string | number)[],
): HttpCluster | { issues: ConnectorIssue[] } {
  const hosts: { origin: string; client: Pool }[] = [];
  for (const [index, url] of bases.entries()) {
    try {
      const options: PoolOptions = {
        connections: limits.connections,
        keepAliveTimeout: limits.keepAliveMs,
        // Caps the idle time a backend's Keep-Alive hint may ask for, so the config value is the ceiling.
        keepAliveMaxTimeout: limits.keepAliveMs,
      };
      if (limits.tls !== undefined) options.connect = { ...limits.tls };
      const client = owner.standInPool?.(url.origin) ?? new Pool(url.origin, options);
      hosts.push({ origin: url.origin, client });
    } catch (error) {
      for (const host of hosts) void host.client.destroy();
      const reason = error instanceof Error ? error.message : String(error);
      return {
        issues: [{ path: at(index), message: `cannot create a client for ${url.origin}: ${reason}` }],
      };
    }
  }
  const balancer = new Balancer(hosts, balancerOptions(limits.loadBalancing));
  const healthCheck = limits.loadBalancing?.healthCheck;
  return new HttpCluster({
    service: owner.service,
    kind: owner.kind,
    balancer,
    stopHealthChecks:
      healthCheck === undefined
        ? undefined
        : startHealthChecks(balancer.hosts, owner.healthBasePath, healthCheck),
    maxResponseBytes: limits.maxResponseBytes,
    logger: owner.logger,
  });
}

/**
 * The cluster of a service whose operations' paths extend one base path (http, xml): its urls
 * and limits read, its operations compiled against the base path, its pools opened. Issues come
 * in the order of the config: urls, limits, then the operations'.
 */
export function openBasePathCluster<Compiled>(
  config: HttpServiceFields,
  owner: Omit<ClusterOwner, 'healthBasePath'> & { readonly baseDir: string },
  rules: UrlRules,
  compile: (basePath: string, issues: ConnectorIssue[]) => Compiled,
): { cluster: HttpCluster; compiled: Compiled } | { issues: ConnectorIssue[] } {
  const issues: ConnectorIssue[] = [];
  const bases = readServiceUrls(config, issues, rules);
  const limits = readTransportLimits(config, owner.baseDir, issues);
  // The URL parser already normalised the base path; its trailing "/" is dropped because every
  // operation path starts with one.
  const basePath = bases[0] === undefined ? '' : bases[0].pathname.replace(/\/+$/, '');
  const compiled = compile(basePath, issues);
  if (issues.length > 0 || bases.length === 0 || limits === undefined) return { issues };
  const { service, kind, logger, standInPool } = owner;
  const cluster = openCluster(
    bases,
    limits,
    { service, kind, logger, healthBasePath: basePath, standInPool },
    (index) => urlKey(config, index),
  );
  if ('issues' in cluster) return cluster;
  return { cluster, compiled };
}
