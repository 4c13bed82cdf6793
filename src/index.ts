/** The public API of Chorus as a library: load, compile and serve a config from code. */

export { type ConfigIssue, formatIssue } from './config/issues.ts';
export { configJsonSchema } from './config/json-schema.ts';
export {
  defineConfig,
  type LoadedConfig,
  type LoadResult,
  loadConfig,
  loadConfigText,
} from './config/load.ts';
export type { ChorusConfig, CodeFunction, ResolvedConfig } from './config/schema.ts';
export type { Connector, ConnectorCall, ConnectorResult } from './contracts/connector.ts';
export type { GatewayPlan } from './engine/plan.ts';
export {
  ChorusError,
  ERROR_CATALOGUE,
  type ErrorCode,
  type ProblemDocument,
  toProblem,
} from './errors/catalogue.ts';
export { type CompileResult, compilePlan } from './gateway.ts';
export { createLogger } from './observability/logger.ts';
export { generateOpenApi } from './portal/openapi.ts';
export { type Gateway, type StartOptions, startGateway } from './server/server.ts';
