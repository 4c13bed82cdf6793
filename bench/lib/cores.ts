/**
 * CPU placement on a 2-core machine: the gateway under test gets one core to itself, and
 * everything that is not the gateway (load generator, backends) shares the other. A gateway
 * result only means something when its core is the saturated one, so the harness samples
 * /proc/stat around every load run and says which core was busy.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** The core the gateway under test is pinned to. */
export const GATEWAY_CORE = 0;
/** The core the load generator and the backends share. */
export const LOAD_CORE = 1;

/** Prefixes a command with `taskset -c <core>` so the process and its threads stay on that core. */
export function pinned(core: number, command: string, args: readonly string[]): [string, string[]] {
  return ['taskset', ['-c', String(core), command, ...args]];
}

/** Whether the machine has the two cores the placement needs. */
export function hasTwoCores(): boolean {
  return availableParallelism() >= 2;
}

/** Cumulative jiffies of one core, as /proc/stat counts them. */
export interface CoreTimes {
  busy: number;
  /** Interrupt and softirq time (part of busy): loopback network processing lands here. */
  irq: number;
  total: number;
}

/** Reads the per-core cumulative times from /proc/stat (index = core number). */
export function readCoreTimes(): CoreTimes[] {
  const cores: CoreTimes[] = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
    const fields = match[2]!.trim().split(/\s+/).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
    const busy = user + nice + system + irq + softirq + steal;
    cores[Number(match[1])] = { busy, irq: irq + softirq, total: busy + idle + iowait };
  }
  return cores;
}

/** Shares (0..1) of one core's time between two samples. */
export interface CoreShare {
  busy: number;
  irq: number;
}

/** Busy and interrupt shares of each core between two samples. */
export function coreUtilisation(before: CoreTimes[], after: CoreTimes[]): CoreShare[] {
  return after.map((end, core) => {
    const start = before[core] ?? { busy: 0, irq: 0, total: 0 };
    const total = end.total - start.total;
    if (total <= 0) return { busy: 0, irq: 0 };
    return { busy: (end.busy - start.busy) / total, irq: (end.irq - start.irq) / total };
  });
}

/** What the /proc/stat sample says about a saturation run. */
export type SaturationVerdict = 'gateway-bound' | 'load-core-bound' | 'both-saturated' | 'neither-saturated';

/** Busy share above which a core counts as saturated (softirq and timer noise keep it below 100 %). */
export const SATURATED = 0.9;

/**
 * Classifies a saturation run: the number is a gateway limit only when the gateway core is
 * saturated and the load core is not; otherwise the generator or the backends were the limit.
 */
export function saturationVerdict(gatewayBusy: number, loadBusy: number): SaturationVerdict {
  const gateway = gatewayBusy >= SATURATED;
  const load = loadBusy >= SATURATED;
  if (gateway && !load) return 'gateway-bound';
  if (gateway && load) return 'both-saturated';
  if (load) return 'load-core-bound';
  return 'neither-saturated';
}
