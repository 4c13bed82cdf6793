/**
 * An endpoint's responses, compiled: each case's `when`, status, headers and body templates,
 * in the response scope (the base variables and `warnings`). Without a body, a case answers
 * with the last step's output.
 */
import type { ConfigPath } from '../contracts/issues.ts';
import { BASE_VARIABLES, type EndpointCompiler } from './compile-context.ts';
import { checkRefs, locatedRefs } from './graph.ts';
import type { ResponseCasePlan, ResponsePlan } from './plan.ts';

/** Compiles the response cases of the endpoint; unknown steps they read are reported. */
export function compileResponse(c: EndpointCompiler): ResponsePlan {
  const { endpoint } = c;
  const responseAt: ConfigPath = [...c.at, 'response'];
  const scope = new Set<string>([...BASE_VARIABLES, 'warnings']);
  const lastStep = endpoint.flow.at(-1);
  const configs = Array.isArray(endpoint.response)
    ? endpoint.response
    : [{ status: 200, ...endpoint.response }];
  const cases: ResponseCasePlan[] = configs.map((config, index) => {
    const caseAt: ConfigPath = Array.isArray(endpoint.response) ? [...responseAt, index] : responseAt;
    const when =
      'when' in config && typeof config.when === 'string'
        ? c.expression(config.when, [...caseAt, 'when'], scope)
        : undefined;
    const body =
      config.body !== undefined
        ? c.template(config.body, [...caseAt, 'body'], scope)
        : lastStep
          ? c.template(`{{ steps.${lastStep.id} }}`, caseAt, scope)
          : undefined;
    const status = c.template(config.status ?? 200, [...caseAt, 'status'], scope);
    const headers = Object.entries(config.headers ?? {}).map(([name, value]) => ({
      name: name.toLowerCase(),
      value: c.template(value, [...caseAt, 'headers', name], scope),
    }));
    checkRefs(c, locatedRefs(when, [...caseAt, 'when']));
    checkRefs(c, locatedRefs(status, [...caseAt, 'status']));
    if (config.body !== undefined) checkRefs(c, locatedRefs(body, [...caseAt, 'body']));
    for (const header of headers)
      checkRefs(c, locatedRefs(header.value, [...caseAt, 'headers', header.name]));
    return { when, status, headers, body };
  });
  return { cases };
}
