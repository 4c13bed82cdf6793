/** The result cache of a step and the invalidation a step does, wrapped around its body at load. */
import type { ConfigPath } from '../../config/issues.ts';
import type { StepConfig } from '../../config/schema.ts';
import type { StepPlan } from '../../engine/plan.ts';
import type { PolicyFactoryContext, PolicyRuntime } from '../runtime.ts';

/** What wrapping a step needs. */
export interface StepCacheContext extends PolicyFactoryContext {
  readonly runtime: PolicyRuntime;
  readonly endpointId: string;
  /** Where the step is in the config. */
  readonly at: ConfigPath;
  /** Compiles a CEL expression with the step's scope; reports issues itself. */
  readonly compileExpression: (
    source: string,
    at: ConfigPath,
  ) => import('../../engine/expressions/cel.ts').CompiledExpression | undefined;
}

// DRAFT: the owner of caching implements step.cache and step.invalidate here.
export function wrapStepCaching(
  _step: StepConfig,
  execute: StepPlan['execute'],
  _ctx: StepCacheContext,
): StepPlan['execute'] {
  return execute;
}
