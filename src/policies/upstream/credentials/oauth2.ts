/**
 * OAuth2 client credentials (RFC 6749 §4.4): a token is fetched from the token endpoint once,
 * kept until `refreshBefore` ahead of its expiry, and fetched again by one call only however many
 * calls need it at once (they all wait for the same request). The token request has a timeout;
 * failures become CHORUS_UPSTREAM_AUTH (502) without the secret or the endpoint's body.
 */
import type { Agent } from 'undici';
import { ChorusError } from '../../../errors/catalogue.ts';
import { parseUntrustedJson } from '../../../json/parse.ts';
import type { OAuth2CredentialsConfig } from './schema.ts';

const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
/** Used when the token endpoint does not say how long the token lasts. */
const DEFAULT_EXPIRES_IN_S = 300;

interface CachedToken {
  readonly value: string;
  /** Epoch ms after which a new token is fetched. */
  readonly renewAt: number;
}

/** Fetches and caches the tokens of one service. */
export class OAuth2TokenSource {
  readonly #service: string;
  readonly #url: string;
  readonly #body: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #refreshBeforeMs: number;
  readonly #dispatcher: Agent | undefined;
  #token: CachedToken | undefined;
  #pending: Promise<string> | undefined;

  constructor(service: string, config: OAuth2CredentialsConfig, dispatcher?: Agent) {
    this.#service = service;
    this.#url = config.tokenUrl;
    this.#timeoutMs = config.timeout;
    this.#refreshBeforeMs = config.refreshBefore;
    this.#dispatcher = dispatcher;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (config.scope !== undefined) form.set('scope', config.scope);
    if (config.audience !== undefined) form.set('audience', config.audience);
    this.#headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (config.clientAuth === 'basic') {
      // RFC 6749 §2.3.1: id and secret are form-encoded before the Basic encoding.
      const pair = `${encodeForm(config.clientId)}:${encodeForm(config.clientSecret)}`;
      this.#headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    } else {
      form.set('client_id', config.clientId);
      form.set('client_secret', config.clientSecret);
    }
    this.#body = form.toString();
  }

  /** The current token, fetching one when there is none or it is about to expire. */
  token(): Promise<string> {
    const cached = this.#token;
    if (cached !== undefined && Date.now() < cached.renewAt) return Promise.resolve(cached.value);
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Forgets a token the backend refused (401), so the next call fetches a new one. */
  invalidate(value: string): void {
    if (this.#token?.value === value) this.#token = undefined;
  }

  async #fetch(): Promise<string> {
    let status: number;
    let text: string;
    try {
      // undici's whole API (fetch, WebSocket…) only when a token is fetched: see
      // transports/http/undici-pool.ts for what `import 'undici'` costs every gateway at idle.
      const { request } = await import('undici');
      const response = await request(this.#url, {
        method: 'POST',
        headers: this.#headers,
        body: this.#body,
        signal: AbortSignal.timeout(this.#timeoutMs),
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        ...(this.#dispatcher === undefined ? {} : { dispatcher: this.#dispatcher }),
      });
      status = response.statusCode;
      const declared = Number(response.headers['content-length'] ?? 0);
      if (declared > MAX_TOKEN_RESPONSE_BYTES) {
        response.body.destroy();
        throw this.#error(`the token endpoint answered more than ${MAX_TOKEN_RESPONSE_BYTES} bytes`);
      }
      text = await response.body.text();
    } catch (error) {
      if (error instanceof ChorusError) throw error;
      const reason = (error as { name?: string; code?: string }).code ?? (error as Error).name;
      throw this.#error(`the token request failed (${reason})`, error);
    }
    if (status < 200 || status >= 300) {
      throw this.#error(`the token endpoint answered ${status}`);
    }
    let answer: unknown;
    try {
      answer = parseUntrustedJson(text);
    } catch (error) {
      throw this.#error('the token endpoint answered malformed JSON', error);
    }
    const fields = (typeof answer === 'object' && answer !== null ? answer : {}) as Record<string, unknown>;
    const value = fields.access_token;
    if (typeof value !== 'string' || value === '' || /[\r\n\0]/.test(value)) {
      throw this.#error('the token endpoint answered without a usable access_token');
    }
    const expiresIn =
      typeof fields.expires_in === 'number' && fields.expires_in > 0
        ? fields.expires_in
        : DEFAULT_EXPIRES_IN_S;
    const lifetimeMs = expiresIn * 1000;
    // A short-lived token is renewed at half its life rather than never cached.
    const renewInMs = Math.max(lifetimeMs - this.#refreshBeforeMs, lifetimeMs / 2);
    this.#token = { value, renewAt: Date.now() + renewInMs };
    return value;
  }

  #error(detail: string, cause?: unknown): ChorusError {
    return new ChorusError(
      'CHORUS_UPSTREAM_AUTH',
      `service "${this.#service}": could not get an OAuth2 token: ${detail}`,
      { cause, extras: { service: this.#service } },
    );
  }
}

function encodeForm(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
