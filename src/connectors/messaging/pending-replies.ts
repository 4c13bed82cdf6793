/**
 * The calls of a broker connector (nats, amqp) waiting for their answer: a reply, a flush or a
 * publish confirm. Each settles once, by the answer, its timer, the caller's signal or a lost
 * connection, whichever comes first; whatever arrives later is dropped.
 */
import type { ConnectorCall } from '../../contracts/connector.ts';
import { cancellation, type OperationExtras, timeoutError } from '../../errors/call-errors.ts';
import { timerDelay } from '../../transports/call-limit.ts';
import { unavailable } from './broker-errors.ts';

/** What a waiting call needs of its operation. */
export interface RepliedOperation {
  /** How the operation is used (request, rpc, publish): calls of one mode may fail together. */
  readonly mode: string;
  readonly extras: OperationExtras;
}

/**
 * One call waiting for its answer. It is its own abort listener (handleEvent) and the timer gets
 * it as an argument, so no closure is made for either; it leaves its registry when it settles.
 */
export class PendingReply<Op extends RepliedOperation> {
  readonly op: Op;
  /** The correlation id its reply is routed by, when the protocol has one. */
  readonly id: string | undefined;
  readonly promise: Promise<unknown>;
  readonly limitMs: number;
  readonly deadlineBound: boolean;
  #settle!: (value: unknown) => void;
  #reject!: (error: unknown) => void;
  #done = false;
  readonly #signal: AbortSignal;
  readonly #timer: NodeJS.Timeout;
  readonly #registry: PendingReplies<Op>;

  constructor(registry: PendingReplies<Op>, op: Op, call: ConnectorCall, limitMs: number, id?: string) {
    this.op = op;
    this.id = id;
    this.promise = new Promise((resolve, reject) => {
      this.#settle = resolve;
      this.#reject = reject;
    });
    this.limitMs = limitMs;
    this.deadlineBound = call.deadlineBound;
    this.#signal = call.signal;
    this.#registry = registry;
    registry.add(this);
    this.#signal.addEventListener('abort', this, { once: true });
    this.#timer = setTimeout(expireReply, timerDelay(call, limitMs), this);
  }

  /** The caller's signal fired. */
  handleEvent(): void {
    this.fail(cancellation(this.op.extras, this.#signal));
  }

  /** The call's time ran out. */
  expire(): void {
    this.fail(timeoutError(this.op.extras, this.limitMs, this.deadlineBound, undefined));
  }

  resolve(value: unknown): void {
    if (this.#finish()) this.#settle(value);
  }

  fail(error: unknown): void {
    if (this.#finish()) this.#reject(error);
  }

  #finish(): boolean {
    if (this.#done) return false;
    this.#done = true;
    clearTimeout(this.#timer);
    this.#signal.removeEventListener('abort', this);
    this.#registry.remove(this);
    return true;
  }
}

function expireReply(pending: PendingReply<RepliedOperation>): void {
  pending.expire();
}

/** The calls of one connector waiting for their answer, by correlation id (or by themselves without one). */
export class PendingReplies<Op extends RepliedOperation> {
  readonly #calls = new Map<string | PendingReply<Op>, PendingReply<Op>>();

  add(pending: PendingReply<Op>): void {
    this.#calls.set(pending.id ?? pending, pending);
  }

  remove(pending: PendingReply<Op>): void {
    this.#calls.delete(pending.id ?? pending);
  }

  /** The call waiting for the reply with this correlation id, if it still waits. */
  byId(id: string): PendingReply<Op> | undefined {
    return this.#calls.get(id);
  }

  /**
   * The connection (or channel) they wait on is gone: the waiting calls, or those of one mode,
   * fail as unavailable.
   */
  failAll(reason: string, mode?: string): void {
    // A call that fails leaves the map; a Map visits each remaining entry once all the same.
    for (const pending of this.#calls.values()) {
      if (mode === undefined || pending.op.mode === mode)
        pending.fail(unavailable(pending.op.extras, reason));
    }
  }
}
