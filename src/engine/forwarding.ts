/**
 * Which call steps' answers are only forwarded: read by nothing but a response body that is
 * exactly `{{ steps.<id> }}`. Their connector may hand back the backend's bytes undecoded
 * (`raw`), and the server sends them as they came (a forEach step's as one JSON array of them). Decided once per endpoint, after every
 * expression of it is compiled and before any call step's body is built.
 */
import type { StepConfig } from '../config/schema.ts';
import type { ResponsePlan } from './plan.ts';

/** The ids of the steps whose answer can be forwarded undecoded. */
export function forwardOnlySteps(
  steps: readonly StepConfig[],
  refsByIndex: readonly ReadonlySet<string>[],
  response: ResponsePlan,
): Set<string> {
  const candidates = new Set<string>();
  for (const step of steps) {
    // onError must be fail: a skipped or fallback item would put other values among the bytes.
    if (step.call !== undefined && (step.onError ?? 'fail') === 'fail') {
      candidates.add(step.id);
    }
  }
  for (const refs of refsByIndex) for (const ref of refs) candidates.delete(ref);
  for (const entry of response.cases) {
    for (const template of [entry.status, ...entry.headers.map((h) => h.value)]) {
      for (const ref of template.stepRefs) candidates.delete(ref);
    }
    if (entry.when) for (const ref of entry.when.stepRefs) candidates.delete(ref);
    const body = entry.body;
    if (!body) continue;
    const whole =
      body.expressions.length === 1 && body.expressions[0]!.path.length === 0
        ? body.expressions[0]!
        : undefined;
    const path = whole?.expression.plainPath;
    const forwarded = path !== undefined && path.length === 2 && path[0] === 'steps' ? path[1] : undefined;
    for (const ref of body.stepRefs) if (ref !== forwarded) candidates.delete(ref);
  }
  return candidates;
}
