/**
 * A per-service retry budget (the idea of Finagle's RetryBudget and gRPC's retry throttling):
 * over a sliding window, retries may be at most `ratio` × the calls made, or `minRetries`,
 * whichever is larger. A failing backend then sees at most (1 + ratio) × the traffic instead of
 * attempts × the traffic. Counted in one-second-ish buckets, so a call costs two array writes.
 */

const BUCKETS = 10;

/** Counts calls and retries over a sliding window. */
export class RetryBudget {
  readonly #ratio: number;
  readonly #minRetries: number;
  readonly #bucketMs: number;
  readonly #calls = new Float64Array(BUCKETS);
  readonly #retries = new Float64Array(BUCKETS);
  /** The absolute bucket number each slot holds. */
  readonly #epochs = new Float64Array(BUCKETS).fill(-1);
  readonly #now: () => number;

  constructor(ratio: number, minRetries: number, windowMs: number, now: () => number = Date.now) {
    this.#ratio = ratio;
    this.#minRetries = minRetries;
    this.#bucketMs = Math.max(1, windowMs / BUCKETS);
    this.#now = now;
  }

  /** Records a first attempt. */
  recordCall(): void {
    this.#calls[this.#slot()]!++;
  }

  /** Takes one retry from the budget; false when the budget is spent. */
  tryRetry(): boolean {
    const slot = this.#slot();
    let calls = 0;
    let retries = 0;
    const oldest = Math.floor(this.#now() / this.#bucketMs) - BUCKETS + 1;
    for (let i = 0; i < BUCKETS; i++) {
      if (this.#epochs[i]! < oldest) continue;
      calls += this.#calls[i]!;
      retries += this.#retries[i]!;
    }
    if (retries + 1 > Math.max(this.#minRetries, this.#ratio * calls)) return false;
    this.#retries[slot]!++;
    return true;
  }

  /** The slot of the current bucket, cleared when it held an older bucket. */
  #slot(): number {
    const epoch = Math.floor(this.#now() / this.#bucketMs);
    const slot = epoch % BUCKETS;
    if (this.#epochs[slot] !== epoch) {
      this.#epochs[slot] = epoch;
      this.#calls[slot] = 0;
      this.#retries[slot] = 0;
    }
    return slot;
  }
}
