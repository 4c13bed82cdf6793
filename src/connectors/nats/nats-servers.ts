/**
 * The server side of a `nats` service at load: its server URLs (credentials taken out of them,
 * since the client ignores them there), where its credentials come from, and the client options
 * the connection is made with.
 */
import type { ConnectionOptions } from 'nats';
import type { ConnectorIssue } from '../../contracts/connector.ts';
import type { NatsServiceConfig } from './schema.ts';

/** How long one attempt to open the first connection may take. */
const CONNECT_TIMEOUT_MS = 5_000;
/** Pings find a server that vanished without closing the socket within about 3 × this. */
const PING_INTERVAL_MS = 10_000;

type ServerAuth =
  | { user: string; pass: string; token?: undefined }
  | { token: string; user?: undefined; pass?: undefined };

/** The server URLs without credentials, and the credentials they carried. */
export interface NatsServers {
  readonly urls: readonly string[];
  readonly urlAuth: ServerAuth | undefined;
}

/** Reads the server URLs and checks the credentials are given once and whole; problems go to `issues`. */
export function readServers(config: NatsServiceConfig, issues: ConnectorIssue[]): NatsServers {
  const listed = typeof config.servers === 'string' ? [config.servers] : config.servers;
  const urls: string[] = [];
  let urlAuth: ServerAuth | undefined;
  listed.forEach((server, index) => {
    const at = typeof config.servers === 'string' ? ['servers'] : ['servers', index];
    const parsed = parseServer(server);
    if (parsed === undefined) {
      issues.push({
        path: at,
        message: `"${redactServer(server)}" is not a NATS server URL (e.g. nats://127.0.0.1:4222)`,
      });
      return;
    }
    urls.push(parsed.url);
    if (parsed.auth === undefined) return;
    if (urlAuth !== undefined && JSON.stringify(urlAuth) !== JSON.stringify(parsed.auth)) {
      issues.push({ path: at, message: 'the server URLs carry different credentials; give one set' });
    }
    urlAuth ??= parsed.auth;
  });
  checkCredentials(config, urlAuth, issues);
  return { urls, urlAuth };
}

function checkCredentials(
  config: NatsServiceConfig,
  urlAuth: ServerAuth | undefined,
  issues: ConnectorIssue[],
): void {
  if (urlAuth !== undefined && (config.user !== undefined || config.token !== undefined)) {
    issues.push({
      path: ['servers'],
      message: 'credentials are in a server URL and in user/pass/token; give them in one place',
    });
  }
  if (config.pass !== undefined && config.user === undefined) {
    issues.push({ path: ['pass'], message: 'pass needs user' });
  }
  if (config.user !== undefined && config.pass === undefined) {
    issues.push({ path: ['user'], message: 'user needs pass' });
  }
  if (config.token !== undefined && config.user !== undefined) {
    issues.push({ path: ['token'], message: 'give either token or user and pass, not both' });
  }
}

/** The options of the service's client: reconnecting forever, pinging, with its credentials. */
export function clientOptions(
  config: NatsServiceConfig,
  service: string,
  servers: NatsServers,
  reconnectWaitMs: number,
): ConnectionOptions {
  const options: ConnectionOptions = {
    servers: [...servers.urls],
    name: config.name ?? `chorus:${service}`,
    timeout: CONNECT_TIMEOUT_MS,
    // Reconnects forever: a broker that comes back is used again without a restart.
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: reconnectWaitMs,
    reconnectJitter: Math.min(100, reconnectWaitMs),
    pingInterval: PING_INTERVAL_MS,
    maxPingOut: 2,
  };
  // tls:// asks for TLS (verified against the system's CAs); the client negotiates it after INFO.
  if (servers.urls.some((server) => server.startsWith('tls:'))) options.tls = {};
  const user = config.user ?? servers.urlAuth?.user;
  const pass = config.pass ?? servers.urlAuth?.pass;
  const token = config.token ?? servers.urlAuth?.token;
  if (user !== undefined) options.user = user;
  if (pass !== undefined) options.pass = pass;
  if (token !== undefined) options.token = token;
  return options;
}

/**
 * A server URL without its credentials (as given to the client and logged) and the credentials
 * it carried (`user:pass@`, or a lone `token@`); undefined when it is not a NATS server URL.
 */
function parseServer(server: string): { url: string; auth?: ServerAuth } | undefined {
  const withScheme = server.includes('://') ? server : `nats://${server}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'nats:' && url.protocol !== 'tls:') return undefined;
  if (
    url.hostname === '' ||
    (url.pathname !== '' && url.pathname !== '/') ||
    url.search !== '' ||
    url.hash !== ''
  ) {
    return undefined;
  }
  const bare = `${url.protocol}//${url.host}`;
  if (url.username === '' && url.password === '') return { url: bare };
  let user: string;
  let pass: string;
  try {
    user = decodeURIComponent(url.username);
    pass = decodeURIComponent(url.password);
  } catch {
    return undefined; // a malformed %-escape
  }
  const auth: ServerAuth = url.password === '' ? { token: user } : { user, pass };
  return { url: bare, auth };
}

function redactServer(server: string): string {
  return server.replace(/\/\/[^@/]*@/, '//***@');
}
