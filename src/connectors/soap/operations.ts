/**
 * Load time of the `soap` connector: the operations flows may call (those the config lists, else
 * every one the WSDL port has), each compiled once (content type, SOAPAction) and described for
 * the portal and load-time checks.
 */
import type { Logger } from 'pino';
import type { ConnectorIssue, OperationDescription } from '../../contracts/connector.ts';
import type { OperationExtras } from '../../errors/call-errors.ts';
import type { HeaderRules } from '../../transports/http/headers.ts';
import type { SoapServiceConfig } from './schema.ts';
import type { WsdlOperation, WsdlPort } from './wsdl.ts';
import { contentJsonSchema } from './xsd-shapes.ts';

/** Headers the connector sets on every call; the config and input may not. */
export const SOAP_HEADER_RULES: HeaderRules = Object.freeze({
  managed: new Set(['content-type', 'soapaction']),
  checkInputNames: true,
});
/** What a SOAPAction may hold to be sent in a header (quoted) or a content-type parameter. */
const ACTION_TEXT = /^[\x20-\x21\x23-\x7e]*$/;

/** One operation with everything its calls need precomputed. */
export interface CompiledOperation {
  readonly method: 'POST';
  readonly wsdl: WsdlOperation;
  /** The content type, with the action parameter for SOAP 1.2. */
  readonly contentType: string;
  /** The SOAPAction header (SOAP 1.1), quoted; undefined for 1.2. */
  readonly soapAction: string | undefined;
  readonly extras: OperationExtras;
}

/** The operations flows may call: those the config lists, else every one the port has. */
export function chooseOperations(
  config: SoapServiceConfig,
  port: WsdlPort,
  issues: ConnectorIssue[],
  logger: Logger,
  service: string,
): WsdlOperation[] {
  const chosen: WsdlOperation[] = [];
  if (Object.keys(config.operations).length === 0) {
    chosen.push(...port.operations.values());
    for (const [name, reason] of port.unsupported) {
      logger.warn({ service, operation: name }, `soap connector: operation left out: ${reason}`);
    }
    return chosen;
  }
  for (const name of Object.keys(config.operations)) {
    const operation = port.operations.get(name);
    const unsupported = port.unsupported.get(name);
    if (operation !== undefined) chosen.push(operation);
    else if (unsupported !== undefined) {
      issues.push({
        path: ['operations', name],
        message: `operation "${name}" cannot be called: ${unsupported}`,
      });
    } else {
      const known = [...port.operations.keys(), ...port.unsupported.keys()];
      issues.push({
        path: ['operations', name],
        message: `the WSDL port "${port.name}" has no operation "${name}" (operations: ${known.join(', ') || 'none'})`,
      });
    }
  }
  return chosen;
}

/** The chosen operations compiled and described; problems go to `issues`. */
export function compileOperations(
  config: SoapServiceConfig,
  port: WsdlPort,
  chosen: readonly WsdlOperation[],
  service: string,
  issues: ConnectorIssue[],
): { operations: Map<string, CompiledOperation>; descriptions: readonly OperationDescription[] } {
  const operations = new Map<string, CompiledOperation>();
  const descriptions: OperationDescription[] = [];
  const mediaType = port.version === '1.1' ? 'text/xml' : 'application/soap+xml';
  for (const operation of chosen) {
    const action = operation.soapAction;
    if (!ACTION_TEXT.test(action)) {
      issues.push({
        path: ['wsdl'],
        message: `the soapAction of operation "${operation.name}" cannot be sent in a header`,
      });
      continue;
    }
    operations.set(operation.name, {
      method: 'POST',
      wsdl: operation,
      contentType:
        port.version === '1.2' && action !== ''
          ? `${mediaType}; charset=utf-8; action="${action}"`
          : `${mediaType}; charset=utf-8`,
      soapAction: port.version === '1.1' ? `"${action}"` : undefined,
      extras: Object.freeze({ service, operation: operation.name }),
    });
    const summary = config.operations[operation.name]?.summary ?? operation.documentation;
    const description: OperationDescription = {
      name: operation.name,
      requiredParams: Object.freeze([]),
      // A WSDL says nothing of side effects: never retried unless declared.
      idempotent: false,
      soapAction: action,
      soapVersion: port.version,
      style: operation.style,
      input: contentJsonSchema(operation.input.type),
      output: operation.output === undefined ? null : contentJsonSchema(operation.output.type),
    };
    if (summary !== undefined) description.summary = summary;
    descriptions.push(Object.freeze(description));
  }
  return { operations, descriptions: Object.freeze(descriptions) };
}
