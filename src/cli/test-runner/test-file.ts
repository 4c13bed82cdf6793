/**
 * The format of a test file (`*.test.yaml`, or a TypeScript module exporting the same object):
 * requests, the answers the backends give in each service's own terms, and what is expected.
 * Loaded by the config loader (src/config/load.ts), so every problem has its file:line:col.
 */
import { z } from 'zod';
import { createConfigLoader } from '../../config/load.ts';
import { durationMsSchema } from '../../config/schema-parts.ts';

/** One answer of a service operation; which keys apply depends on the service's kind. */
export const answerSchema = z
  .object({
    input: z
      .unknown()
      .optional()
      .describe('Answers only calls whose input contains this (matchers allowed).'),
    status: z
      .number()
      .int()
      .min(100)
      .max(599)
      .optional()
      .describe('http, xml, soap, graphql: the HTTP status.'),
    headers: z
      .record(z.string(), z.string())
      .optional()
      .describe('Answer headers (HTTP) or message headers (NATS).'),
    body: z
      .unknown()
      .optional()
      .describe('http, xml: the body (an object is sent as JSON, or as XML for xml).'),
    data: z.unknown().optional().describe('graphql: the answer\'s "data".'),
    errors: z.array(z.unknown()).optional().describe('graphql: the answer\'s "errors".'),
    output: z.unknown().optional().describe('soap: the output content, checked against the WSDL.'),
    fault: z
      .object({ code: z.string(), string: z.string(), detail: z.unknown().optional() })
      .strict()
      .optional()
      .describe('soap: answer a SOAP Fault (status 500).'),
    message: z.unknown().optional().describe('grpc: the response message, encoded with the proto.'),
    grpcStatus: z
      .object({ code: z.number().int().min(1).max(16), message: z.string().default('') })
      .strict()
      .optional()
      .describe('grpc: end the call with this status instead of a message.'),
    reply: z.unknown().optional().describe('nats: the reply (JSON).'),
    failure: z
      .enum(['timeout', 'transport'])
      .optional()
      .describe('No answer at all: hang, or refuse the connection.'),
    latency: durationMsSchema.optional().describe('Wait this long before answering, e.g. "200ms".'),
  })
  .strict();

export type DeclaredAnswer = z.output<typeof answerSchema>;

/** service → operation → one answer or a list (the first whose input matches answers). */
const backendsSchema = z.record(
  z.string(),
  z.record(z.string(), z.union([answerSchema, z.array(answerSchema).min(1)])),
);

export type DeclaredBackends = z.output<typeof backendsSchema>;

const requestSchema = z
  .object({
    method: z
      .string()
      .regex(/^[A-Z]+$/)
      .default('GET'),
    path: z.string().startsWith('/'),
    headers: z.record(z.string(), z.string()).default({}),
    body: z.unknown().optional().describe('Sent as JSON.'),
  })
  .strict();

const callExpectation = z.union([
  z.number().int().min(0),
  z.object({ times: z.number().int().min(0).optional(), input: z.unknown().optional() }).strict(),
]);

const expectSchema = z
  .object({
    status: z.number().int().optional(),
    headers: z.record(z.string(), z.unknown()).optional().describe('Each named header (matchers allowed).'),
    body: z.unknown().optional().describe('The whole body (matchers allowed; $subset for part of it).'),
    calls: z
      .record(z.string(), callExpectation)
      .optional()
      .describe('"service.operation": times, or { times, input }.'),
    partial: z
      .array(z.string())
      .optional()
      .describe('The steps chorus-partial names; [] for a whole answer.'),
  })
  .strict();

export type Expectation = z.output<typeof expectSchema>;

const exchangeSchema = z.object({ request: requestSchema, expect: expectSchema.default({}) }).strict();

export type Exchange = z.output<typeof exchangeSchema>;

const testSchema = z
  .object({
    name: z.string().min(1),
    env: z.record(z.string(), z.string()).default({}),
    backends: backendsSchema.default({}),
    request: requestSchema,
    expect: expectSchema.default({}),
    next: z
      .array(exchangeSchema)
      .default([])
      .describe('More requests on the same gateway (its caches kept).'),
  })
  .strict();

export type TestCase = z.output<typeof testSchema>;

/** A whole test file. */
export const testFileSchema = z
  .object({
    config: z.string().optional().describe('The gateway config, relative to this file.'),
    env: z.record(z.string(), z.string()).default({}).describe('Variables for ${env.X} in the config.'),
    backends: backendsSchema.default({}).describe('Answers every test of the file starts from.'),
    graphqlSchemas: z
      .record(z.string(), z.string())
      .default({})
      .describe(
        "graphql service → its SDL file (relative to this file): answers the connector's introspection, so its documents and the declared data are checked against it.",
      ),
    tests: z.array(testSchema).min(1),
  })
  .strict();

export type TestFile = z.output<typeof testFileSchema>;

/** Loads test files with positions (YAML, JSON, or TS/JS modules exporting the object). */
export const { loadConfig: loadTestFile } = createConfigLoader(testFileSchema);
