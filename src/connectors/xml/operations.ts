/**
 * Load time of the `xml` connector: each operation compiled once (path template with the
 * service's base path, static query and headers, the shape its answers are read with, the root
 * element of its requests) and described for the portal and load-time checks.
 */
import type { ConnectorIssue, OperationDescription } from '../../contracts/connector.ts';
import type { OperationExtras } from '../../errors/call-errors.ts';
import { compileHeaders, type HeaderRules } from '../../transports/http/headers.ts';
import { encodeStaticQuery, parsePathTemplate } from '../../transports/http/request-target.ts';
import { createOutputSchemaReader } from '../../types/output-schema.ts';
import { checkShapePath, type ShapeNode, shapeFromPaths } from '../../xml/shape.ts';
import { isXmlName } from '../../xml/write.ts';
import type { XmlOperationConfig, XmlServiceConfig } from './schema.ts';

const DEFAULT_ACCEPT = 'application/xml, text/xml, application/rss+xml, application/atom+xml, */*;q=0.1';

/** The xml connector sets no header of its own but checks input header names itself. */
export const XML_HEADER_RULES: HeaderRules = Object.freeze({
  managed: new Set<string>(),
  checkInputNames: true,
});

/** One operation with everything its calls need precomputed. */
export interface CompiledOperation {
  readonly name: string;
  readonly method: XmlOperationConfig['method'];
  /** Literal path pieces around the placeholders; the service's base path is already in the first. */
  readonly literals: readonly string[];
  /** The placeholder names in path order; `literals` has one more entry. */
  readonly params: readonly string[];
  /** The encoded static query (`a=1&b=2`) or ''. */
  readonly staticQuery: string;
  /** Service and operation headers merged, names lowercased, with a default accept. */
  readonly headers: Readonly<Record<string, string>>;
  readonly accept: ReadonlySet<number> | null;
  /** The arrays/numbers/booleans of the answer, or undefined when there are none. */
  readonly shape: ShapeNode | undefined;
  readonly parseValues: boolean;
  readonly root: string | undefined;
  readonly extras: OperationExtras;
}

/** The compiled operations of a service and their descriptions; problems go to `issues`. */
export function compileOperations(
  config: XmlServiceConfig,
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
    const at = ['operations', name];
    const template = parsePathTemplate(operation.path);
    if (typeof template === 'string') {
      issues.push({ path: [...at, 'path'], message: template });
      continue;
    }
    checkShape(operation, at, issues);
    const operationHeaders = compileHeaders(operation.headers, [...at, 'headers'], issues);
    const literals = [...template.literals];
    literals[0] = basePath + literals[0];
    const hasPaths = [operation.arrays, operation.numbers, operation.booleans].some((paths) => paths?.length);
    operations.set(name, {
      name,
      method: operation.method,
      literals,
      params: template.params,
      staticQuery: encodeStaticQuery(operation.query),
      headers: Object.freeze({ accept: DEFAULT_ACCEPT, ...serviceHeaders, ...operationHeaders }),
      accept: operation.accept === undefined ? null : new Set(operation.accept),
      shape: hasPaths || operation.parseValues ? shapeFromPaths(operation) : undefined,
      parseValues: operation.parseValues,
      root: operation.root,
      extras: Object.freeze({ service, operation: name }),
    });
    const description: OperationDescription = {
      name,
      requiredParams: Object.freeze([...new Set(template.params)]),
      // Retried only when declared in the retry policy (as before the transport was shared).
      idempotent: false,
      method: operation.method,
      path: operation.path,
    };
    if (operation.summary !== undefined) description.summary = operation.summary;
    const outputSchema = outputSchemaOf(operation.output, [...at, 'output'], issues);
    if (outputSchema !== undefined) description.outputSchema = outputSchema;
    descriptions.push(Object.freeze(description));
  }
  return { operations, descriptions: Object.freeze(descriptions) };
}

/** The shape paths and root element of an operation, checked. */
function checkShape(operation: XmlOperationConfig, at: string[], issues: ConnectorIssue[]): void {
  for (const key of ['arrays', 'numbers', 'booleans'] as const) {
    (operation[key] ?? []).forEach((path, index) => {
      const problem = checkShapePath(path);
      if (problem !== undefined) issues.push({ path: [...at, key, index], message: problem });
    });
  }
  if (operation.root !== undefined && !isXmlName(operation.root)) {
    issues.push({ path: [...at, 'root'], message: `"${operation.root}" is not an XML element name` });
  }
}
