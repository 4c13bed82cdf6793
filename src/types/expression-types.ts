/**
 * The type of a CEL expression, and the fields it reads that its types do not have. A walker over
 * the cel-js AST rather than cel-js's own checker with declared object types: values read from
 * JSON are doubles at run time whatever a schema says (cel-js's typed check would reject
 * `steps.x.count + 1` as double + int), our types are JSON Schemas with open and closed objects
 * and unions (nullable, anyOf) it cannot express, and a mistake should come with a did-you-mean.
 * So this only claims what is certain — a field a closed type does not have, a field read on a
 * list — and is silent (dyn) about everything else.
 */
import { didYouMean } from '../config/did-you-mean.ts';
import {
  BOOLEAN,
  elementOf,
  type FlowType,
  fieldOf,
  INTEGER,
  indexedValueOf,
  listOf,
  NULL,
  NUMBER,
  objectOf,
  STRING,
  union,
} from './json-type.ts';

/** A field read that the types say cannot succeed, at an offset of the expression. */
export interface TypeProblem {
  readonly message: string;
  readonly offset: number;
}

/** A read of a field of a value whose type is unknown (dyn), for `chorus validate --strict`. */
export interface DynRead {
  readonly path: string;
  readonly offset: number;
}

/** The types of the names an expression may read (a name absent here is dyn). */
export type TypeScope = ReadonlyMap<string, FlowType>;

interface Node {
  op: string;
  args: unknown;
  pos?: number;
  start?: number;
  end?: number;
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'op' in value && 'args' in value;
}

const BOOLEAN_OPS = new Set(['==', '!=', '<', '<=', '>', '>=', '&&', '||', '!_', 'in']);
const NUMBER_OPS = new Set(['-', '*', '/', '%', '-_']);
const STRING_METHODS = new Set([
  'lowerAscii',
  'upperAscii',
  'trim',
  'replace',
  'substring',
  'charAt',
  'join',
  'format',
]);
const BOOLEAN_METHODS = new Set([
  'startsWith',
  'endsWith',
  'contains',
  'matches',
  'all',
  'exists',
  'exists_one',
  'hasValue',
]);
const CONVERSIONS: Readonly<Record<string, FlowType>> = {
  string: STRING,
  int: INTEGER,
  uint: INTEGER,
  double: NUMBER,
  bool: BOOLEAN,
  size: INTEGER,
};

/** The result of typing one expression. */
export interface ExpressionTyping {
  readonly type: FlowType;
  readonly problems: readonly TypeProblem[];
  readonly dynReads: readonly DynRead[];
}

/** Types an expression's AST in a scope; `source` is the expression text (for paths in messages). */
export function typeExpression(ast: unknown, source: string, scope: TypeScope): ExpressionTyping {
  const problems: TypeProblem[] = [];
  const dynReads: DynRead[] = [];
  const text = (node: Node): string =>
    node.start !== undefined && node.end !== undefined ? source.slice(node.start, node.end) : 'the value';

  const visit = (value: unknown, bound: TypeScope, quiet: boolean): FlowType => {
    if (Array.isArray(value)) {
      for (const child of value) visit(child, bound, quiet);
      return undefined;
    }
    if (!isNode(value)) return undefined;
    const node = value;
    const { op, args } = node;
    switch (op) {
      case 'id':
        return typeof args === 'string' && bound.has(args) ? bound.get(args) : undefined;
      case 'value':
        return literalType(args);
      case '.':
      case '.?':
      case '[]':
      case '[?]': {
        const [target, key] = args as [unknown, unknown];
        const targetType = visit(target, bound, quiet);
        const name = typeof key === 'string' ? key : isNode(key) && key.op === 'value' ? key.args : undefined;
        if (typeof name !== 'string') {
          visit(key, bound, quiet);
          return indexedValueOf(targetType);
        }
        if (targetType === undefined) {
          if (!quiet && isNode(target) && rootedInData(target)) {
            dynReads.push({ path: `${text(target)}.${name}`, offset: keyOffset(node, key) });
          }
          return undefined;
        }
        const lookup = fieldOf(targetType, name);
        if (lookup.found) return op.endsWith('?') ? undefined : lookup.type;
        if (!quiet && isNode(target))
          problems.push({ message: fieldMessage(text(target), name, lookup), offset: keyOffset(node, key) });
        return undefined;
      }
      case '?:': {
        const [condition, yes, no] = args as [unknown, unknown, unknown];
        visit(condition, bound, quiet);
        return union([visit(yes, bound, quiet), visit(no, bound, quiet)]);
      }
      case 'list': {
        const items = (args as unknown[]).map((item) => visit(item, bound, quiet));
        return listOf(items.length === 0 ? undefined : union(items));
      }
      case 'map': {
        const fields = new Map<string, FlowType>();
        let literal = true;
        for (const entry of args as unknown[]) {
          const [key, child] = entry as [unknown, unknown];
          const childType = visit(child, bound, quiet);
          if (isNode(key) && key.op === 'value' && typeof key.args === 'string')
            fields.set(key.args, childType);
          else {
            visit(key, bound, quiet);
            literal = false;
          }
        }
        return literal ? objectOf(fields) : undefined;
      }
      case 'call': {
        const [name, callArgs] = args as [string, unknown[]];
        // has(x.f) asks whether a field is there: reading it is its point, not a mistake.
        for (const arg of callArgs) visit(arg, bound, quiet || name === 'has');
        if (name === 'has') return BOOLEAN;
        if (name === 'dyn') return undefined;
        return CONVERSIONS[name];
      }
      case 'rcall': {
        const [method, receiver, callArgs] = args as [string, unknown, unknown[]];
        const receiverType = visit(receiver, bound, quiet);
        const first = callArgs[0];
        if (
          ['map', 'filter', 'all', 'exists', 'exists_one'].includes(method) &&
          isNode(first) &&
          first.op === 'id' &&
          typeof first.args === 'string'
        ) {
          const inner = new Map(bound).set(first.args, elementOf(receiverType));
          const bodies = callArgs.slice(1).map((arg) => visit(arg, inner, quiet));
          if (method === 'map') return listOf(bodies.at(-1));
          if (method === 'filter') return receiverType;
          return BOOLEAN;
        }
        for (const arg of callArgs) visit(arg, bound, quiet);
        if (method === 'size') return INTEGER;
        if (STRING_METHODS.has(method)) return STRING;
        if (BOOLEAN_METHODS.has(method)) return BOOLEAN;
        return undefined;
      }
      case '+': {
        const [left, right] = args as [unknown, unknown];
        const types = [visit(left, bound, quiet), visit(right, bound, quiet)];
        if (types.every((type) => type === STRING)) return STRING;
        if (types.every((type) => type === INTEGER)) return INTEGER;
        if (types.every((type) => type === INTEGER || type === NUMBER)) return NUMBER;
        return undefined;
      }
      default: {
        visit(args, bound, quiet);
        if (BOOLEAN_OPS.has(op)) return BOOLEAN;
        if (NUMBER_OPS.has(op)) return NUMBER;
        return undefined;
      }
    }
  };
  const type = visit(ast, scope, false);
  return { type, problems, dynReads };
}

/** Reads of data whose type may be unknown (for --strict): below steps, request.body, item. */
function rootedInData(node: Node): boolean {
  let current: unknown = node;
  while (isNode(current) && current.op !== 'id') current = (current.args as unknown[])[0];
  return (
    isNode(current) && (current.args === 'steps' || current.args === 'item' || current.args === 'request')
  );
}

/** Where the field name is: after the dot, or the key of a [] access. */
function keyOffset(node: Node, key: unknown): number {
  if (isNode(key) && key.pos !== undefined) return key.pos;
  // cel-js puts a member access at the name after its dot.
  return node.pos ?? 0;
}

function fieldMessage(
  target: string,
  name: string,
  lookup: Extract<ReturnType<typeof fieldOf>, { found: false }>,
): string {
  if (lookup.kind === 'list')
    return `${target} is a list: it has no field "${name}" (read an item, as ${target}[0].${name}, or use .map())`;
  if (lookup.kind === 'scalar') return `${target} is not a map: it has no field "${name}"`;
  if (lookup.hint !== undefined) return `${target} has no field "${name}" (did you mean "${lookup.hint}"?)`;
  const close = didYouMean(name, lookup.known);
  const list =
    close === '' && lookup.known.length > 0 && lookup.known.length <= 20
      ? ` (fields: ${lookup.known.join(', ')})`
      : '';
  return `${target} has no field "${name}"${close}${list}`;
}

function literalType(value: unknown): FlowType {
  switch (typeof value) {
    case 'string':
      return STRING;
    case 'boolean':
      return BOOLEAN;
    case 'bigint':
      return INTEGER;
    case 'number':
      return NUMBER;
    default:
      return value === null ? NULL : undefined;
  }
}
