/**
 * The circuit breaker of a service. Closed, it counts outcomes over a sliding window and opens
 * when the failure rate passes the threshold over a minimum number of calls, or after a run of
 * consecutive failures. Open, calls fail at once with CHORUS_CIRCUIT_OPEN (503, Retry-After)
 * without reaching the backend; after the cooldown it is half-open: a few probe calls go
 * through, and their success closes it (a failure opens it again). Only the backend's
 * availability counts: transport errors, timeouts, 5xx and unavailability are failures; 4xx
 * answers and refusals of the gateway's own policies (bulkhead) count as neither.
 */
import type { CallContext, ConnectorCall, ConnectorResult } from '../../../contracts/connector.ts';
import type { UpstreamHandler, UpstreamPolicy } from '../../../contracts/policy.ts';
import type { BreakerState, PolicyTelemetry } from '../../../contracts/telemetry.ts';
import { isBackendFailure } from '../../../errors/backend-failure.ts';
import { ChorusError } from '../../../errors/catalogue.ts';
import type { CircuitBreakerPolicyConfig } from './schema.ts';

const BUCKETS = 10;

/** What tryAcquire answers: refused, a normal call, or a half-open probe. */
export type Permit = 0 | 1 | 2;
export const REFUSED: Permit = 0;
export const CALL: Permit = 1;
export const PROBE: Permit = 2;

export type { BreakerState } from '../../../contracts/telemetry.ts';

/** A breaker's state and counts, for status pages. */
export interface BreakerStatus {
  readonly service: string;
  readonly state: BreakerState;
  /** Calls and failures in the current window. */
  readonly calls: number;
  readonly failures: number;
  /** Epoch ms when an open breaker lets probes through. */
  readonly retryAt?: number;
}

/** What the breaker decides at load. */
export interface BreakerOptions {
  readonly service: string;
  readonly failureRatio: number;
  readonly minimumCalls: number;
  readonly windowMs: number;
  readonly consecutiveFailures: number;
  readonly cooldownMs: number;
  readonly halfOpenProbes: number;
  /** Where state changes and refusals are reported. */
  readonly telemetry: PolicyTelemetry;
  readonly now?: () => number;
}

/** Builds the options from the config. */
export function breakerOptions(
  service: string,
  config: CircuitBreakerPolicyConfig,
  telemetry: PolicyTelemetry,
): BreakerOptions {
  return {
    service,
    failureRatio: config.failureRate / 100,
    minimumCalls: config.minimumCalls,
    windowMs: config.window,
    consecutiveFailures: config.consecutiveFailures,
    cooldownMs: config.cooldown,
    halfOpenProbes: config.halfOpenProbes,
    telemetry,
  };
}

/** One service's breaker: its state machine, usable on its own and as an upstream policy. */
export class CircuitBreaker {
  readonly service: string;
  readonly telemetry: PolicyTelemetry;
  readonly #options: BreakerOptions;
  readonly #now: () => number;
  readonly #bucketMs: number;
  readonly #calls = new Float64Array(BUCKETS);
  readonly #failures = new Float64Array(BUCKETS);
  readonly #epochs = new Float64Array(BUCKETS).fill(-1);
  #state: BreakerState = 'closed';
  #consecutive = 0;
  #openUntil = 0;
  /** Probes in flight while half-open, and probes that succeeded. */
  #probing = 0;
  #probed = 0;

  constructor(options: BreakerOptions) {
    this.service = options.service;
    this.telemetry = options.telemetry;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#bucketMs = Math.max(1, options.windowMs / BUCKETS);
    options.telemetry.breaker(this.service, 'closed');
  }

  /** The state now (an open breaker past its cooldown reads half-open). */
  get state(): BreakerState {
    if (this.#state === 'open' && this.#now() >= this.#openUntil) return 'half-open';
    return this.#state;
  }

  /** State and counts for a status page. */
  status(): BreakerStatus {
    let calls = 0;
    let failures = 0;
    const oldest = this.#epoch() - BUCKETS + 1;
    for (let i = 0; i < BUCKETS; i++) {
      if (this.#epochs[i]! < oldest) continue;
      calls += this.#calls[i]!;
      failures += this.#failures[i]!;
    }
    const state = this.state;
    return state === 'open'
      ? { service: this.service, state, calls, failures, retryAt: this.#openUntil }
      : { service: this.service, state, calls, failures };
  }

  /**
   * Asks to make a call: REFUSED, or a permit (CALL, or PROBE while half-open) to settle with
   * onSuccess, onFailure or onIgnored once the call is over.
   */
  tryAcquire(): Permit {
    if (this.#state === 'closed') return CALL;
    if (this.#state === 'open') {
      if (this.#now() < this.#openUntil) return REFUSED;
      this.#transition('half-open');
      this.#probing = 0;
      this.#probed = 0;
    }
    if (this.#probing + this.#probed >= this.#options.halfOpenProbes) return REFUSED;
    this.#probing++;
    return PROBE;
  }

  /** Milliseconds until an open breaker lets a probe through. */
  retryAfterMs(): number {
    return Math.max(0, this.#openUntil - this.#now());
  }

  onSuccess(permit: Permit = CALL): void {
    if (permit === PROBE) {
      if (this.#state !== 'half-open') return; // settled after another probe reopened the breaker
      this.#probing--;
      this.#probed++;
      if (this.#probed >= this.#options.halfOpenProbes) this.#close();
      return;
    }
    // A call let through before the breaker opened says nothing about it now.
    if (this.#state !== 'closed') return;
    this.#consecutive = 0;
    this.#calls[this.#slot()]!++;
  }

  onFailure(permit: Permit = CALL): void {
    if (permit === PROBE) {
      if (this.#state !== 'half-open') return;
      this.#probing--;
      this.#open();
      return;
    }
    if (this.#state !== 'closed') return;
    const slot = this.#slot();
    this.#calls[slot]!++;
    this.#failures[slot]!++;
    this.#consecutive++;
    if (this.#consecutive >= this.#options.consecutiveFailures) {
      this.#open();
      return;
    }
    const { calls, failures } = this.status();
    if (calls >= this.#options.minimumCalls && failures / calls >= this.#options.failureRatio) this.#open();
  }

  /** A call that says nothing about the backend's health (cancelled, refused by the gateway). */
  onIgnored(permit: Permit = CALL): void {
    if (permit === PROBE && this.#state === 'half-open') this.#probing--;
  }

  #open(): void {
    this.#openUntil = this.#now() + this.#options.cooldownMs;
    this.#consecutive = 0;
    this.#transition('open');
  }

  #close(): void {
    this.#consecutive = 0;
    this.#epochs.fill(-1);
    this.#transition('closed');
  }

  #transition(state: BreakerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#options.telemetry.breaker(this.service, state);
  }

  #epoch(): number {
    return Math.floor(this.#now() / this.#bucketMs);
  }

  #slot(): number {
    const epoch = this.#epoch();
    const slot = epoch % BUCKETS;
    if (this.#epochs[slot] !== epoch) {
      this.#epochs[slot] = epoch;
      this.#calls[slot] = 0;
      this.#failures[slot] = 0;
    }
    return slot;
  }
}

/** The breaker as an upstream policy. */
export function circuitBreakerPolicy(breaker: CircuitBreaker): UpstreamPolicy {
  const service = breaker.service;
  const telemetry = breaker.telemetry;
  return (next: UpstreamHandler): UpstreamHandler =>
    async (call: ConnectorCall, ctx: CallContext): Promise<ConnectorResult> => {
      const permit = breaker.tryAcquire();
      if (permit === REFUSED) {
        telemetry.upstreamRejected(service, 'circuit_open');
        ctx.span?.addEvent('circuit.open', { service });
        const seconds = Math.max(1, Math.ceil(breaker.retryAfterMs() / 1000));
        throw new ChorusError(
          'CHORUS_CIRCUIT_OPEN',
          `service "${service}" is not called for now: its circuit breaker is open after repeated failures`,
          { extras: { service, operation: call.operation }, headers: { 'retry-after': String(seconds) } },
        );
      }
      let result: ConnectorResult;
      try {
        result = await next(call, ctx);
      } catch (error) {
        const failure = isBackendFailure(error, call.signal);
        if (failure === true) {
          const before = breaker.state;
          breaker.onFailure(permit);
          if (before !== 'open' && breaker.state === 'open') {
            ctx.logger.warn({ service }, 'circuit breaker opened');
          }
        } else if (failure === false) breaker.onSuccess(permit);
        else breaker.onIgnored(permit);
        throw error;
      }
      breaker.onSuccess(permit);
      return result;
    };
}
