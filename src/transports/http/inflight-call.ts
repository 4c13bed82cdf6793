/**
 * The abort wiring of one backend call: its own controller, aborted by the request's signal or by
 * the call's timer, whichever comes first. Used by the exchange of the HTTP transport.
 */

/** The call is still running. */
export const RUNNING = 0;
/** The call's timer fired. */
export const TIMED_OUT = 1;
/** The request's signal fired. */
export const CANCELLED = 2;

/**
 * The abort wiring of one call: its own controller, aborted by the caller's signal or by the
 * timer, whichever comes first. It is its own abort listener (handleEvent) and the timer gets it
 * as an argument, so no closure is created per call.
 */
export class InflightCall {
  readonly controller = new AbortController();
  state: typeof RUNNING | typeof TIMED_OUT | typeof CANCELLED = RUNNING;
  readonly #signal: AbortSignal;
  readonly #timer: NodeJS.Timeout;

  constructor(signal: AbortSignal, limitMs: number) {
    this.#signal = signal;
    signal.addEventListener('abort', this, { once: true });
    this.#timer = setTimeout(expireInflight, limitMs, this);
  }

  /** The caller's signal fired. */
  handleEvent(): void {
    this.stop(CANCELLED);
  }

  stop(state: typeof TIMED_OUT | typeof CANCELLED): void {
    if (this.state !== RUNNING) return;
    this.state = state;
    // Aborting the request in flight makes undici destroy its socket, so the backend sees the
    // connection close and can stop working on an answer nobody waits for.
    this.controller.abort();
  }

  release(): void {
    clearTimeout(this.#timer);
    this.#signal.removeEventListener('abort', this);
  }
}

function expireInflight(inflight: InflightCall): void {
  inflight.stop(TIMED_OUT);
}
