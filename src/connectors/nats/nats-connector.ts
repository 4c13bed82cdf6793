/**
 * The `nats` connector: calls backends that answer on NATS subjects (request/reply), and
 * publishes events, through one connection per service made with the `nats` client. Subjects,
 * headers and limits are compiled once in createNatsConnector; a call fills in its own data.
 *
 * The connection is made in the background, so a broker that is down never blocks loading:
 * `ready()` stays false until the first connection is up. After that the client reconnects by
 * itself (forever, every `reconnectWait`); while it is away, calls fail at once with
 * CHORUS_UPSTREAM_UNAVAILABLE instead of being queued until their timeout.
 */
import {
  type ConnectionOptions,
  connect,
  Events,
  Match,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  headers as natsHeaders,
} from 'nats';
import type { Logger } from 'pino';
import { parseDuration, parseSize } from '../../config/units.ts';
import type {
  CallContext,
  Connector,
  ConnectorCall,
  ConnectorFactoryContext,
  ConnectorInput,
  ConnectorIssue,
  ConnectorResult,
  OperationDescription,
} from '../../contracts/connector.ts';
import { ChorusError, type ErrorCode } from '../../errors/catalogue.ts';
import { parseUntrustedJson } from '../../json/parse.ts';
import { closedWithinGrace } from '../../transports/close-grace.ts';
import { type PlaceholderTemplate, parsePlaceholders } from '../../transports/placeholder-template.ts';
import { unknownOperation } from '../call-errors.ts';
import type { NatsOperationConfig, NatsServiceConfig } from './schema.ts';

/** setTimeout fires at once (with a warning) above this, so longer limits are clamped to it. */
const MAX_TIMER_MS = 2_147_483_647;
/** How long one attempt to open the first connection may take. */
const CONNECT_TIMEOUT_MS = 5_000;
/** The longest pause between attempts to open the first connection. */
const MAX_CONNECT_BACKOFF_MS = 2_000;
/** Pings find a server that vanished without closing the socket within about 3 × this. */
const PING_INTERVAL_MS = 10_000;
/** How long close() waits for the client to flush and close before it lets go. */

/** A subject: dot-separated non-empty tokens, no whitespace or control characters, no wildcards. */
const SUBJECT = /^[^\s\p{Cc}.*>]+(?:\.[^\s\p{Cc}.*>]+)*$/u;
/** What a value filled into a subject may not contain: it must stay one plain token. */
const UNSAFE_TOKEN = /[\s\p{Cc}.*>]/u;
/** NATS header names: visible ASCII except ':' (what the client accepts). */
const HEADER_NAME = /^[!-9;-~]+$/;
const INVALID_HEADER_VALUE = /[\r\n\0]/;
/** A header a NATS micro service sets on an error reply (the `services` framework of every client). */
const SERVICE_ERROR = 'Nats-Service-Error';
const SERVICE_ERROR_CODE = 'Nats-Service-Error-Code';

const EMPTY = new Uint8Array(0);

/** The public fields every error of one operation carries. */
// A type alias, not an interface, so it is assignable to ProblemExtras' index signature.
type OperationExtras = { readonly service: string; readonly operation: string };

/** One operation with everything its calls need precomputed. */
interface CompiledOperation {
  readonly name: string;
  readonly mode: NatsOperationConfig['mode'];
  readonly json: boolean;
  /** Literal subject pieces around the placeholders; one more entry than `params`. */
  readonly literals: readonly string[];
  readonly params: readonly string[];
  /** Service and operation headers merged, as [name, value] pairs. */
  readonly headers: readonly (readonly [string, string])[];
  readonly extras: OperationExtras;
}

/** Creates the connector of one `nats` service, or the issues that keep its config from loading. */
export async function createNatsConnector(
  config: NatsServiceConfig,
  ctx: ConnectorFactoryContext,
): Promise<Connector | { issues: ConnectorIssue[] }> {
  const issues: ConnectorIssue[] = [];
  const service = ctx.service;

  const listed = typeof config.servers === 'string' ? [config.servers] : config.servers;
  // The client ignores credentials in server URLs, so they are taken out and sent as options.
  const servers: string[] = [];
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
    servers.push(parsed.url);
    if (parsed.auth === undefined) return;
    if (urlAuth !== undefined && JSON.stringify(urlAuth) !== JSON.stringify(parsed.auth)) {
      issues.push({ path: at, message: 'the server URLs carry different credentials; give one set' });
    }
    urlAuth ??= parsed.auth;
  });
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
  const maxPayloadBytes = parseSize(config.maxPayloadBytes);
  if (maxPayloadBytes === undefined) {
    issues.push({ path: ['maxPayloadBytes'], message: 'expected a size such as 1024, "512kb" or "1mb"' });
  }
  const reconnectWaitMs = parseDuration(config.reconnectWait);
  if (reconnectWaitMs === undefined || reconnectWaitMs <= 0) {
    issues.push({
      path: ['reconnectWait'],
      message: 'reconnectWait must be a duration above 0, such as "250ms"',
    });
  }

  const serviceHeaders = compileHeaders(config.headers, ['headers'], issues);
  const operations = new Map<string, CompiledOperation>();
  const descriptions: OperationDescription[] = [];
  for (const [name, operation] of Object.entries(config.operations)) {
    const template = parseSubjectTemplate(operation.subject);
    if (typeof template === 'string') {
      issues.push({ path: ['operations', name, 'subject'], message: template });
      continue;
    }
    const operationHeaders = compileHeaders(operation.headers, ['operations', name, 'headers'], issues);
    operations.set(name, {
      name,
      mode: operation.mode,
      json: operation.payload === 'json',
      literals: template.literals,
      params: template.params,
      headers: Object.freeze(mergeHeaders(serviceHeaders, operationHeaders)),
      extras: Object.freeze({ service, operation: name }),
    });
    const description: OperationDescription = {
      name,
      requiredParams: Object.freeze([...new Set(template.params)]),
      // A message may be handled twice if it is sent twice: never retried unless declared.
      idempotent: false,
      subject: operation.subject,
      mode: operation.mode,
    };
    if (operation.summary !== undefined) description.summary = operation.summary;
    descriptions.push(Object.freeze(description));
  }

  if (issues.length > 0 || maxPayloadBytes === undefined || reconnectWaitMs === undefined) {
    return { issues };
  }

  const options: ConnectionOptions = {
    servers,
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
  if (servers.some((server) => server.startsWith('tls:'))) options.tls = {};
  const user = config.user ?? urlAuth?.user;
  const pass = config.pass ?? urlAuth?.pass;
  const token = config.token ?? urlAuth?.token;
  if (user !== undefined) options.user = user;
  if (pass !== undefined) options.pass = pass;
  if (token !== undefined) options.token = token;

  const connector = new NatsConnector({
    service,
    options,
    shownServers: servers.join(','),
    reconnectWaitMs,
    operations,
    descriptions: Object.freeze(descriptions),
    maxPayloadBytes,
    logger: ctx.logger,
  });
  connector.start();
  return connector;
}

interface NatsConnectorParts {
  service: string;
  options: ConnectionOptions;
  /** The server URLs without credentials, for logs. */
  shownServers: string;
  reconnectWaitMs: number;
  operations: ReadonlyMap<string, CompiledOperation>;
  descriptions: readonly OperationDescription[];
  maxPayloadBytes: number;
  logger: Logger;
}

/** A live `nats` connector: one connection, kept up in the background. */
class NatsConnector implements Connector {
  readonly kind = 'nats';
  readonly service: string;
  readonly #options: ConnectionOptions;
  readonly #shownServers: string;
  readonly #reconnectWaitMs: number;
  readonly #operations: ReadonlyMap<string, CompiledOperation>;
  readonly #descriptions: readonly OperationDescription[];
  readonly #maxPayloadBytes: number;
  readonly #logger: Logger;
  /** Calls waiting for a reply or a flush; failed at once when the connection drops. */
  readonly #inflight = new Set<PendingCall>();
  #nc: NatsConnection | undefined;
  /** Whether the connection is up now (false while the client reconnects). */
  #connected = false;
  #closing = false;
  #closed: Promise<void> | undefined;
  #attempts = 0;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(parts: NatsConnectorParts) {
    this.service = parts.service;
    this.#options = parts.options;
    this.#shownServers = parts.shownServers;
    this.#reconnectWaitMs = parts.reconnectWaitMs;
    this.#operations = parts.operations;
    this.#descriptions = parts.descriptions;
    this.#maxPayloadBytes = parts.maxPayloadBytes;
    this.#logger = parts.logger;
  }

  /** Starts connecting in the background; the first connection is retried until it succeeds. */
  start(): void {
    this.#retryTimer = undefined;
    if (this.#closing) return;
    connect(this.#options).then(
      (nc) => this.#attach(nc),
      (error: unknown) => this.#retryLater(error),
    );
  }

  #retryLater(error: unknown): void {
    if (this.#closing) return;
    this.#attempts++;
    const fields = { service: this.service, servers: this.#shownServers, reason: natsCode(error) };
    // Once loudly, then quietly: a broker that stays down must not flood the log.
    if (this.#attempts === 1) this.#logger.warn(fields, 'nats connector: cannot connect; retrying');
    else this.#logger.debug({ ...fields, attempt: this.#attempts }, 'nats connector: still cannot connect');
    const wait = Math.min(
      MAX_CONNECT_BACKOFF_MS,
      this.#reconnectWaitMs * 2 ** Math.min(this.#attempts - 1, 8),
    );
    this.#retryTimer = setTimeout(() => this.start(), wait);
  }

  #attach(nc: NatsConnection): void {
    if (this.#closing) {
      void nc.close().catch(ignoreError);
      return;
    }
    this.#nc = nc;
    this.#connected = true;
    this.#attempts = 0;
    this.#logger.info({ service: this.service, server: nc.getServer() }, 'nats connector: connected');
    void this.#watch(nc);
    void nc.closed().then((error) => {
      if (this.#nc !== nc) return;
      this.#nc = undefined;
      this.#lost('the connection to the NATS server closed');
      if (this.#closing) return;
      // The client gave up (e.g. refused credentials): start over, as for the first connection.
      this.#logger.warn(
        { service: this.service, reason: natsCode(error) },
        'nats connector: connection closed; connecting again',
      );
      this.#retryLater(error);
    });
  }

  /** Follows the client's status events: readiness goes down on a disconnect, up on a reconnect. */
  async #watch(nc: NatsConnection): Promise<void> {
    try {
      for await (const status of nc.status()) {
        if (this.#nc !== nc) return;
        if (status.type === Events.Disconnect) {
          this.#logger.warn({ service: this.service }, 'nats connector: disconnected; reconnecting');
          this.#lost('the NATS server connection was lost');
        } else if (status.type === Events.Reconnect) {
          this.#connected = true;
          this.#logger.info({ service: this.service, server: nc.getServer() }, 'nats connector: reconnected');
        } else if (status.type === Events.Error) {
          this.#logger.warn({ service: this.service, reason: String(status.data) }, 'nats connector: error');
        }
      }
    } catch (error) {
      this.#logger.debug({ service: this.service, err: error }, 'nats connector: status stream ended');
    }
  }

  /** The connection went away: calls waiting on it cannot be answered through it any more. */
  #lost(reason: string): void {
    this.#connected = false;
    for (const pending of this.#inflight) pending.fail(unavailable(pending.op, reason));
  }

  async call(call: ConnectorCall, _ctx: CallContext): Promise<ConnectorResult> {
    const op = this.#operations.get(call.operation);
    if (op === undefined) {
      throw unknownOperation(this.service, call.operation);
    }
    const input = call.input;
    const subject = buildSubject(op, input.params);
    const headers = buildHeaders(op, call.headers, input.headers);
    const payload = encodePayload(op, input.body);

    const limitMs = Math.min(call.timeoutMs, MAX_TIMER_MS);
    const signal = call.signal;
    if (signal.aborted) throw cancellation(op, signal);
    if (limitMs <= 0) throw timeoutError(op, limitMs, call.deadlineBound);
    const nc = this.#nc;
    if (nc === undefined || !this.#connected) {
      throw unavailable(op, this.#closing ? 'the connector is closed' : 'not connected to the NATS server');
    }

    const pending = new PendingCall(op, signal, limitMs, call.deadlineBound, this.#inflight);
    const options = headers === undefined ? undefined : { headers };
    try {
      if (op.mode === 'publish') {
        nc.publish(subject, payload, options);
        // The flush round trip means the server has the message: published, not only buffered.
        nc.flush().then(pending.resolve, pending.reject);
      } else {
        // The client's own timer is a backstop; the call's timer fires first and decides the error.
        const backstop = Math.min(limitMs + 1_000, MAX_TIMER_MS);
        nc.request(subject, payload, { timeout: backstop, ...options }).then(pending.resolve, pending.reject);
      }
    } catch (error) {
      pending.reject(error);
    }
    const outcome = await pending.promise;
    if (op.mode === 'publish') return { output: { published: true, subject } };
    return decodeReply(op, outcome as Msg, this.#maxPayloadBytes, call.raw === true);
  }

  describe(): readonly OperationDescription[] {
    return this.#descriptions;
  }

  ready(): boolean {
    return this.#connected && !this.#closing;
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#retryTimer);
    const nc = this.#nc;
    this.#nc = undefined;
    this.#lost('the connector is closed');
    if (nc === undefined) return;
    await closedWithinGrace(nc.close());
  }
}

/**
 * One call waiting for its reply (or flush): settled by the answer, its timer, the caller's
 * signal or a lost connection, whichever comes first; the others are then ignored, so a late
 * reply is dropped. It is its own abort listener (handleEvent) and the timer gets it as an
 * argument; `resolve` and `reject` are the handlers given to the client's promise.
 */
class PendingCall {
  readonly op: CompiledOperation;
  readonly promise: Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  #settle!: (value: unknown) => void;
  #fail!: (error: unknown) => void;
  #done = false;
  readonly #signal: AbortSignal;
  readonly #timer: NodeJS.Timeout;
  readonly #limitMs: number;
  readonly #deadlineBound: boolean;
  readonly #registry: Set<PendingCall>;

  constructor(
    op: CompiledOperation,
    signal: AbortSignal,
    limitMs: number,
    deadlineBound: boolean,
    registry: Set<PendingCall>,
  ) {
    this.op = op;
    this.promise = new Promise((resolve, reject) => {
      this.#settle = resolve;
      this.#fail = reject;
    });
    this.resolve = (value) => this.#finish(value, undefined, false);
    this.reject = (error) => this.#finish(undefined, translate(op, error, limitMs, deadlineBound), true);
    this.#signal = signal;
    this.#limitMs = limitMs;
    this.#deadlineBound = deadlineBound;
    this.#registry = registry;
    registry.add(this);
    signal.addEventListener('abort', this, { once: true });
    this.#timer = setTimeout(expire, limitMs, this);
  }

  /** The caller's signal fired. */
  handleEvent(): void {
    this.#finish(undefined, cancellation(this.op, this.#signal), true);
  }

  expire(): void {
    this.#finish(undefined, timeoutError(this.op, this.#limitMs, this.#deadlineBound), true);
  }

  fail(error: ChorusError): void {
    this.#finish(undefined, error, true);
  }

  #finish(value: unknown, error: unknown, failed: boolean): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.#signal.removeEventListener('abort', this);
    this.#registry.delete(this);
    if (failed) this.#fail(error);
    else this.#settle(value);
  }
}

function expire(pending: PendingCall): void {
  pending.expire();
}

function ignoreError(): void {}

// ---------------------------------------------------------------------------------------------
// Load time

/** Splits a subject into literal pieces and {name} placeholders, and checks it is a valid subject. */
function parseSubjectTemplate(subject: string): PlaceholderTemplate | string {
  const parsed = parsePlaceholders(subject, `subject "${subject}"`);
  if (typeof parsed === 'string') return parsed;
  const { literals } = parsed;
  // Checked with every placeholder standing for one token: values are checked the same way per call.
  if (!SUBJECT.test(literals.join('x'))) {
    return `subject "${subject}" is not a valid subject: dot-separated tokens without spaces, and no wildcards (* or >)`;
  }
  return parsed;
}

/** Checks static headers and returns them as [name, value] pairs. */
function compileHeaders(
  headers: Record<string, string> | undefined,
  path: readonly (string | number)[],
  issues: ConnectorIssue[],
): [string, string][] {
  const compiled: [string, string][] = [];
  if (headers === undefined) return compiled;
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) {
      issues.push({ path: [...path, name], message: `"${name}" is not a valid NATS header name` });
    } else if (INVALID_HEADER_VALUE.test(value)) {
      issues.push({
        path: [...path, name],
        message: `header "${name}" has a control character (CR, LF, NUL) in its value`,
      });
    } else compiled.push([name, value]);
  }
  return compiled;
}

/** Operation headers after the service's, a later name replacing an earlier one whatever its case. */
function mergeHeaders(
  service: readonly [string, string][],
  operation: readonly [string, string][],
): [string, string][] {
  const merged = new Map<string, [string, string]>();
  for (const pair of [...service, ...operation]) merged.set(pair[0].toLowerCase(), pair);
  return [...merged.values()];
}

type ServerAuth =
  | { user: string; pass: string; token?: undefined }
  | { token: string; user?: undefined; pass?: undefined };

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

// ---------------------------------------------------------------------------------------------
// Call time

function buildSubject(op: CompiledOperation, params: ConnectorInput['params']): string {
  const names = op.params;
  let subject = op.literals[0]!;
  for (let index = 0; index < names.length; index++) {
    const name = names[index]!;
    const value = params === undefined || params === null ? undefined : params[name];
    subject += subjectToken(op, name, value) + op.literals[index + 1]!;
  }
  return subject;
}

function subjectToken(op: CompiledOperation, name: string, value: unknown): string {
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : undefined;
  if (text === undefined) {
    const problem = value === undefined || value === null ? 'is missing' : 'is not a string or number';
    throw internal(
      op,
      `operation "${op.name}" of service "${op.extras.service}": subject param "${name}" ${problem} in input.params`,
    );
  }
  // A "." would add tokens, "*" or ">" make a wildcard, whitespace split the protocol line: the
  // value could then reach another subject. Such values come from request data: the client's error.
  if (text === '' || UNSAFE_TOKEN.test(text)) {
    const problem = text === '' ? 'cannot be empty' : 'cannot contain ".", "*", ">" or whitespace';
    throw new ChorusError(
      'CHORUS_VALIDATION_FAILED',
      `subject parameter "${name}" of ${op.extras.service}.${op.name} ${problem}`,
      { extras: { ...op.extras, errors: [{ field: `params.${name}`, message: problem }] } },
    );
  }
  return text;
}

/** Static headers, then the propagated ones, then input.headers; a later name wins whatever its case. */
function buildHeaders(
  op: CompiledOperation,
  propagated: Record<string, string>,
  inputHeaders: unknown,
): MsgHdrs | undefined {
  const hasInput = inputHeaders !== undefined && inputHeaders !== null;
  const propagatedNames = Object.keys(propagated);
  if (op.headers.length === 0 && propagatedNames.length === 0 && !hasInput) return undefined;
  const headers = natsHeaders();
  for (const [name, value] of op.headers) headers.set(name, value);
  for (const name of propagatedNames) setHeader(op, headers, name, propagated[name]!);
  if (!hasInput) return headers;
  if (typeof inputHeaders !== 'object' || Array.isArray(inputHeaders)) {
    throw internal(
      op,
      `operation "${op.name}" of service "${op.extras.service}": input.headers must be an object`,
    );
  }
  const record = inputHeaders as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    const value = record[name];
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') setHeader(op, headers, name, value);
    else if (typeof value === 'number' || typeof value === 'boolean')
      setHeader(op, headers, name, String(value));
    else if (
      Array.isArray(value) &&
      value.every((item) => typeof item === 'string' || typeof item === 'number')
    ) {
      headers.delete(name, Match.IgnoreCase);
      for (const item of value) appendHeader(op, headers, name, String(item));
    } else {
      throw internal(
        op,
        `operation "${op.name}" of service "${op.extras.service}": input header "${name}" must be a string or a number`,
      );
    }
  }
  return headers;
}

function setHeader(op: CompiledOperation, headers: MsgHdrs, name: string, value: string): void {
  headers.delete(name, Match.IgnoreCase);
  appendHeader(op, headers, name, value);
}

function appendHeader(op: CompiledOperation, headers: MsgHdrs, name: string, value: string): void {
  if (!HEADER_NAME.test(name)) {
    throw internal(
      op,
      `operation "${op.name}" of service "${op.extras.service}": "${name}" is not a valid NATS header name`,
    );
  }
  // A line break would end the header block early; such values come from request data.
  if (INVALID_HEADER_VALUE.test(value)) {
    throw new ChorusError(
      'CHORUS_VALIDATION_FAILED',
      `header "${name}" for ${op.extras.service}.${op.name} contains a line break`,
      { extras: { ...op.extras, errors: [{ field: `headers.${name}`, message: 'contains a line break' }] } },
    );
  }
  headers.append(name, value);
}

/** input.body as the message payload: JSON text in json mode, the string itself in raw mode. */
function encodePayload(op: CompiledOperation, body: unknown): string | Uint8Array {
  if (body === undefined) return EMPTY;
  if (!op.json) {
    if (typeof body === 'string') return body;
    if (body === null) return EMPTY;
    throw internal(
      op,
      `operation "${op.name}" of service "${op.extras.service}": input.body must be a string (payload: raw)`,
    );
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(body);
  } catch (error) {
    throw internal(
      op,
      `operation "${op.name}" of service "${op.extras.service}": input.body cannot be serialised as JSON`,
      error,
    );
  }
  return json ?? EMPTY;
}

function decodeReply(
  op: CompiledOperation,
  msg: Msg,
  maxBytes: number,
  forwardOnly: boolean,
): ConnectorResult {
  const data = msg.data;
  if (data.length > maxBytes) {
    throw new ChorusError(
      'CHORUS_UPSTREAM_TOO_LARGE',
      `service "${op.extras.service}" operation "${op.name}" answered more than ${maxBytes} bytes (maxPayloadBytes)`,
      { extras: op.extras },
    );
  }
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const replyHeaders = msg.headers;
  const errorCode = replyHeaders?.get(SERVICE_ERROR_CODE, Match.IgnoreCase) ?? '';
  if (errorCode !== '') {
    const description = replyHeaders?.get(SERVICE_ERROR, Match.IgnoreCase) ?? '';
    throw new ChorusError(
      'CHORUS_UPSTREAM_PROTOCOL',
      `service "${op.extras.service}" operation "${op.name}" answered a service error ${errorCode}${description === '' ? '' : `: ${description}`}`,
      {
        extras: { ...op.extras, serviceErrorCode: errorCode, serviceError: description },
        data: serviceErrorData(op, errorCode, bytes),
      },
    );
  }
  if (!op.json) return { output: bytes.toString('utf8') };
  if (bytes.length === 0) return { output: null };
  // Forwarded as the whole response: copied, since the client may reuse the buffer it read into.
  if (forwardOnly) return { output: undefined, raw: Buffer.from(bytes) };
  try {
    return { output: parseUntrustedJson(bytes.toString('utf8')) };
  } catch (error) {
    throw new ChorusError(
      'CHORUS_UPSTREAM_DECODE',
      `service "${op.extras.service}" operation "${op.name}" answered malformed JSON`,
      { cause: error, extras: op.extras },
    );
  }
}

/**
 * What an onError fallback reads of a service error: `error.status` is its code when that is a
 * number (the micro services framework uses HTTP-like codes), `error.body` the reply, parsed when
 * it is JSON.
 */
function serviceErrorData(
  op: CompiledOperation,
  code: string,
  bytes: Buffer,
): { status?: number; body: unknown } {
  const text = bytes.toString('utf8');
  let body: unknown = text === '' ? null : text;
  if (op.json && text !== '') {
    try {
      body = parseUntrustedJson(text);
    } catch {
      // not JSON: the text is kept
    }
  }
  const status = Number(code);
  return Number.isInteger(status) ? { status, body } : { body };
}

// ---------------------------------------------------------------------------------------------
// Errors

/** Maps what the client rejected with to a catalogue error. */
function translate(op: CompiledOperation, error: unknown, limitMs: number, deadlineBound: boolean): unknown {
  if (error instanceof ChorusError) return error;
  const code = natsCode(error);
  switch (code) {
    case '503':
      return new ChorusError(
        'CHORUS_UPSTREAM_UNAVAILABLE',
        `service "${op.extras.service}" operation "${op.name}": no responder is listening on its subject`,
        { cause: error, retryable: true, extras: { ...op.extras, reason: 'no responders' } },
      );
    case 'TIMEOUT':
      return timeoutError(op, limitMs, deadlineBound);
    case 'CONNECTION_CLOSED':
    case 'CONNECTION_DRAINING':
    case 'DISCONNECT':
      return unavailable(op, 'not connected to the NATS server');
    case 'MAX_PAYLOAD_EXCEEDED':
      return new ChorusError(
        'CHORUS_UPSTREAM_TRANSPORT',
        `service "${op.extras.service}" operation "${op.name}": the message is larger than the server's max_payload`,
        { cause: error, extras: op.extras },
      );
    default:
      return new ChorusError(
        'CHORUS_UPSTREAM_TRANSPORT',
        `service "${op.extras.service}" operation "${op.name}": NATS error ${code}`,
        {
          cause: error,
          retryable: code !== 'PERMISSIONS_VIOLATION' && code !== 'AUTHORIZATION_VIOLATION',
          extras: { ...op.extras, natsCode: code },
        },
      );
  }
}

function natsCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (error instanceof Error) return error.name;
  }
  return 'unknown error';
}

function internal(op: CompiledOperation, message: string, cause?: unknown): ChorusError {
  return new ChorusError('CHORUS_INTERNAL', message, { cause, extras: op.extras });
}

function unavailable(op: CompiledOperation, reason: string): ChorusError {
  return new ChorusError(
    'CHORUS_UPSTREAM_UNAVAILABLE',
    `service "${op.extras.service}" operation "${op.name}": ${reason}`,
    {
      retryable: true,
      extras: op.extras,
    },
  );
}

function timeoutError(op: CompiledOperation, limitMs: number, deadlineBound: boolean): ChorusError {
  const code: ErrorCode = deadlineBound ? 'CHORUS_DEADLINE_EXCEEDED' : 'CHORUS_UPSTREAM_TIMEOUT';
  return new ChorusError(
    code,
    `service "${op.extras.service}" operation "${op.name}" did not answer within ${Math.max(0, limitMs)} ms`,
    { retryable: !deadlineBound, extras: op.extras },
  );
}

/** The caller cancelled: its reason is rethrown as it is, since the engine knows why it cancelled. */
function cancellation(op: CompiledOperation, signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return internal(op, `service "${op.extras.service}" operation "${op.name}" was cancelled`, reason);
}
