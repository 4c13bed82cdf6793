/**
 * The bulkhead of a service: at most maxConcurrent calls in flight, at most maxQueue waiting for
 * a slot (in arrival order); anything beyond fails at once with CHORUS_BULKHEAD_FULL (503), so a
 * slow backend cannot hold every socket and request of the gateway. A queued call leaves the
 * queue when its request is cancelled or its time (queueTimeout, else the call's own) runs out.
 */
import type { CallContext, ConnectorCall, ConnectorResult } from '../../../contracts/connector.ts';
import type { UpstreamHandler, UpstreamPolicy } from '../../../contracts/policy.ts';
import type { PolicyTelemetry } from '../../../contracts/telemetry.ts';
import { ChorusError } from '../../../errors/catalogue.ts';
import type { BulkheadPolicyConfig } from './schema.ts';

interface Waiter {
  resolve: (granted: boolean) => void;
}

/** Counts slots and queues waiters. */
export class Bulkhead {
  readonly service: string;
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  readonly queueTimeoutMs: number | undefined;
  /** Where refusals are reported. */
  readonly telemetry: PolicyTelemetry;
  #active = 0;
  readonly #queue: Waiter[] = [];

  constructor(service: string, config: BulkheadPolicyConfig, telemetry: PolicyTelemetry) {
    this.service = service;
    this.maxConcurrent = config.maxConcurrent;
    this.maxQueue = config.maxQueue;
    this.queueTimeoutMs = config.queueTimeout;
    this.telemetry = telemetry;
  }

  /** Calls in flight and waiting, for status pages. */
  get active(): number {
    return this.#active;
  }
  get queued(): number {
    return this.#queue.length;
  }

  /** Takes a slot now: true, or false when none is free. */
  tryTake(): boolean {
    if (this.#active < this.maxConcurrent) {
      this.#active++;
      return true;
    }
    return false;
  }

  /** Waits for a slot: true once granted, false on timeout, cancellation or a full queue. */
  wait(signal: AbortSignal, timeoutMs: number): Promise<boolean> {
    if (this.#queue.length >= this.maxQueue || signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve: (granted) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', leave);
          resolve(granted);
        },
      };
      const leave = (): void => {
        const index = this.#queue.indexOf(waiter);
        if (index !== -1) this.#queue.splice(index, 1);
        waiter.resolve(false);
      };
      const timer = setTimeout(leave, Math.max(0, timeoutMs));
      signal.addEventListener('abort', leave, { once: true });
      this.#queue.push(waiter);
    });
  }

  /** Gives a slot back: to the first waiter, else to the pool. */
  release(): void {
    const waiter = this.#queue.shift();
    if (waiter === undefined) this.#active--;
    else waiter.resolve(true); // the slot passes on: #active stays
  }
}

/** The bulkhead as an upstream policy. */
export function bulkheadPolicy(bulkhead: Bulkhead): UpstreamPolicy {
  const service = bulkhead.service;
  return (next: UpstreamHandler): UpstreamHandler =>
    async (call: ConnectorCall, ctx: CallContext): Promise<ConnectorResult> => {
      let attemptCall = call;
      if (!bulkhead.tryTake()) {
        const queuedAt = Date.now();
        const granted = await bulkhead.wait(call.signal, bulkhead.queueTimeoutMs ?? call.timeoutMs);
        if (!granted) {
          if (call.signal.aborted) throw call.signal.reason;
          bulkhead.telemetry.upstreamRejected(service, 'bulkhead_full');
          throw new ChorusError(
            'CHORUS_BULKHEAD_FULL',
            `service "${service}" has ${bulkhead.maxConcurrent} calls in flight and ${bulkhead.maxQueue} waiting; the call was refused`,
            { extras: { service, operation: call.operation } },
          );
        }
        // The time spent queued comes off the call's own time.
        attemptCall = { ...call, timeoutMs: call.timeoutMs - (Date.now() - queuedAt) };
      }
      try {
        return await next(attemptCall, ctx);
      } finally {
        bulkhead.release();
      }
    };
}
