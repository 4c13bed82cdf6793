/** The config of a `mock` service: operations that answer from templates or files, for API-first work. */
import { z } from 'zod';
import { durationMsSchema } from '../../config/schema-parts.ts';

/** One operation of a mock service. */
export const mockOperationSchema = z
  .strictObject({
    summary: z.string().optional().describe('One line saying what the operation does.'),
    answer: z
      .unknown()
      .optional()
      .describe(
        'The output, as a template: `{{ request.params.id }}` reads the call input (params, query, headers, body).',
      ),
    file: z
      .string()
      .optional()
      .describe('A JSON or YAML file holding the output (relative to the config), instead of answer.'),
    latency: durationMsSchema.optional().describe('How long each call takes, e.g. "40ms".'),
    jitter: durationMsSchema.optional().describe('Up to this much more, at random, per call.'),
    failureRate: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe('The share of calls that fail as unavailable (503), from 0 to 1, e.g. 0.1.'),
    idempotent: z.boolean().default(true).describe('Whether a retry may repeat the call (default true).'),
  })
  .describe('An operation of a mock service.');

/** A service that does not exist yet: its operations answer from templates or files. */
export const mockServiceSchema = z
  .strictObject({
    kind: z.literal('mock').describe('The connector: mock.'),
    description: z.string().optional().describe('What the service is, for the portal.'),
    timeout: durationMsSchema
      .optional()
      .describe('Timeout of each call (default 10s); the request deadline still applies.'),
    operations: z.record(z.string(), mockOperationSchema).default({}).describe('The operations, by name.'),
  })
  .describe('A mock service: answers from templates or files, with latency and failures (kind: mock).');

export type MockServiceConfig = z.output<typeof mockServiceSchema>;
export type MockOperationConfig = z.output<typeof mockOperationSchema>;
