/**
 * The upstream cluster of one service called over HTTP: one pooled keep-alive undici client per
 * origin (with the service's client TLS), the balancer that picks the host of each attempt and
 * ejects failing ones, the health checks, and the exchange of one attempt: send, honour the
 * call's signal and time limit, read the answer within the size cap, let the connector decode
 * it, and tell the balancer how the host did. The exchange is an undici dispatch handler
 * (exchange-handler.ts): cheaper than `pool.request`'s stream, itself about three times cheaper
 * than `fetch`.
 */
import type { Logger } from 'pino';
import type { Dispatcher, Pool } from 'undici';
import type { CallContext, ConnectorCall, ConnectorResult, HostStatus } from '../../contracts/connector.ts';
import { isBackendFailure } from '../../errors/backend-failure.ts';
import {
  cancellation,
  decodeError,
  type OperationExtras,
  timeoutError,
  tooLarge,
} from '../../errors/call-errors.ts';
import { ChorusError } from '../../errors/catalogue.ts';
import { callLimit, timerDelay } from '../call-limit.ts';
import { closedWithinGrace } from '../close-grace.ts';
import type { Balancer } from './balancer.ts';
import { transportError } from './exchange-errors.ts';
import {
  type AnswerHead,
  CANCELLED,
  dispatchExchange,
  type ExchangeHandler,
  TIMED_OUT,
  TOO_LARGE,
  UndecodableAnswer,
} from './exchange-handler.ts';
import type { OutgoingHeaders } from './headers.ts';

/** What the exchange needs of a connector's compiled operation. */
export interface ExchangeOperation {
  readonly method: Dispatcher.HttpMethod;
  readonly extras: OperationExtras;
}

/**
 * Reads an answer into the connector's result, or throws its error (a status error, a decode
 * error); chosen per connector at load. A thrown 5xx counts against the host.
 */
export type AnswerDecoder<Op extends ExchangeOperation> = (
  op: Op,
  head: AnswerHead,
  body: Buffer,
  call: ConnectorCall,
  ctx: CallContext,
) => ConnectorResult;

/** The parts of a cluster, built at load by openCluster. */
export interface ClusterParts {
  readonly service: string;
  /** The connector kind, for log lines. */
  readonly kind: string;
  readonly balancer: Balancer<Pool>;
  readonly stopHealthChecks: (() => void) | undefined;
  readonly maxResponseBytes: number;
  readonly logger: Logger;
}

/** The hosts of one service and the exchange of one attempt with one of them. */
export class HttpCluster {
  readonly #service: string;
  readonly #kind: string;
  readonly #balancer: Balancer<Pool>;
  readonly #stopHealthChecks: (() => void) | undefined;
  readonly #maxResponseBytes: number;
  readonly #logger: Logger;
  #closing: Promise<void> | undefined;

  constructor(parts: ClusterParts) {
    this.#service = parts.service;
    this.#kind = parts.kind;
    this.#balancer = parts.balancer;
    this.#stopHealthChecks = parts.stopHealthChecks;
    this.#maxResponseBytes = parts.maxResponseBytes;
    this.#logger = parts.logger;
  }

  /**
   * One attempt: picks a host, sends the request, reads the answer within the size cap and the
   * call's time, and decodes it with `decode`; failures become catalogue errors, and whether the
   * host failed feeds its outlier ejection.
   */
  async exchange<Op extends ExchangeOperation>(
    op: Op,
    path: string,
    headers: OutgoingHeaders,
    body: string | null,
    call: ConnectorCall,
    ctx: CallContext,
    decode: AnswerDecoder<Op>,
  ): Promise<ConnectorResult> {
    // The engine already chose min(step timeout or service timeout, time left of the deadline).
    const limitMs = callLimit(call, op.extras);
    const signal = call.signal;

    // Each attempt (so each retry) picks its host; the outcome feeds outlier ejection.
    const host = this.#balancer.pick();
    const { handler, answer } = dispatchExchange(
      host.client,
      { path, method: op.method, headers, body },
      signal,
      timerDelay(call, limitMs),
      this.#maxResponseBytes,
    );
    let failure: boolean | undefined = false;
    try {
      const { head, body: raw } = await answer;
      return decode(op, head, raw, call, ctx);
    } catch (error) {
      const chorusError = asCallError(
        error,
        handler,
        op.extras,
        limitMs,
        call.deadlineBound,
        signal,
        this.#maxResponseBytes,
      );
      failure = isBackendFailure(chorusError, signal);
      throw chorusError;
    } finally {
      this.#balancer.release(host, failure);
    }
  }

  /** The hosts and their state, for status pages. */
  hosts(): HostStatus[] {
    return this.#balancer.status();
  }

  /** Stops the health checks and closes every pool, destroying connections still busy after a grace. */
  close(): Promise<void> {
    this.#stopHealthChecks?.();
    this.#closing ??= Promise.all(this.#balancer.hosts.map((host) => this.#closePool(host.client))).then(
      () => undefined,
    );
    return this.#closing;
  }

  async #closePool(pool: Pool): Promise<void> {
    if (!(await closedWithinGrace(pool.close()))) {
      this.#logger.warn(
        { service: this.#service },
        `${this.#kind} connector: calls still running after the close grace; destroying its connections`,
      );
      await pool.destroy();
    }
  }
}

/** The error of a failed attempt, as the catalogue names it. */
function asCallError(
  error: unknown,
  handler: ExchangeHandler,
  extras: OperationExtras,
  limitMs: number,
  deadlineBound: boolean,
  signal: AbortSignal,
  maxBytes: number,
): unknown {
  if (error instanceof ChorusError) return error;
  if (handler.state === TOO_LARGE) return tooLarge(extras, maxBytes);
  if (error instanceof UndecodableAnswer) return decodeError(extras, error.message, error.cause);
  if (handler.state === TIMED_OUT) return timeoutError(extras, limitMs, deadlineBound, error);
  if (handler.state === CANCELLED) return cancellation(extras, signal);
  return transportError(extras, error);
}
