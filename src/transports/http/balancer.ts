import type { LoadBalancingConfig } from './schema.ts';

/** One base URL of a service, with what the balancer knows of it; T is the connector's client. */
export interface Host<T> {
  readonly origin: string;
  readonly client: T;
  /** Calls in flight on this host. */
  pending: number;
  consecutiveFailures: number;
  /** Ejections in a row; decides the next ejection's length. */
  ejections: number;
  /** Epoch ms until which the host is left out (0: not ejected). */
  ejectedUntil: number;
  /** Epoch ms when the host came back from its last ejection. */
  returnedAt: number;
  /** False while active health checks fail. */
  healthy: boolean;
}

/** A host's state for status pages. */
export interface HostStatus {
  readonly origin: string;
  readonly pending: number;
  readonly ejected: boolean;
  readonly healthy: boolean;
}

/** What the balancer decides at load. */
export interface BalancerOptions {
  readonly strategy: LoadBalancingConfig['strategy'];
  readonly ejectAfter: number;
  readonly ejectionMs: number;
  readonly maxEjectionMs: number;
  readonly now?: () => number;
}

/** Builds the options from the config (absent: round-robin with the defaults). */
export function balancerOptions(config: LoadBalancingConfig | undefined): BalancerOptions {
  return {
    strategy: config?.strategy ?? 'round-robin',
    ejectAfter: config?.ejectAfter ?? 3,
    // Without loadBalancing: the schema's defaults (5s, 2m).
    ejectionMs: config?.ejectionTime ?? 5000,
    maxEjectionMs: config?.maxEjectionTime ?? 120_000,
  };
}

/** Spreads calls over hosts. */
export class Balancer<T> {
  readonly hosts: readonly Host<T>[];
  readonly #options: BalancerOptions;
  readonly #now: () => number;
  readonly #maxEjected: number;
  #next = 0;

  constructor(hosts: readonly { origin: string; client: T }[], options: BalancerOptions) {
    this.hosts = hosts.map((host) => ({
      origin: host.origin,
      client: host.client,
      pending: 0,
      consecutiveFailures: 0,
      ejections: 0,
      ejectedUntil: 0,
      returnedAt: 0,
      healthy: true,
    }));
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#maxEjected = Math.min(this.hosts.length - 1, Math.ceil(this.hosts.length / 2));
  }

  /** The host of the next call; its pending count is raised: settle it with release(). */
  pick(): Host<T> {
    const hosts = this.hosts;
    if (hosts.length === 1) {
      const only = hosts[0]!;
      only.pending++;
      return only;
    }
    const now = this.#now();
    let chosen: Host<T> | undefined;
    if (this.#options.strategy === 'round-robin') {
      for (let i = 0; i < hosts.length; i++) {
        const host = hosts[(this.#next + i) % hosts.length]!;
        if (this.#usable(host, now)) {
          chosen = host;
          this.#next = (this.#next + i + 1) % hosts.length;
          break;
        }
      }
    } else {
      // Least pending; ties go round-robin so an idle service still spreads its calls.
      const start = this.#next;
      for (let i = 0; i < hosts.length; i++) {
        const host = hosts[(start + i) % hosts.length]!;
        if (this.#usable(host, now) && (chosen === undefined || host.pending < chosen.pending)) chosen = host;
      }
      this.#next = (start + 1) % hosts.length;
    }
    // Panic mode: nothing usable, so every host is tried in turn.
    if (chosen === undefined) {
      chosen = hosts[this.#next % hosts.length]!;
      this.#next = (this.#next + 1) % hosts.length;
    }
    chosen.pending++;
    return chosen;
  }

  /** Settles a call on a host: failure true (the host failed), false (it answered), undefined (says nothing). */
  release(host: Host<T>, failure: boolean | undefined): void {
    host.pending--;
    if (failure === undefined || this.hosts.length === 1) return;
    const now = this.#now();
    if (!failure) {
      host.consecutiveFailures = 0;
      // A host that has served as long as its last ejection lasted starts over.
      if (
        host.ejections > 0 &&
        host.ejectedUntil < now &&
        now - host.returnedAt > this.#ejectionMs(host.ejections)
      ) {
        host.ejections = 0;
      }
      return;
    }
    host.consecutiveFailures++;
    if (host.consecutiveFailures < this.#options.ejectAfter || host.ejectedUntil > now) return;
    if (this.#ejectedCount(now) >= this.#maxEjected) return;
    host.ejections++;
    const ms = this.#ejectionMs(host.ejections);
    host.ejectedUntil = now + ms;
    host.returnedAt = host.ejectedUntil;
    host.consecutiveFailures = 0;
  }

  /** Hosts' state for status pages. */
  status(): HostStatus[] {
    const now = this.#now();
    return this.hosts.map((host) => ({
      origin: host.origin,
      pending: host.pending,
      ejected: host.ejectedUntil > now,
      healthy: host.healthy,
    }));
  }

  #usable(host: Host<T>, now: number): boolean {
    return host.healthy && host.ejectedUntil <= now;
  }

  #ejectedCount(now: number): number {
    let count = 0;
    for (const host of this.hosts) if (host.ejectedUntil > now) count++;
    return count;
  }

  #ejectionMs(ejections: number): number {
    return Math.min(this.#options.maxEjectionMs, this.#options.ejectionMs * 2 ** (ejections - 1));
  }
}
