/**
 * Types through a flow, checked at load: every expression of an endpoint is typed against the
 * names in its scope — `request` from the endpoint's input schema, `steps.<id>` from what each step
 * gives (a call: its operation's output schema, as the connector describes it; a map: its
 * template's type; anything else: dyn), `item` under forEach, `vars` from their values, `env` as
 * strings — and a field the types say is not there is a problem at its line and column, with a
 * did-you-mean. Where a type is unknown nothing is claimed (`chorus validate --strict` lists
 * those reads as warnings).
 */
import type { CoreConfig, EndpointConfig, StepConfig } from '../config/schema.ts';
import type { OperationDescription } from '../contracts/connector.ts';
import type { ConfigPath, IssueReporter } from '../contracts/issues.ts';
import type { CompiledExpression } from '../expressions/cel.ts';
import { type CompiledTemplate, compileTemplate } from '../expressions/template.ts';
import { type DynRead, type TypeScope, typeExpression } from './expression-types.ts';
import {
  elementOf,
  type FlowType,
  type JsonSchema,
  listOf,
  NULL,
  objectOf,
  openObjectOf,
  STRING,
  typeOf,
  typeOfValue,
  union,
} from './json-type.ts';

/** What typing a flow needs of the wiring: the config and each service's operations. */
export interface FlowTypeInputs {
  readonly config: CoreConfig;
  readonly services: ReadonlyMap<string, { describe(): readonly OperationDescription[] }>;
}

/** The typing of one endpoint. */
export interface FlowTypes {
  /** Checks a compiled expression at its place; problems go to `report`. */
  checkExpression(expression: CompiledExpression, at: ConfigPath, report: IssueReporter): void;
  /** Checks every expression of a compiled template at its place. */
  checkTemplate(template: CompiledTemplate, at: ConfigPath, report: IssueReporter): void;
  /** The type of the value a template builds, in the scope of its place. */
  templateType(template: CompiledTemplate, value: unknown, at: ConfigPath): FlowType;
  /** The type of a step's output (dyn when unknown). */
  stepType(id: string): FlowType;
}

/** The step fields whose meaning is known here; a step with any other (a new kind) is dyn. */
const KNOWN_STEP_FIELDS = new Set([
  'id',
  'description',
  'call',
  'input',
  'map',
  'code',
  'when',
  'forEach',
  'concurrency',
  'after',
  'onError',
  'timeout',
  'cache',
  'invalidate',
]);

/** Whether a step has a field whose meaning is not known here (another module's): its types are dyn. */
function hasUnknownFields(step: StepConfig): boolean {
  return Object.keys(step).some(
    (key) => !KNOWN_STEP_FIELDS.has(key) && (step as Record<string, unknown>)[key] !== undefined,
  );
}

const EVERY_NAME = new Set(['request', 'steps', 'env', 'vars', 'item', 'index', 'error', 'warnings']);

/** A read of an untyped field, kept for --strict: where it is and what it reads. */
export interface DynReadSite {
  readonly at: ConfigPath;
  readonly offset: number;
  readonly path: string;
}

const dynReads = new WeakMap<object, DynReadSite[]>();

/** The reads of fields whose type is unknown found while compiling `config` (for --strict). */
export function dynReadsOf(config: object): readonly DynReadSite[] {
  return dynReads.get(config) ?? [];
}

/**
 * What each endpoint was compiled with (the config and its services), for its OpenAPI document:
 * one small object shared by the endpoints of a compilation, not each endpoint's typing (a
 * gateway of 10,000 endpoints keeps no per-endpoint types once loaded).
 */
const compiledWith = new WeakMap<object, FlowTypeInputs>();
const shared = new WeakMap<FlowTypeInputs, FlowTypeInputs>();

/** The typing of an endpoint as it was compiled (with its services' output types), if it was. */
export function compiledFlowTypes(endpoint: EndpointConfig): FlowTypes | undefined {
  const inputs = compiledWith.get(endpoint);
  return inputs === undefined ? undefined : createFlowTypes(inputs, endpoint, ['endpoints', -1], false);
}

/** The typing of an endpoint; step types are worked out on first use. */
export function createFlowTypes(
  inputs: FlowTypeInputs,
  endpoint: EndpointConfig,
  endpointAt: ConfigPath,
  /** Keep what the endpoint was compiled with, for its OpenAPI document (the engine's compilation). */
  remember = true,
): FlowTypes {
  const request = requestType(endpoint);
  const base = new Map<string, FlowType>([
    ['request', request],
    ['vars', varsType(inputs.config)],
    ['env', typeOf({ type: 'object', additionalProperties: { type: 'string' } })],
    ['index', typeOf({ type: 'integer' })],
  ]);
  let stepTypes: Map<string, FlowType> | undefined;
  let computing = false;

  // An open record: an unknown step is reported by the reference check already (with its own hint).
  const stepsObject = (known: ReadonlyMap<string, FlowType>): FlowType => openObjectOf(known);

  // The item types of forEach steps in the final scope, worked out once per step.
  const itemTypes = new Map<StepConfig, FlowType>();
  const finalSteps = (): FlowType => stepsObject(allStepTypes());

  const scopeAt = (at: ConfigPath, steps: FlowType, final = false): Map<string, FlowType> => {
    const scope = new Map(base).set('steps', steps);
    const step = stepAt(at);
    if (step !== undefined && step.forEach !== undefined) {
      const field = at[endpointAt.length + 2];
      if (field !== 'when' && field !== 'forEach') {
        let item = final ? itemTypes.get(step) : undefined;
        if (hasUnknownFields(step))
          item = undefined; // a step kind not known here (batching…): dyn
        else if (item === undefined && !(final && itemTypes.has(step))) {
          item = elementOf(typeOfSource(step.forEach, new Map(base).set('steps', steps)));
          if (final) itemTypes.set(step, item);
        }
        scope.set('item', item);
      }
    }
    return scope;
  };

  const stepAt = (at: ConfigPath): StepConfig | undefined => {
    const inEndpoint = endpointAt.every((part, i) => at[i] === part);
    if (!inEndpoint || at[endpointAt.length] !== 'flow') return undefined;
    const index = at[endpointAt.length + 1];
    return typeof index === 'number' ? endpoint.flow[index] : undefined;
  };

  const typeOfSource = (source: string, scope: TypeScope): FlowType => {
    const template = compileTemplate(`{{ ${source} }}`, EVERY_NAME, []);
    const placed = template.expressions[0];
    return placed === undefined
      ? undefined
      : typeExpression(placed.expression.ast, placed.expression.source, scope).type;
  };

  const typeOfTemplateValue = (template: CompiledTemplate, value: unknown, scope: TypeScope): FlowType => {
    const byPath = new Map(template.expressions.map((placed) => [JSON.stringify(placed.path), placed]));
    const walk = (node: unknown, path: (string | number)[], depth: number): FlowType => {
      if (depth > 32) return undefined;
      if (typeof node === 'string') {
        if (!node.includes('{{')) return typeOf({ type: 'string', const: node });
        const placed = byPath.get(JSON.stringify(path));
        const whole = /^\s*\{\{([\s\S]*?)\}\}\s*$/.exec(node);
        if (whole && !whole[1]!.includes('{{') && placed !== undefined) {
          return typeExpression(placed.expression.ast, placed.expression.source, scope).type;
        }
        return STRING;
      }
      if (Array.isArray(node))
        return listOf(
          node.length === 0 ? undefined : union(node.map((item, i) => walk(item, [...path, i], depth + 1))),
        );
      if (typeof node === 'object' && node !== null) {
        return objectOf(
          new Map(Object.entries(node).map(([key, child]) => [key, walk(child, [...path, key], depth + 1)])),
        );
      }
      return typeOfValue(node);
    };
    return walk(value, [], 0);
  };

  const ownStepType = (step: StepConfig, index: number, known: ReadonlyMap<string, FlowType>): FlowType => {
    if (hasUnknownFields(step)) return undefined;
    let one: FlowType;
    if (step.call !== undefined) one = operationType(inputs, step.call);
    else if (step.map !== undefined) {
      const at: ConfigPath = [...endpointAt, 'flow', index, 'map'];
      const template = compileTemplate(step.map, EVERY_NAME, []);
      one = typeOfTemplateValue(template, step.map, scopeAt(at, stepsObject(known)));
    } else one = undefined;
    if (one === undefined) return undefined;
    const output = step.forEach === undefined ? one : listOf(one);
    // A step that may not run (when), or whose failure is skipped, gives null; a fallback its value.
    const onError = step.onError;
    if (typeof onError === 'object' && onError !== null && 'fallback' in onError) {
      const scope = scopeAt([...endpointAt, 'flow', index, 'onError'], stepsObject(known));
      const fallback = typeOfSource(onError.fallback, new Map(scope).set('error', undefined));
      return union([output, fallback, ...(step.when === undefined ? [] : [NULL])]);
    }
    return step.when !== undefined || onError === 'skip' ? union([output, NULL]) : output;
  };

  const allStepTypes = (): Map<string, FlowType> => {
    if (stepTypes !== undefined) return stepTypes;
    if (computing) return new Map();
    computing = true;
    let known = new Map<string, FlowType>();
    // Twice: the second pass sees the steps a step reads that are written after it.
    for (let pass = 0; pass < 2; pass++) {
      const next = new Map<string, FlowType>();
      for (const [index, step] of endpoint.flow.entries()) {
        if (!next.has(step.id)) next.set(step.id, ownStepType(step, index, known));
      }
      known = next;
    }
    computing = false;
    stepTypes = known;
    return known;
  };

  const recordDynReads = (reads: readonly DynRead[], at: ConfigPath, base: number): void => {
    if (reads.length === 0) return;
    const list = dynReads.get(inputs.config) ?? [];
    for (const read of reads) list.push({ at, offset: base + read.offset, path: read.path });
    dynReads.set(inputs.config, list);
  };

  const check = (
    expression: CompiledExpression,
    at: ConfigPath,
    offset: number,
    report: IssueReporter,
  ): void => {
    const scope = scopeAt(at, finalSteps(), true);
    const typing = typeExpression(expression.ast, expression.source, scope);
    for (const problem of typing.problems) report(at, problem.message, { offset: offset + problem.offset });
    recordDynReads(typing.dynReads, at, offset);
  };

  const types: FlowTypes = {
    checkExpression(expression, at, report) {
      check(expression, at, 0, report);
    },
    checkTemplate(template, at, report) {
      for (const placed of template.expressions) {
        check(placed.expression, [...at, ...placed.path], placed.offset, report);
      }
    },
    templateType(template, value, at) {
      return typeOfTemplateValue(template, value, scopeAt(at, finalSteps(), true));
    },
    stepType(id) {
      return allStepTypes().get(id);
    },
  };
  if (remember && inputs.services.size > 0) {
    let lite = shared.get(inputs);
    if (lite === undefined) {
      lite = { config: inputs.config, services: inputs.services };
      shared.set(inputs, lite);
    }
    compiledWith.set(endpoint, lite);
  }
  return types;
}

const varsTypes = new WeakMap<object, FlowType>();

/** The type of `vars`, from their values (worked out once per config). */
function varsType(config: CoreConfig): FlowType {
  let type = varsTypes.get(config);
  if (type === undefined) {
    type = typeOfValue(config.vars ?? {});
    varsTypes.set(config, type);
  }
  return type;
}

/** The output type of `service.operation`, as its connector describes it; dyn when it does not. */
export function operationType(inputs: FlowTypeInputs, call: string): FlowType {
  const dot = call.indexOf('.');
  const binding = inputs.services.get(call.slice(0, dot));
  const description = binding?.describe().find((operation) => operation.name === call.slice(dot + 1));
  return typeOf(outputSchemaOf(description));
}

/** The output schema a connector gives an operation: `outputSchema` (HTTP, gRPC, GraphQL, XML) or `output` (SOAP). */
export function outputSchemaOf(description: OperationDescription | undefined): JsonSchema | undefined {
  const schema = description?.outputSchema ?? description?.output;
  return typeof schema === 'object' && schema !== null && !Array.isArray(schema)
    ? (schema as JsonSchema)
    : undefined;
}

/** The type of `request`: its fixed fields, params and query as declared, the body by its schema. */
function requestType(endpoint: EndpointConfig): FlowType {
  const input = endpoint.input;
  const pathParams = [...endpoint.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);
  const parameters = (declared: Record<string, { type?: string }> | undefined, extra: readonly string[]) => {
    const fields = new Map<string, FlowType>();
    for (const name of extra) fields.set(name, STRING);
    for (const [name, parameter] of Object.entries(declared ?? {})) {
      fields.set(name, typeOf({ type: parameter.type ?? 'string' }));
    }
    return fields;
  };
  // Undeclared path parameters are reported by their own check; the query is closed once declared.
  const params = openObjectOf(parameters(input?.params, pathParams));
  const query =
    input?.query === undefined
      ? typeOf({ type: 'object', additionalProperties: {} })
      : objectOf(parameters(input.query, []));
  // A field of request that is the name of a parameter was meant as one: request.id → request.params.id.
  const hints = new Map<string, string>();
  for (const name of input?.query === undefined ? [] : Object.keys(input.query))
    hints.set(name, `request.query.${name}`);
  for (const name of params.fields!.keys()) hints.set(name, `request.params.${name}`);
  // request.id with no `id` parameter: the request's own id is request.requestId.
  if (!hints.has('id')) hints.set('id', 'request.requestId');
  const fields = new Map<string, FlowType>([
    ['method', STRING],
    ['path', STRING],
    ['params', params],
    ['query', query],
    ['headers', typeOf({ type: 'object', additionalProperties: { type: 'string' } })],
    ['body', input?.body === undefined ? undefined : typeOf(input.body)],
    ['consumer', undefined],
    ['requestId', STRING],
    ['clientIp', STRING],
  ]);
  return { ...objectOf(fields), hints };
}
