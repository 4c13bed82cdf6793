/** The config of a `nats` service: subjects on a NATS server, called by request/reply or published to. */
import { z } from 'zod';
import { durationMsSchema, sizeBytesSchema, staticHeadersSchema } from '../../config/schema-parts.ts';

/** One operation of a NATS service: a subject and how it is used. */
export const natsOperationSchema = z
  .strictObject({
    subject: z
      .string()
      .min(1)
      .describe(
        'The subject, e.g. "ratings.get" or "ratings.{kind}.get"; {name} placeholders are filled from input.params, each value one subject token.',
      ),
    mode: z
      .enum(['request', 'publish'])
      .default('request')
      .describe('request: send and wait for one reply; publish: send an event, wait only for the server.'),
    payload: z
      .enum(['json', 'raw'])
      .default('json')
      .describe('json: input.body is sent as JSON and the reply parsed as JSON; raw: both are strings.'),
    headers: staticHeadersSchema
      .optional()
      .describe('NATS headers sent with every message of this operation.'),
    summary: z.string().optional().describe('One line saying what the operation does.'),
  })
  .describe('An operation of a NATS service.');

/** A backend reached by request/reply (or events) over a NATS server. */
export const natsServiceSchema = z
  .strictObject({
    kind: z.literal('nats').describe('The connector: nats.'),
    servers: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .describe(
        'The NATS server URL, or a list of them for a cluster, e.g. "nats://127.0.0.1:4222" or "${env.NATS_URL}".',
      ),
    description: z.string().optional().describe('What the service is, for the portal.'),
    timeout: durationMsSchema
      .optional()
      .describe('Timeout of each call (default 10s); the request deadline still applies.'),
    maxPayloadBytes: sizeBytesSchema.prefault('1mb').describe('Largest reply payload accepted.'),
    user: z.string().optional().describe('User name to authenticate with (with pass).'),
    pass: z.string().optional().describe('Password to authenticate with (with user).'),
    token: z.string().optional().describe('Token to authenticate with, instead of user and pass.'),
    name: z
      .string()
      .optional()
      .describe('Client name shown in the server monitoring (default "chorus:<service>").'),
    reconnectWait: durationMsSchema
      .prefault('250ms')
      .describe('Pause between reconnection attempts after the server goes away.'),
    headers: staticHeadersSchema.optional().describe('NATS headers sent with every message.'),
    operations: z
      .record(
        z.string().regex(/^[A-Za-z_][\w-]*$/, 'operation names are letters, digits, _ and -'),
        natsOperationSchema,
      )
      .describe('The operations flows may call, by name.'),
  })
  .describe('A service reached over NATS.');

export type NatsServiceConfig = z.output<typeof natsServiceSchema>;
export type NatsOperationConfig = z.output<typeof natsOperationSchema>;
