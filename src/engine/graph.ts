/**
 * A flow's dependency graph, decided at load: the steps each step reads (from its expressions'
 * `steps.<id>` reads and its `after`), unknown references with a suggestion, the cycle check,
 * and the dependency and dependent lists the flow runner counts down.
 */
import type { StepConfig } from '../config/schema.ts';
import type { ConfigPath } from '../contracts/issues.ts';
import type { CompiledExpression } from '../expressions/cel.ts';
import type { CompiledTemplate } from '../expressions/template.ts';
import type { EndpointCompiler } from './compile-context.ts';
import type { FlowPlan, StepPlan } from './plan.ts';

/** A step reference with the place in the config it comes from. */
export interface LocatedRef {
  ref: string;
  at: ConfigPath;
  offset: number | undefined;
}

/** The step references of an expression or a template, each with its own place. */
export function locatedRefs(
  source: CompiledExpression | CompiledTemplate | undefined,
  at: ConfigPath,
): LocatedRef[] {
  if (source === undefined) return [];
  if ('expressions' in source) {
    return source.expressions.flatMap((placed) =>
      [...placed.expression.stepRefs].map((ref) => ({
        ref,
        at: [...at, ...placed.path],
        offset: placed.offset,
      })),
    );
  }
  return [...source.stepRefs].map((ref) => ({ ref, at, offset: undefined }));
}

/** Records the steps an expression or template of a step reads into `refs`, reporting bad ones. */
export type RefCollector = (expr: CompiledExpression | CompiledTemplate | undefined, at: ConfigPath) => void;

/** The collector of one step: unknown steps and reads of its own output are reported. */
export function refCollector(c: EndpointCompiler, step: StepConfig, refs: Set<string>): RefCollector {
  return (expr, fieldAt) => {
    for (const { ref, at: refAt, offset } of locatedRefs(expr, fieldAt)) {
      const options = offset === undefined ? {} : { offset };
      if (!c.stepIndex.has(ref))
        c.issue(refAt, `unknown step "${ref}"${suggestStep(ref, c.stepIndex)}`, options);
      else if (ref === step.id) c.issue(refAt, `step "${step.id}" reads its own output`, options);
      else refs.add(ref);
    }
  };
}

/** Adds a step's `after` list to its refs, reporting unknown steps and itself. */
export function addAfterRefs(
  c: EndpointCompiler,
  step: StepConfig,
  stepAt: ConfigPath,
  refs: Set<string>,
): void {
  for (const [position, ref] of (step.after ?? []).entries()) {
    const afterAt: ConfigPath = [...stepAt, 'after', position];
    if (!c.stepIndex.has(ref)) c.issue(afterAt, `unknown step "${ref}"${suggestStep(ref, c.stepIndex)}`);
    else if (ref === step.id) c.issue(afterAt, `step "${step.id}" cannot come after itself`);
    else refs.add(ref);
  }
}

/** Reports references to steps the flow does not have (responses may read any step). */
export function checkRefs(c: EndpointCompiler, refs: readonly LocatedRef[]): void {
  for (const { ref, at: refAt, offset } of refs) {
    if (!c.stepIndex.has(ref)) {
      c.issue(
        refAt,
        `unknown step "${ref}"${suggestStep(ref, c.stepIndex)}`,
        offset === undefined ? {} : { offset },
      );
    }
  }
}

/** Finds a dependency cycle and names it (a → b → a), or undefined. */
export function findCycle(steps: readonly StepConfig[], refs: readonly string[][]): string[] | undefined {
  const index = new Map(steps.map((step, i) => [step.id, i]));
  const state = new Array<0 | 1 | 2>(steps.length).fill(0); // 0 new, 1 on the stack, 2 done
  const stack: number[] = [];
  const visit = (i: number): string[] | undefined => {
    state[i] = 1;
    stack.push(i);
    for (const ref of refs[i] ?? []) {
      const j = index.get(ref);
      if (j === undefined) continue;
      if (state[j] === 1) return [...stack.slice(stack.indexOf(j)), j].map((k) => steps[k]!.id);
      if (state[j] === 0) {
        const found = visit(j);
        if (found) return found;
      }
    }
    stack.pop();
    state[i] = 2;
    return undefined;
  };
  for (let i = 0; i < steps.length; i++) {
    if (state[i] === 0) {
      const found = visit(i);
      if (found) return found;
    }
  }
  return undefined;
}

/** A hint for an unknown step name: a close match, or the steps there are. */
export function suggestStep(ref: string, known: ReadonlyMap<string, number>): string {
  const names = [...known.keys()];
  const close = names.find(
    (name) => name.toLowerCase() === ref.toLowerCase() || name.startsWith(ref) || ref.startsWith(name),
  );
  return close ? ` (did you mean "${close}"?)` : names.length > 0 ? ` (steps: ${names.join(', ')})` : '';
}

/** A step compiled but not yet placed in the graph. */
export type UnlinkedStep = Omit<StepPlan, 'dependencies' | 'dependents' | 'traceAttributes'>;

/** Places compiled steps in their graph: dependencies, dependents, roots, span attributes. */
export function linkFlow(
  steps: readonly UnlinkedStep[],
  refsByIndex: readonly ReadonlySet<string>[],
  stepIndex: ReadonlyMap<string, number>,
): FlowPlan {
  const dependents: number[][] = steps.map(() => []);
  const linked: StepPlan[] = steps.map((step, index) => {
    const refs = [...refsByIndex[index]!];
    const dependencies = refs.map((ref) => stepIndex.get(ref)!);
    for (const dependency of dependencies) dependents[dependency]!.push(index);
    const { target } = step;
    // What a step's spans say, built once: the waterfall shows what ran, where and after what.
    const traceAttributes = {
      'chorus.step': step.id,
      'chorus.step.kind': step.kind,
      'chorus.step.after': refs,
      ...(target && { 'chorus.service': target.service, 'chorus.operation': target.operation }),
      ...(step.forEach && { 'chorus.step.forEach': true }),
    };
    return { ...step, dependencies, dependents: dependents[index]!, traceAttributes };
  });
  return {
    steps: linked,
    roots: linked.filter((step) => step.dependencies.length === 0).map((step) => step.index),
  };
}
