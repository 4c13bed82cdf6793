/**
 * The one way an endpoint's inbound policies are stacked, from a list of modules. Outermost
 * first, by the modules' `order`:
 *
 *   cors (10) → ipFilter (20) → auth (30) → plan limits (35, built in) → rateLimit (40)
 *     → quota (50) → cache (60) → the endpoint's handler
 *
 * CORS is outermost so even refusals carry its headers; the IP filter refuses before any key is
 * checked; auth names the consumer that the plan's limits, rate limits and quotas count; the
 * cache sits inside the limits so cached answers still count, and may vary on the consumer.
 * An endpoint's own entry replaces the gateway default of the same name; `false` turns it off.
 * The endpoint `policies` schema is built from the same list, so a module is one folder plus
 * one line in the list.
 */
import { z } from 'zod';
import type { ConfigPath } from '../../contracts/issues.ts';
import type {
  BuiltInInboundPolicy,
  BuiltPolicy,
  InboundPolicy,
  InboundPolicyModule,
  PolicyFactoryContext,
  PreflightHandler,
} from '../../contracts/policy.ts';
import { inOrder } from '../compose.ts';

/** An entry of the inbound list: a policy kind with its config key, or a built-in step. */
export type InboundModule<Shared = unknown> =
  | InboundPolicyModule<z.ZodType, Shared>
  | BuiltInInboundPolicy<Shared>;

/** An endpoint's inbound policies, outermost first, and its CORS preflight answer when it has one. */
export interface InboundStack {
  readonly policies: readonly InboundPolicy[];
  readonly preflight?: PreflightHandler;
}

/** What building an endpoint's stack needs besides the configs. */
export interface InboundStackContext<Shared> extends PolicyFactoryContext {
  readonly shared: Shared;
  /** The endpoint's operation id. */
  readonly endpointId: string;
  readonly method: string;
  readonly path: string;
  /** Where the endpoint is in the config, e.g. ['endpoints', 3]. */
  readonly endpointAt: ConfigPath;
}

/** The config that applies to an endpoint: its own entry, else the gateway default; `false` is off. */
export function effectivePolicyConfig(
  name: string,
  own: Readonly<Record<string, unknown>> | undefined,
  defaults: Readonly<Record<string, unknown>> | undefined,
): { readonly config: unknown; readonly own: boolean } | undefined {
  const mine = own?.[name];
  const config = mine !== undefined ? mine : defaults?.[name];
  if (config === undefined || config === false) return undefined;
  return { config, own: mine !== undefined };
}

/** Builds an endpoint's inbound stack; problems go to ctx.issue. */
export function buildInboundStack<Shared>(
  modules: readonly InboundModule<Shared>[],
  endpointPolicies: Readonly<Record<string, unknown>> | undefined,
  defaults: Readonly<Record<string, unknown>> | undefined,
  ctx: InboundStackContext<Shared>,
): InboundStack {
  const { endpointAt, ...base } = ctx;
  const policies: InboundPolicy[] = [];
  let preflight: PreflightHandler | undefined;
  for (const module of inOrder(modules)) {
    let built: BuiltPolicy<InboundPolicy> | undefined;
    if ('builtIn' in module) built = module.create({ ...base, at: endpointAt });
    else {
      const chosen = effectivePolicyConfig(module.name, endpointPolicies, defaults);
      if (chosen === undefined) continue;
      const at: ConfigPath = chosen.own
        ? [...endpointAt, 'policies', module.name]
        : ['policies', module.name];
      built = module.create(chosen.config, { ...base, at });
    }
    if (built === undefined) continue;
    policies.push(built.wrap);
    preflight ??= built.preflight;
  }
  return preflight === undefined ? { policies } : { policies, preflight };
}

/** The modules of a list that have a config key. */
type ConfigModules<Modules extends readonly InboundModule[]> = Extract<
  Modules[number],
  { readonly schema: z.ZodType }
>;

/** The shape of the endpoint `policies` object: each module's schema, or `false`, optional. */
export type EndpointPoliciesShape<Modules extends readonly InboundModule[]> = {
  [Module in ConfigModules<Modules> as Module['name']]: z.ZodOptional<
    z.ZodUnion<[Module['schema'], z.ZodLiteral<false>]>
  >;
};

/** The schema of an endpoint's `policies` (and of the gateway defaults), from the modules. */
export function endpointPoliciesSchemaOf<const Modules extends readonly InboundModule[]>(modules: Modules) {
  const configurable = inOrder(modules).filter(
    (module): module is ConfigModules<Modules> => !('builtIn' in module),
  );
  const off = z.literal(false);
  const shape = Object.fromEntries(
    configurable.map((module) => [module.name, z.union([module.schema, off]).optional()]),
  ) as EndpointPoliciesShape<Modules>;
  const names = configurable.map((module) => module.name).join(', ');
  return z.strictObject(shape).describe(`Inbound policies, applied in this order: ${names}.`);
}
