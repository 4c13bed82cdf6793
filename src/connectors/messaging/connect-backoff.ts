/**
 * The pause between attempts to connect to a broker (nats, amqp): it doubles from the service's
 * reconnectWait with each failure, up to a cap, and the failures are logged once loudly, then
 * quietly, so a broker that stays down does not flood the log.
 */
import type { Logger } from 'pino';

/** The longest pause between attempts to connect. */
const MAX_BACKOFF_MS = 2_000;

export class ConnectBackoff {
  readonly #kind: string;
  readonly #firstWaitMs: number;
  readonly #logger: Logger;
  #attempts = 0;

  /** `kind` names the connector in log messages. */
  constructor(kind: string, firstWaitMs: number, logger: Logger) {
    this.#kind = kind;
    this.#firstWaitMs = firstWaitMs;
    this.#logger = logger;
  }

  /** An attempt failed: logs it with `fields` and returns how long to wait before the next one. */
  failed(fields: Record<string, unknown>): number {
    this.#attempts++;
    if (this.#attempts === 1) this.#logger.warn(fields, `${this.#kind} connector: cannot connect; retrying`);
    else {
      this.#logger.debug(
        { ...fields, attempt: this.#attempts },
        `${this.#kind} connector: still cannot connect`,
      );
    }
    return Math.min(MAX_BACKOFF_MS, this.#firstWaitMs * 2 ** Math.min(this.#attempts - 1, 8));
  }

  /** Connected: the next failure is the first again. */
  succeeded(): void {
    this.#attempts = 0;
  }
}
