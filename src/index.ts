/** The public API of Chorus as a library: load, compile and serve a config from code. */

export { type ConfigIssue, formatIssue } from './config/issues.ts';
export type { LoadedConfig, LoadResult } from './config/load.ts';
export type { CodeFunction } from './config/schema.ts';
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
export type { ChorusConfig, ResolvedConfig } from './modules.ts';
export { configJsonSchema, defineConfig, loadConfig, loadConfigText } from './modules.ts';
export { createLogger } from './observability/logger.ts';
export { generateOpenApi } from './portal/openapi.ts';
export { type Gateway, type StartOptions, startGateway } from './server/server.ts';
