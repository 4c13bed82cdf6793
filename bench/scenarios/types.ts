/**
 * What a scenario is: the backends it needs, the public request, how an answer is checked, the
 * Chorus config that serves it, and how each peer serves the same thing. One scenario = one small
 * file in this folder, registered in index.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pool } from 'undici';
import type { ChorusConfig } from '../../src/modules.ts';

/** Every target the harness knows; a scenario lists the ones that apply to it. */
export const TARGET_NAMES = [
  'direct',
  'handwritten',
  'nginx',
  'fast-gateway',
  'fastify-http-proxy',
  'express-gateway',
  'graphql-mercurius',
  'chorus',
  'chorus-baseline',
] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

/** Base URLs of the backends started for a scenario. */
export interface BackendUrls {
  /** nginx serving the scenario's static JSON files. */
  static: string;
  /** The fixed-delay node backend, when the scenario asked for one. */
  delay?: string;
}

/** Pools to the backends, as the hand-written server holds them (one undici Pool per origin). */
export interface BackendPools {
  static: Pool;
  delay?: Pool;
}

/** A request handler of the hand-written node:http server. */
export type HandwrittenHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** How the GraphQL peer composes the same backends: schema, resolvers, and the query sent. */
export interface GraphqlSpec {
  schema: string;
  /** Resolvers given a JSON getter over the backends; run by mercurius (graphql-jit enabled). */
  resolvers: (get: (backend: keyof BackendUrls, path: string) => Promise<unknown>) => Record<string, unknown>;
  query: string;
  /** Picks the scenario's answer out of `{ data: … }`. */
  unwrap: (body: unknown) => unknown;
}

/** A way to identify a scenario across processes (child servers rebuild it from this). */
export interface ScenarioRef {
  name: string;
  params?: Record<string, number>;
}

/** A benchmark scenario. */
export interface Scenario {
  ref: ScenarioRef;
  /** One line for the table. */
  title: string;
  /** The public path every gateway serves (GET). */
  path: string;
  /** Headers the public request carries (e.g. accept-encoding), for every target. */
  requestHeaders?: Record<string, string>;
  backends: {
    /** Static files (URL path → JSON text) nginx serves. */
    static: Record<string, string>;
    /** Start the fixed-delay backend with this delay. */
    delayMs?: number;
  };
  /** Substrings every correct body contains; checked on every response during load. */
  markers: readonly string[];
  /** Full check of one decoded answer before a target is measured: undefined when right, else why not. */
  check: (value: unknown) => string | undefined;
  /** The targets that apply, in table order. */
  targets: readonly TargetName[];
  /**
   * For `direct`: the backend call that answers the same body, or a single leaf call as a floor
   * (then with its own check and markers). Scenarios without it skip `direct`.
   */
  direct?: {
    path: string;
    backend?: keyof BackendUrls;
    check?: (value: unknown) => string | undefined;
    markers?: readonly string[];
  };
  /** For plain reverse proxies: the backend path the public path is forwarded to. */
  upstreamPath?: string;
  /** Load rotates over `${prefix}${i % count}` instead of `path` (endpoint-count scaling). */
  pathCycle?: { prefix: string; count: number };
  /** The Chorus config serving `path`. */
  chorus: (backends: BackendUrls) => ChorusConfig;
  /** The hand-written node:http + undici server's handler. */
  handwritten?: (pools: BackendPools) => HandwrittenHandler;
  graphql?: GraphqlSpec;
}
