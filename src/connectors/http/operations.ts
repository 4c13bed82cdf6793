/**
 * Load time of the `http` connector: each operation compiled once (path template with the
 * service's base path, static query and headers, accepted statuses) and described for the
 * portal, load-time checks and the retry policy.
 */
import type { ConnectorIssue, OperationDescription } from '../../contracts/connector.ts';
import type { OperationExtras } from '../../errors/call-errors.ts';
import { compileHeaders, type HeaderRules } from '../../transports/http/headers.ts';
import { encodeStaticQuery, parsePathTemplate } from '../../transports/http/request-target.ts';
import { createOutputSchemaReader } from '../../types/output-schema.ts';
import type { HttpOperationConfig, HttpServiceConfig } from './schema.ts';

/** Methods that may be repeated safely (RFC 9110 §9.2.2), so retried by default. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/** The http connector sets no header of its own; bad input header names are left to undici. */
export const HTTP_HEADER_RULES: HeaderRules = Object.freeze({
  managed: new Set<string>(),
  checkInputNames: false,
});

/** One operation with everything its calls need precomputed. */
export interface CompiledOperation {
  readonly name: string;
  readonly method: HttpOperationConfig['method'];
  /** Literal path pieces around the placeholders; the service's base path is already in the first. */
  readonly literals: readonly string[];
  /** The placeholder names in path order; `literals` has one more entry. */
  readonly params: readonly string[];
  /** The encoded static query (`a=1&b=2`) or ''. */
  readonly staticQuery: string;
  /** Service and operation headers merged, names lowercased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly accept: ReadonlySet<number> | null;
  readonly responseType: HttpOperationConfig['responseType'];
  readonly extras: OperationExtras;
}

/** The compiled operations of a service and their descriptions; problems go to `issues`. */
export function compileOperations(
  config: HttpServiceConfig,
  service: string,
  basePath: string,
  issues: ConnectorIssue[],
  /** Directory of the config file (output schemas may point into files). */
  baseDir = '.',
): { operations: Map<string, CompiledOperation>; descriptions: readonly OperationDescription[] } {
  const outputSchemaOf = createOutputSchemaReader(baseDir);
  const serviceHeaders = compileHeaders(config.headers, ['headers'], issues);
  const operations = new Map<string, CompiledOperation>();
  const descriptions: OperationDescription[] = [];
  for (const [name, operation] of Object.entries(config.operations)) {
    const template = parsePathTemplate(operation.path);
    if (typeof template === 'string') {
      issues.push({ path: ['operations', name, 'path'], message: template });
      continue;
    }
    const operationHeaders = compileHeaders(operation.headers, ['operations', name, 'headers'], issues);
    const literals = [...template.literals];
    literals[0] = basePath + literals[0];
    operations.set(name, {
      name,
      method: operation.method,
      literals,
      params: template.params,
      staticQuery: encodeStaticQuery(operation.query),
      headers: Object.freeze({ ...serviceHeaders, ...operationHeaders }),
      accept: operation.accept === undefined ? null : new Set(operation.accept),
      responseType: operation.responseType,
      extras: Object.freeze({ service, operation: name }),
    });
    const description: OperationDescription = {
      name,
      requiredParams: Object.freeze([...new Set(template.params)]),
      method: operation.method,
      path: operation.path,
      idempotent: operation.idempotent ?? IDEMPOTENT_METHODS.has(operation.method),
    };
    if (operation.summary !== undefined) description.summary = operation.summary;
    const outputSchema = outputSchemaOf(operation.output, ['operations', name, 'output'], issues);
    if (outputSchema !== undefined) description.outputSchema = outputSchema;
    descriptions.push(Object.freeze(description));
  }
  return { operations, descriptions: Object.freeze(descriptions) };
}
