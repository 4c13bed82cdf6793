/**
 * Measuring one scenario across its targets: start the backends and every available target, check
 * each answers correctly, warm up, then interleave rounds of closed-loop saturation (wrk) over all
 * targets, then interleave paced open-loop rounds at a fraction of each target's own maximum.
 * Interleaving spreads slow drift of the machine (other work, thermal, page cache) over all targets
 * instead of penalising whichever ran last.
 */
import { startDelayBackend } from '../backends/delay-backend.ts';
import { type RunningBackend, startStaticBackend } from '../backends/static-backend.ts';
import type { BackendUrls, Scenario, TargetName } from '../scenarios/types.ts';
import { TARGETS } from '../targets/index.ts';
import type { RunningTarget } from '../targets/types.ts';
import {
  coreUtilisation,
  GATEWAY_CORE,
  LOAD_CORE,
  readCoreTimes,
  type SaturationVerdict,
  saturationVerdict,
} from './cores.ts';
import { GENERATOR_LIMITED_LAG_MS, runOpenLoop } from './open-loop.ts';
import { cpuSeconds, exchange, rssBytes } from './process.ts';
import { type Summary, summarise } from './stats.ts';
import { runWrk, type WrkResult } from './wrk.ts';

/** How long and how often to measure. */
export interface MeasureOptions {
  durationS: number;
  warmupS: number;
  rounds: number;
  /** wrk connections for the saturation runs. */
  connections: number;
  /** Paced rate as a fraction of the target's median saturated rate; 0 skips the paced runs. */
  pacedFraction: number;
  /** A fixed paced rate instead (req/s), e.g. for the fan-out latency target; needs no saturation run. */
  pacedRate?: number;
  /** Skip the closed-loop saturation runs (latency-only measurements). */
  skipSaturation?: boolean;
  /** Progress messages (stderr, so --json output stays clean). */
  log: (message: string) => void;
}

/** One saturation round of one target. */
export interface SaturationRound extends WrkResult {
  gatewayBusy: number;
  loadBusy: number;
  /** Gateway CPU time per request, µs (user + system of the process tree). */
  cpuUsPerRequest: number;
  /** Share of the gateway core used by other processes (other work on this machine). */
  otherOnGatewayCore: number;
  /** Share of the load core used by neither wrk nor the backends (other work on this machine). */
  otherOnLoadCore: number;
}

/** Paced (open-loop) results of one target. */
export interface PacedOutcome {
  rate: number;
  /** Worst p99 send lag of the rounds: how late the generator itself was. */
  sendLagP99Ms: number;
  /** The generator, not the gateway, limited these latencies (send lag too large). */
  generatorLimited: boolean;
  p50Ms: Summary;
  p99Ms: Summary;
  unanswered: number;
  non2xx: number;
  badBody: number;
  errors: number;
}

/** Everything measured for one target in one scenario. */
export interface TargetOutcome {
  target: TargetName;
  status: 'ok' | 'unavailable' | 'failed';
  reason?: string;
  startupMs?: number;
  rssIdleMb?: number;
  rssLoadedMb?: number;
  rounds: SaturationRound[];
  rps?: Summary;
  p50Ms?: Summary;
  p99Ms?: Summary;
  cpuUsPerRequest?: Summary;
  gatewayBusy?: Summary;
  loadBusy?: Summary;
  otherOnGatewayCore?: Summary;
  otherOnLoadCore?: Summary;
  /** Whether the gateway core was the saturated one (median of the rounds); 'no-gateway' for direct. */
  verdict?: SaturationVerdict | 'no-gateway';
  non2xx: number;
  badBody: number;
  socketErrors: number;
  paced?: PacedOutcome;
  /** Median rps relative to the hand-written server's (filled in by the caller). */
  ratio?: number;
  /**
   * The hand-written server's CPU µs per request divided by this target's: the same ratio measured
   * as cost, which other work on the machine disturbs much less than req/s.
   */
  cpuRatio?: number;
}

/** The outcome of a scenario. */
export interface ScenarioOutcome {
  scenario: string;
  params: Record<string, number>;
  title: string;
  targets: TargetOutcome[];
}

const MB = 1024 * 1024;

/** Starts the backends a scenario needs. */
export async function startBackends(
  scenario: Scenario,
): Promise<{ urls: BackendUrls; pids: number[]; stop(): Promise<void> }> {
  const started: RunningBackend[] = [];
  try {
    const stat = await startStaticBackend(scenario.backends.static);
    started.push(stat);
    const urls: BackendUrls = { static: stat.url };
    if (scenario.backends.delayMs !== undefined) {
      const delay = await startDelayBackend(scenario.backends.delayMs);
      started.push(delay);
      urls.delay = delay.url;
    }
    return {
      urls,
      pids: started.map((b) => b.child.pid),
      stop: async () => void (await Promise.all(started.map((b) => b.child.stop()))),
    };
  } catch (error) {
    await Promise.all(started.map((b) => b.child.stop()));
    throw error;
  }
}

/** Sends one request and checks the full answer; undefined when right, else why not. */
export async function checkAnswer(scenario: Scenario, target: RunningTarget): Promise<string | undefined> {
  let answer: Awaited<ReturnType<typeof exchange>>;
  try {
    answer = await exchange(target.origin, target.request);
  } catch (error) {
    return `request failed: ${(error as Error).message}`;
  }
  if (answer.status < 200 || answer.status > 299)
    return `status ${answer.status}: ${answer.body.slice(0, 200)}`;
  let decoded: unknown;
  try {
    decoded = JSON.parse(answer.body);
  } catch {
    return `body is not JSON: ${answer.body.slice(0, 200)}`;
  }
  const wrong = (target.check ?? scenario.check)(target.unwrap(decoded));
  if (wrong) return wrong;
  const missing = (target.markers ?? scenario.markers).filter((marker) => !answer.body.includes(marker));
  if (missing.length) return `body lacks marker(s) ${missing.join(', ')} that the load runs check`;
  return undefined;
}

function firstLine(error: unknown): string {
  return String((error as Error).message ?? error).split('\n')[0]!;
}

/** Runs the whole measurement of one scenario on the given targets. */
export async function measureScenario(
  scenario: Scenario,
  targetNames: readonly TargetName[],
  options: MeasureOptions,
): Promise<ScenarioOutcome> {
  const outcomes = new Map<TargetName, TargetOutcome>();
  const running = new Map<TargetName, RunningTarget>();
  const outcome = (name: TargetName): TargetOutcome => {
    let found = outcomes.get(name);
    if (!found) {
      found = { target: name, status: 'ok', rounds: [], non2xx: 0, badBody: 0, socketErrors: 0 };
      outcomes.set(name, found);
    }
    return found;
  };
  const backends = await startBackends(scenario);
  try {
    for (const name of targetNames) {
      const entry = outcome(name);
      const reason = TARGETS[name].unavailable(scenario);
      if (reason) {
        Object.assign(entry, { status: 'unavailable', reason });
        continue;
      }
      options.log(`  starting ${name}`);
      let target: RunningTarget;
      try {
        target = await TARGETS[name].start({ scenario, backends: backends.urls });
      } catch (error) {
        Object.assign(entry, { status: 'unavailable', reason: `failed to start: ${firstLine(error)}` });
        options.log(`  ${name} unavailable: ${String((error as Error).message ?? error).slice(0, 1500)}`);
        continue;
      }
      const wrong = await checkAnswer(scenario, target);
      if (wrong) {
        Object.assign(entry, { status: 'failed', reason: `wrong answer: ${wrong}` });
        options.log(`  ${name} failed the answer check: ${wrong}`);
        await target.stop();
        continue;
      }
      if (target.startupMs !== undefined) entry.startupMs = target.startupMs;
      if (target.child) entry.rssIdleMb = rssBytes(target.child.pid) / MB;
      running.set(name, target);
    }

    const active = [...running.keys()];
    const wrkFor = (name: TargetName, durationS: number) => {
      const target = running.get(name)!;
      return runWrk({
        origin: target.origin,
        request: target.request,
        markers: target.markers ?? scenario.markers,
        durationS,
        connections: options.connections,
        ...(scenario.pathCycle && target.request.method === 'GET' ? { pathCycle: scenario.pathCycle } : {}),
      });
    };
    // Rotating the start of each round so no target is always first (cold) or last.
    const order = (round: number) => active.map((_, i) => active[(i + round) % active.length]!);

    if (options.warmupS > 0 && !options.skipSaturation) {
      for (const name of active) {
        options.log(`  warm-up ${name} ${options.warmupS}s`);
        await wrkFor(name, options.warmupS).catch(() => undefined);
      }
    }

    for (let round = 0; round < (options.skipSaturation ? 0 : options.rounds); round++) {
      for (const name of order(round)) {
        const target = running.get(name)!;
        const entry = outcome(name);
        if (entry.status !== 'ok') continue;
        const pid = target.child?.pid;
        const cpuBefore = pid === undefined ? 0 : cpuSeconds(pid);
        const backendCpu = () => backends.pids.reduce((sum, backend) => sum + cpuSeconds(backend), 0);
        const backendBefore = backendCpu();
        const before = readCoreTimes();
        const wallStart = performance.now();
        let result: WrkResult;
        try {
          result = await wrkFor(name, options.durationS);
        } catch (error) {
          Object.assign(entry, { status: 'failed', reason: `load run failed: ${firstLine(error)}` });
          continue;
        }
        const shares = coreUtilisation(before, readCoreTimes());
        const wallS = (performance.now() - wallStart) / 1000;
        const cpuUsed = pid === undefined ? 0 : cpuSeconds(pid) - cpuBefore;
        const gateway = shares[GATEWAY_CORE] ?? { busy: 0, irq: 0 };
        const load = shares[LOAD_CORE] ?? { busy: 0, irq: 0 };
        const loadBusy = load.busy;
        const loadOwn = (result.cpuSeconds + backendCpu() - backendBefore) / wallS;
        entry.rounds.push({
          ...result,
          gatewayBusy: gateway.busy,
          loadBusy,
          cpuUsPerRequest:
            result.requests > 0 && pid !== undefined ? (cpuUsed * 1e6) / result.requests : Number.NaN,
          // The gateway is pinned to its core, so process time there beyond its own is someone else's.
          // Interrupt time is left out: the gateway's own loopback traffic is processed there.
          otherOnGatewayCore:
            pid === undefined ? Number.NaN : Math.max(0, gateway.busy - gateway.irq - cpuUsed / wallS),
          otherOnLoadCore: Number.isFinite(loadOwn)
            ? Math.max(0, load.busy - load.irq - loadOwn)
            : Number.NaN,
        });
        options.log(
          `  round ${round + 1}/${options.rounds} ${name}: ${Math.round(result.rps)} req/s, p99 ${result.p99Ms.toFixed(2)} ms, ` +
            `cores ${Math.round(gateway.busy * 100)}%/${Math.round(loadBusy * 100)}%` +
            (result.non2xx + result.badBody + result.socketErrors > 0
              ? `, BAD ${result.non2xx} non-2xx ${result.badBody} bad bodies ${result.socketErrors} socket errors`
              : ''),
        );
      }
    }

    for (const name of active) {
      const entry = outcome(name);
      const target = running.get(name)!;
      if (target.child) entry.rssLoadedMb = rssBytes(target.child.pid) / MB;
      const rounds = entry.rounds;
      if (rounds.length === 0) continue;
      entry.rps = summarise(rounds.map((r) => r.rps));
      entry.p50Ms = summarise(rounds.map((r) => r.p50Ms));
      entry.p99Ms = summarise(rounds.map((r) => r.p99Ms));
      entry.gatewayBusy = summarise(rounds.map((r) => r.gatewayBusy));
      entry.loadBusy = summarise(rounds.map((r) => r.loadBusy));
      entry.cpuUsPerRequest = summarise(rounds.map((r) => r.cpuUsPerRequest));
      entry.otherOnGatewayCore = summarise(rounds.map((r) => r.otherOnGatewayCore));
      entry.otherOnLoadCore = summarise(rounds.map((r) => r.otherOnLoadCore));
      entry.verdict = target.child
        ? saturationVerdict(entry.gatewayBusy.median, entry.loadBusy.median)
        : 'no-gateway';
      for (const r of rounds) {
        entry.non2xx += r.non2xx;
        entry.badBody += r.badBody;
        entry.socketErrors += r.socketErrors;
      }
    }

    if (options.pacedFraction > 0 || options.pacedRate !== undefined) {
      const paced = new Map<TargetName, { p50: number[]; p99: number[]; last?: PacedOutcome }>();
      for (let round = 0; round < options.rounds; round++) {
        for (const name of order(round)) {
          const entry = outcome(name);
          if (entry.status !== 'ok') continue;
          const target = running.get(name)!;
          const base =
            options.pacedRate ?? (entry.rps ? entry.rps.median * options.pacedFraction : undefined);
          if (base === undefined) continue;
          const rate = Math.max(1, Math.round(base));
          let result: Awaited<ReturnType<typeof runOpenLoop>>;
          try {
            result = await runOpenLoop({
              origin: target.origin,
              request: target.request,
              markers: target.markers ?? scenario.markers,
              rate,
              durationS: options.durationS,
              warmupS: Math.min(1, options.warmupS || 0.5),
              connections: 256,
              drainMs: 3000,
            });
          } catch (error) {
            options.log(`  paced ${name} failed: ${firstLine(error)}`);
            continue;
          }
          options.log(
            `  paced ${round + 1}/${options.rounds} ${name} @${rate}/s: p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`,
          );
          const acc = paced.get(name) ?? { p50: [], p99: [] };
          acc.p50.push(result.p50Ms);
          acc.p99.push(result.p99Ms);
          const previous = acc.last;
          acc.last = {
            rate,
            sendLagP99Ms: Math.max(previous?.sendLagP99Ms ?? 0, result.sendLagP99Ms),
            generatorLimited:
              (previous?.generatorLimited ?? false) || result.sendLagP99Ms > GENERATOR_LIMITED_LAG_MS,
            p50Ms: summarise(acc.p50),
            p99Ms: summarise(acc.p99),
            unanswered: (previous?.unanswered ?? 0) + result.unanswered,
            non2xx: (previous?.non2xx ?? 0) + result.non2xx,
            badBody: (previous?.badBody ?? 0) + result.badBody,
            errors: (previous?.errors ?? 0) + result.errors,
          };
          paced.set(name, acc);
        }
      }
      for (const [name, acc] of paced) if (acc.last) outcome(name).paced = acc.last;
    }
  } finally {
    await Promise.all([...running.values()].map((target) => target.stop()));
    await backends.stop();
  }
  return {
    scenario: scenario.ref.name,
    params: scenario.ref.params ?? {},
    title: scenario.title,
    targets: targetNames.map((name) => outcome(name)),
  };
}

/** Fills in each target's ratios to the hand-written server (req/s and CPU per request). */
export function addRatios(result: ScenarioOutcome): void {
  const handwritten = result.targets.find((t) => t.target === 'handwritten');
  const reference = handwritten?.rps?.median;
  const referenceCpu = handwritten?.cpuUsPerRequest?.median;
  for (const target of result.targets) {
    if (reference && target.rps) target.ratio = target.rps.median / reference;
    const cpu = target.cpuUsPerRequest?.median;
    if (referenceCpu && cpu && Number.isFinite(cpu)) target.cpuRatio = referenceCpu / cpu;
  }
}
