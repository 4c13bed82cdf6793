/** Config of load balancing over several base URLs of one service, and of client TLS. */
import { z } from 'zod';
import { durationMsSchema, timeoutMsSchema } from '../../config/schema-parts.ts';

/** Active health checks: a GET per host on an interval; a failing host is taken out until it answers. */
export const healthCheckSchema = z
  .strictObject({
    path: z.string().startsWith('/', 'the path must start with "/"').describe('Path probed on each host.'),
    interval: timeoutMsSchema.prefault('10s').describe('Time between two probes of a host.'),
    timeout: timeoutMsSchema.prefault('2s').describe('Timeout of a probe.'),
  })
  .describe('Active health checks of the hosts.');

/** How calls are spread over the service's urls, and when a host is taken out. */
export const loadBalancingSchema = z
  .strictObject({
    strategy: z
      .enum(['round-robin', 'least-pending'])
      .default('round-robin')
      .describe('round-robin: each host in turn; least-pending: the host with the fewest calls in flight.'),
    ejectAfter: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe('Consecutive failures (transport errors, timeouts, 5xx) that eject a host.'),
    ejectionTime: durationMsSchema
      .prefault('5s')
      .describe('First ejection time; it doubles with each ejection in a row, up to maxEjectionTime.'),
    maxEjectionTime: durationMsSchema.prefault('2m').describe('Longest ejection.'),
    healthCheck: healthCheckSchema.optional(),
  })
  .describe('Load balancing over the urls of a service (never more than half of the hosts ejected).');

/** Client TLS: a client certificate for mTLS and the CAs the backend's certificate is checked against. */
export const clientTlsSchema = z
  .strictObject({
    cert: z.string().optional().describe('PEM client certificate file, relative to the config file.'),
    key: z.string().optional().describe('PEM private key file of the client certificate.'),
    ca: z.string().optional().describe('PEM file of the CAs trusted for the backend (default: system CAs).'),
    servername: z.string().optional().describe('Server name for SNI and certificate checks.'),
  })
  .describe('TLS settings for calls to the service (mTLS client certificate, private CA).');

export type LoadBalancingConfig = z.output<typeof loadBalancingSchema>;
export type HealthCheckConfig = z.output<typeof healthCheckSchema>;
export type ClientTlsConfig = z.output<typeof clientTlsSchema>;

const baseUrlSchema = z
  .string()
  .regex(/^https?:\/\/[^/?#]+(\/[^?#]*)?$/, 'expected an http:// or https:// base URL without query');

/** Fields of services called over HTTP(S) base URLs. */
export const urlServiceFields = {
  urls: z
    .array(baseUrlSchema)
    .min(1)
    .max(64)
    .optional()
    .describe('Several base URLs of the same service (instead of url): calls are balanced over them.'),
  loadBalancing: loadBalancingSchema.optional(),
  tls: clientTlsSchema.optional(),
};
