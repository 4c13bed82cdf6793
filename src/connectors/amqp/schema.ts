/** The config of an `amqp` service: an AMQP 0-9-1 broker (RabbitMQ), called by RPC or published to. */
import { z } from 'zod';
import { durationMsSchema, sizeBytesSchema } from '../../config/schema-parts.ts';

/** AMQP header tables: names to strings, numbers or booleans. */
const amqpHeadersSchema = z
  .record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()]))
  .describe('AMQP message headers (values may use ${env.NAME}).');

/** One operation of an AMQP service: where its messages go and whether a reply is awaited. */
export const amqpOperationSchema = z
  .strictObject({
    mode: z
      .enum(['rpc', 'publish'])
      .default('rpc')
      .describe(
        'rpc: send a request with reply-to and a correlation id, wait for the reply; publish: send and wait for the broker to confirm it.',
      ),
    exchange: z
      .string()
      .max(127)
      .regex(/^[\w.:-]*$/, 'exchange names are letters, digits, "-", "_", "." and ":"')
      .default('')
      .describe(
        'The exchange to publish to; "" (default) is the default exchange, which routes to the queue named by the routing key.',
      ),
    routingKey: z
      .string()
      .describe(
        'The routing key (with the default exchange: the queue name); {name} placeholders are filled from input.params, each value one plain word.',
      ),
    persistent: z
      .boolean()
      .default(false)
      .describe(
        'Whether the broker writes the message to disk (delivery mode 2), so it survives a broker restart.',
      ),
    mandatory: z
      .boolean()
      .optional()
      .describe(
        'Whether a message no queue takes fails the call (503) instead of being dropped; always on for rpc, default off for publish.',
      ),
    contentType: z
      .enum(['application/json', 'text/plain'])
      .default('application/json')
      .describe(
        'How input.body is sent (JSON, or a string as it is), and how a reply without a content type is read.',
      ),
    headers: amqpHeadersSchema.optional().describe('Headers sent with every message of this operation.'),
    summary: z.string().optional().describe('One line saying what the operation does.'),
  })
  .describe('An operation of an AMQP service.');

/** A backend reached through an AMQP 0-9-1 broker such as RabbitMQ. */
export const amqpServiceSchema = z
  .strictObject({
    kind: z.literal('amqp').describe('The connector: amqp.'),
    url: z
      .string()
      .regex(/^amqps?:\/\/[^/?#\s]+(\/[^?#\s]*)?(\?[^#\s]*)?$/, 'expected an amqp:// or amqps:// URL')
      .describe(
        'The broker URL with credentials and vhost, e.g. "amqp://guest:guest@127.0.0.1:5672" or "${env.AMQP_URL}"; never logged with its password.',
      ),
    description: z.string().optional().describe('What the service is, for the portal.'),
    timeout: durationMsSchema
      .optional()
      .describe('Timeout of each call (default 10s); the request deadline still applies.'),
    maxPayloadBytes: sizeBytesSchema.prefault('10mb').describe('Largest reply body accepted.'),
    heartbeat: durationMsSchema
      .prefault('10s')
      .describe(
        'AMQP heartbeat: a broker silent for about twice this long is taken as gone (0 turns it off).',
      ),
    reconnectWait: durationMsSchema
      .prefault('250ms')
      .describe(
        'First pause before reconnecting after the broker goes away; doubles on each failure up to 2s.',
      ),
    headers: amqpHeadersSchema.optional().describe('Headers sent with every message.'),
    operations: z
      .record(
        z.string().regex(/^[A-Za-z_][\w-]*$/, 'operation names are letters, digits, _ and -'),
        amqpOperationSchema,
      )
      .describe('The operations flows may call, by name.'),
  })
  .describe('A service reached through an AMQP 0-9-1 broker (RabbitMQ).');

export type AmqpServiceConfig = z.output<typeof amqpServiceSchema>;
export type AmqpOperationConfig = z.output<typeof amqpOperationSchema>;
