/** What a target is: something that serves a scenario's public request, started and stopped by the harness. */
import type { Child, RequestSpec } from '../lib/process.ts';
import type { BackendUrls, Scenario, ScenarioRef, TargetName } from '../scenarios/types.ts';

/** What a target is started with. */
export interface TargetContext {
  scenario: Scenario;
  backends: BackendUrls;
}

/** A target that answers. */
export interface RunningTarget {
  origin: string;
  /** The request the load generator sends. */
  request: RequestSpec;
  /** Picks the scenario's answer from the decoded body (GraphQL wraps it in `data`). */
  unwrap: (body: unknown) => unknown;
  /** Replace the scenario's check and markers (a direct leaf call answers something else). */
  check?: (value: unknown) => string | undefined;
  markers?: readonly string[];
  /** The gateway process (RSS, CPU time); absent for `direct`. */
  child?: Child;
  /** Spawn to first correct answer, in ms. */
  startupMs?: number;
  stop(): Promise<void>;
}

/** A target definition. */
export interface Target {
  name: TargetName;
  /** One line for the docs and the table legend. */
  description: string;
  /** Why it cannot run here (missing tool or package, scenario not supported), or undefined. */
  unavailable(scenario: Scenario): string | undefined;
  start(context: TargetContext): Promise<RunningTarget>;
}

/** What a child server is given on its command line, as JSON. */
export interface ServerArgs {
  scenario: ScenarioRef;
  backends: BackendUrls;
  port: number;
}
