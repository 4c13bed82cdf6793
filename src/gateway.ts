/**
 * The one place a gateway is assembled from its config (as Lura's newStack): a connector per
 * service, the policy runtime, each service's upstream stack (its connector's calls wrapped in
 * its upstream policies), each endpoint's inbound stack, the step cache; then the engine
 * compiles the flows with what was built here, and the plan is closed over all of it.
 * The engine builds no connector and no policy; the server reads what it needs from the plan.
 */
import type { Logger } from 'pino';
import type { ConfigIssue } from './config/issues.ts';
import type { LoadedConfig } from './config/load.ts';
import type { Connector, ConnectorFactoryContext, TransportStandIn } from './contracts/connector.ts';
import type { IssueReporter } from './contracts/issues.ts';
import type { PolicyFactoryContext } from './contracts/policy.ts';
import {
  compileGateway,
  type InboundWiring,
  type ServiceBinding,
  type StepBody,
  type StepWrapping,
} from './engine/compile.ts';
import type { GatewayPlan } from './engine/plan.ts';
import {
  connectorModules,
  INBOUND_POLICIES,
  openApiDocument,
  type ResolvedConfig,
  UPSTREAM_POLICIES,
} from './modules.ts';
import { policyMetrics } from './observability/metrics.ts';
import { wrapStepCaching } from './policies/cache/step-cache.ts';
import { composePolicies } from './policies/compose.ts';
import { buildInboundStack } from './policies/inbound/stack.ts';
import { createPolicyRuntime, type PolicyRuntime } from './policies/runtime.ts';
import { buildUpstreamStack, type UpstreamStatus } from './policies/upstream/stack.ts';
import type { OpenApiDocument } from './portal/openapi.ts';

/** The outcome of compiling: a plan, or every issue found. */
export type CompileResult =
  | { ok: true; plan: GatewayPlan<ResolvedConfig> & { readonly openApi: OpenApiDocument } }
  | { ok: false; issues: ConfigIssue[] };

const DEFAULT_SERVICE_TIMEOUT_MS = 10_000;

/** Compiles a loaded config into a plan. On issues, what was already built is closed. */
export async function compilePlan(
  loaded: LoadedConfig<ResolvedConfig>,
  logger: Logger,
  /** `chorus test` only: the network clients' stand-ins every connector opens instead. */
  standIn?: TransportStandIn,
): Promise<CompileResult> {
  const { config, file, baseDir } = loaded;
  // The reporter reaches the parsed source (for positions) only while compiling: factories keep their
  // context, and the YAML document is ~3 KB per endpoint that the running gateway never reads.
  let locate: LoadedConfig['locate'] | undefined = loaded.locate;
  const issues: ConfigIssue[] = [];
  const issue: IssueReporter = (at, message, options) => {
    const position = locate?.(at, options);
    issues.push(position ? { file, path: at, message, position } : { file, path: at, message });
  };
  const connectors = await buildConnectors(config, { baseDir, logger, standIn }, issue);
  const policyCtx: PolicyFactoryContext = { logger, baseDir, issue, telemetry: policyMetrics };
  const runtime = await createPolicyRuntime(config, policyCtx);
  const statuses: (() => UpstreamStatus)[] = [];
  const compiled = await compileGateway({
    config,
    baseDir,
    issue,
    services: bindServices(config, connectors, { ...policyCtx, shared: runtime }, statuses),
    inbound: inboundWiring(config, runtime, policyCtx),
    wrapStep: stepCaching(runtime, policyCtx),
  });
  const close = async (): Promise<void> => {
    await Promise.allSettled([
      ...[...connectors.values()].map((connector) => connector.close()),
      runtime.close(),
    ]);
  };
  // The portal's description file is read once here, so a missing file is a load issue at its key.
  // Imported only then: the portal and markdown-it are loaded on first use (docs/performance.md, "Memory").
  if (config.portal.descriptionFile !== undefined) {
    const { readPortalDescription } = await import('./portal/description.ts');
    await readPortalDescription(config.portal, baseDir, issue);
  }
  locate = undefined;
  if (issues.length > 0) {
    await close();
    return { ok: false, issues };
  }
  // The OpenAPI document is generated when first read (/openapi.json, the portal), not at start: for
  // 10,000 endpoints it is several MB that a gateway nobody asks for its document never needs.
  let openApi: OpenApiDocument | undefined;
  return {
    ok: true,
    plan: {
      ...compiled,
      config,
      get openApi() {
        openApi ??= openApiDocument(config);
        return openApi;
      },
      connectors,
      clientIp: runtime.clientIp,
      // Breaker state and counts, bulkhead use and hosts of every service, read when asked.
      upstreams: () => statuses.map((status) => status()),
      close,
    },
  };
}

/** One connector per service, built at once; a service that cannot be set up is an issue. */
async function buildConnectors(
  config: ResolvedConfig,
  shared: Omit<ConnectorFactoryContext, 'service'>,
  issue: IssueReporter,
): Promise<Map<string, Connector>> {
  const connectors = new Map<string, Connector>();
  await Promise.all(
    Object.entries(config.services).map(async ([name, service]) => {
      try {
        // The schema admitted only the kinds of the module list.
        const module = connectorModules.get(service.kind)!;
        const built = await module.create(service, { ...shared, service: name });
        if ('issues' in built)
          for (const found of built.issues) issue(['services', name, ...found.path], found.message);
        else connectors.set(name, built);
      } catch (error) {
        issue(['services', name], `service "${name}" could not be set up: ${(error as Error).message}`);
      }
    }),
  );
  return connectors;
}

/** Each service as the engine sees it: its connector's calls wrapped in its upstream policies, composed once. */
function bindServices(
  config: ResolvedConfig,
  connectors: ReadonlyMap<string, Connector>,
  policyCtx: PolicyFactoryContext & { readonly shared: unknown },
  statuses: (() => UpstreamStatus)[],
): Map<string, ServiceBinding> {
  const services = new Map<string, ServiceBinding>();
  for (const [name, connector] of connectors) {
    const service = config.services[name]!;
    const stack = buildUpstreamStack(UPSTREAM_POLICIES, service, { ...policyCtx, service: name, connector });
    statuses.push(() => stack.status());
    services.set(name, {
      describe: () => connector.describe(),
      invoke: composePolicies(stack.policies, (call, callCtx) => connector.call(call, callCtx)),
      timeoutMs: service.timeout ?? DEFAULT_SERVICE_TIMEOUT_MS,
    });
  }
  return services;
}

/** Wraps an endpoint's handler in its inbound policies (cors, IP lists, auth, limits, cache). */
function inboundWiring(
  config: ResolvedConfig,
  runtime: PolicyRuntime,
  policyCtx: PolicyFactoryContext,
): InboundWiring {
  return (endpoint, at, id, handler) => {
    const stack = buildInboundStack(INBOUND_POLICIES, endpoint.policies, config.policies, {
      ...policyCtx,
      shared: runtime,
      endpointId: id,
      method: endpoint.method,
      path: endpoint.path,
      endpointAt: at,
    });
    const handle = composePolicies(stack.policies, handler);
    return stack.preflight === undefined ? { handle } : { handle, preflight: stack.preflight };
  };
}

/**
 * The step cache and invalidation of a step. The cache compiles its key expressions when it
 * wraps, so it is given a body that calls the one built later (bound once, before the plan
 * exists); until step-cache offers compile-then-wrap, a cached step pays one extra call.
 */
function stepCaching(runtime: PolicyRuntime, policyCtx: PolicyFactoryContext): StepWrapping {
  return (step, ctx) => {
    if (step.cache === undefined && step.invalidate === undefined) return undefined;
    let body: StepBody | undefined;
    const late: StepBody = (scope, flowCtx) => body!(scope, flowCtx);
    const wrapped = wrapStepCaching(step, late, { ...policyCtx, runtime, ...ctx });
    return (built) => {
      body = built;
      return wrapped === late ? built : wrapped;
    };
  };
}
