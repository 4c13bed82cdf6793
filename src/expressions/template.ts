/**
 * Templates: YAML/JSON values shaped like what they build. A string that is exactly
 * `{{ expr }}` yields the expression's value (any type); a string with `{{ }}` among text is
 * interpolated into a string. Everything is compiled once into small evaluate functions;
 * constant subtrees are frozen and returned as they are.
 */
import { type CompiledExpression, compileExpression, ExpressionCompileError, type Scope } from './cel.ts';

/** An expression of a template and where it stands in it. */
export interface PlacedExpression {
  readonly expression: CompiledExpression;
  /** Path below the template's root. */
  readonly path: readonly (string | number)[];
  /** Offset of the expression in its string. */
  readonly offset: number;
}

/** A template ready to evaluate. */
export interface CompiledTemplate {
  readonly stepRefs: ReadonlySet<string>;
  readonly requestReads: ReadonlySet<string>;
  readonly envReads: ReadonlySet<string>;
  readonly expressions: readonly PlacedExpression[];
  /** True when the template holds no expression: its value never changes. */
  readonly constant: boolean;
  evaluate(scope: Scope): unknown;
}

/** A problem in a template: the path below the template's root and, for expressions, the offset in the string. */
export interface TemplateIssue {
  path: (string | number)[];
  message: string;
  /** Offset in the string value where the problem is. */
  offset?: number;
}

const WHOLE = /^\s*\{\{([\s\S]*?)\}\}\s*$/;
const PART = /\{\{([\s\S]*?)\}\}/g;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function stringify(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

interface Node {
  constant: boolean;
  value?: unknown;
  evaluate?: (scope: Scope) => unknown;
}

/** Compiles a template; problems are pushed to `issues` (the result then evaluates to null where they were). */
export function compileTemplate(
  template: unknown,
  allowed: ReadonlySet<string>,
  issues: TemplateIssue[],
): CompiledTemplate {
  const compiler = new TemplateCompiler(allowed, issues);
  const root = compiler.node(template, []);
  const { expressions } = compiler;
  const stepRefs = new Set<string>();
  const requestReads = new Set<string>();
  const envReads = new Set<string>();
  for (const { expression } of expressions) {
    for (const ref of expression.stepRefs) stepRefs.add(ref);
    for (const read of expression.requestReads) requestReads.add(read);
    for (const name of expression.envReads) envReads.add(name);
  }
  if (root.constant) {
    const value = deepFreeze(root.value);
    return { stepRefs, requestReads, envReads, expressions, constant: true, evaluate: () => value };
  }
  return { stepRefs, requestReads, envReads, expressions, constant: false, evaluate: root.evaluate! };
}

/** Walks a template once at load, turning each leaf into a constant or an evaluate function. */
class TemplateCompiler {
  readonly expressions: PlacedExpression[] = [];
  private readonly allowed: ReadonlySet<string>;
  private readonly issues: TemplateIssue[];

  constructor(allowed: ReadonlySet<string>, issues: TemplateIssue[]) {
    this.allowed = allowed;
    this.issues = issues;
  }

  node(value: unknown, path: (string | number)[]): Node {
    if (typeof value === 'string') return this.string(value, path);
    if (Array.isArray(value)) return this.array(value, path);
    if (typeof value === 'object' && value !== null) return this.object(value, path);
    return { constant: true, value: value ?? null };
  }

  private expression(
    source: string,
    path: (string | number)[],
    offset: number,
  ): CompiledExpression | undefined {
    try {
      const expr = compileExpression(source.trim(), this.allowed);
      this.expressions.push({
        expression: expr,
        path,
        offset: offset + source.length - source.trimStart().length,
      });
      return expr;
    } catch (error) {
      const inner = error instanceof ExpressionCompileError ? error.offset : undefined;
      const lead = source.length - source.trimStart().length;
      this.issues.push({
        path,
        message: `expression "${source.trim()}": ${(error as Error).message}`,
        offset: offset + lead + (inner ?? 0),
      });
      return undefined;
    }
  }

  private string(value: string, path: (string | number)[]): Node {
    if (!value.includes('{{')) return { constant: true, value };
    const whole = WHOLE.exec(value);
    if (whole && whole[1] !== undefined && !whole[1].includes('{{')) {
      const expr = this.expression(whole[1], path, value.indexOf('{{') + 2);
      return expr ? { constant: false, evaluate: expr.evaluate } : { constant: true, value: null };
    }
    const literals: string[] = [];
    const parts: ((scope: Scope) => unknown)[] = [];
    let last = 0;
    for (const match of value.matchAll(PART)) {
      literals.push(value.slice(last, match.index));
      const expr = this.expression(match[1] ?? '', path, match.index + 2);
      parts.push(expr ? expr.evaluate : () => '');
      last = match.index + match[0].length;
    }
    const tail = value.slice(last);
    return {
      constant: false,
      evaluate: (scope) => {
        let out = literals[0] ?? '';
        for (let i = 0; i < parts.length; i++) out += stringify(parts[i]!(scope)) + (literals[i + 1] ?? '');
        return out + tail;
      },
    };
  }

  private array(value: unknown[], path: (string | number)[]): Node {
    const children = value.map((item, index) => this.node(item, [...path, index]));
    if (children.every((child) => child.constant))
      return { constant: true, value: children.map((c) => c.value) };
    const fns = children.map((child) => child.evaluate ?? (() => child.value));
    return { constant: false, evaluate: (scope) => fns.map((fn) => fn(scope)) };
  }

  private object(value: object, path: (string | number)[]): Node {
    const keys: string[] = [];
    const children: Node[] = [];
    for (const [key, child] of Object.entries(value)) {
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
        this.issues.push({ path: [...path, key], message: `"${key}" cannot be a key of a template` });
        continue;
      }
      keys.push(key);
      children.push(this.node(child, [...path, key]));
    }
    if (children.every((child) => child.constant)) {
      const out: Record<string, unknown> = {};
      keys.forEach((key, i) => {
        out[key] = children[i]!.value;
      });
      return { constant: true, value: out };
    }
    const fns = children.map((child) => child.evaluate ?? (() => child.value));
    const count = keys.length;
    return {
      constant: false,
      evaluate: (scope) => {
        const out: Record<string, unknown> = {};
        for (let i = 0; i < count; i++) out[keys[i]!] = fns[i]!(scope);
        return out;
      },
    };
  }
}
