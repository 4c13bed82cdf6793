/**
 * Load time of the `graphql` connector: the service's schema asked for with the introspection
 * query, so documents can be validated against it. A slow or refusing service only loses the
 * schema check.
 */
import {
  buildClientSchema,
  type GraphQLSchema,
  getIntrospectionQuery,
  type IntrospectionQuery,
} from 'graphql';
import type { Logger } from 'pino';
import type { ConnectorCall, ConnectorResult } from '../../contracts/connector.ts';
import type { HttpCluster } from '../../transports/http/cluster.ts';
import type { AnswerHead } from '../../transports/http/exchange-handler.ts';
import { buildHeaders, type HeaderRules } from '../../transports/http/headers.ts';
import { type DecodedOperation, readHttpAnswer } from '../http/decode-answer.ts';
import { errorMessages } from './decode-answer.ts';
import { JSON_HEADERS } from './request.ts';

/** The operation that carries the introspection query; "$" keeps it apart from config names. */
const INTROSPECTION_OPERATION = '$introspect';
const NO_RULES: HeaderRules = { managed: new Set(), checkInputNames: false };

/** Asks the service for its schema; a string says why there is none. */
export async function introspect(
  cluster: HttpCluster,
  target: { path: string; headers: Readonly<Record<string, string>> },
  service: string,
  timeoutMs: number,
  logger: Logger,
): Promise<GraphQLSchema | string> {
  const op = {
    name: INTROSPECTION_OPERATION,
    method: 'POST',
    accept: null,
    responseType: 'auto',
    extras: { service, operation: INTROSPECTION_OPERATION },
  } as const;
  const call: ConnectorCall = {
    operation: INTROSPECTION_OPERATION,
    input: {},
    headers: {},
    signal: new AbortController().signal,
    timeoutMs,
    deadlineBound: false,
  };
  let result: ConnectorResult;
  try {
    const headers = buildHeaders(target.headers, {}, JSON_HEADERS, op.extras, NO_RULES);
    const body = JSON.stringify({ query: getIntrospectionQuery({ descriptions: false }) });
    const ctx = { requestId: `load:${service}`, logger };
    result = await cluster.exchange(op, target.path, headers, body, call, ctx, readJsonAnswer);
  } catch (error) {
    return `the introspection query failed: ${(error as Error).message}`;
  }
  return schemaOf(result);
}

function readJsonAnswer(op: DecodedOperation, head: AnswerHead, raw: Buffer): ConnectorResult {
  return readHttpAnswer(op, head, raw, false);
}

function schemaOf(result: ConnectorResult): GraphQLSchema | string {
  const answer = result.output as { data?: unknown; errors?: unknown } | null;
  const data = typeof answer === 'object' && answer !== null ? answer.data : undefined;
  if (typeof data !== 'object' || data === null || !('__schema' in data)) {
    const messages = typeof answer === 'object' && answer !== null ? errorMessages(answer.errors) : [];
    return messages.length > 0
      ? `the service refused introspection: ${messages[0]}`
      : 'the introspection answer holds no schema';
  }
  try {
    return buildClientSchema(data as IntrospectionQuery);
  } catch (error) {
    return `the introspected schema is unusable: ${(error as Error).message}`;
  }
}
