/** The config of a `soap` service: a SOAP 1.1 or 1.2 backend whose operations come from its WSDL. */
import { z } from 'zod';
import { durationMsSchema, sizeBytesSchema, staticHeadersSchema } from '../../config/schema-parts.ts';
import { urlServiceFields } from '../../transports/http/schema.ts';

/** A WS-Security UsernameToken sent in the header of every call. */
export const usernameTokenSchema = z
  .strictObject({
    username: z.string().min(1).describe('The user name (values may use ${env.NAME}).'),
    password: z.string().describe('The password (use ${env.NAME} rather than writing it in the file).'),
    passwordType: z
      .enum(['PasswordText', 'PasswordDigest'])
      .default('PasswordText')
      .describe(
        'PasswordText sends the password (use HTTPS); PasswordDigest sends Base64(SHA-1(nonce + created + password)) with a fresh nonce per call.',
      ),
  })
  .describe('A WS-Security UsernameToken.');

/** One operation of the WSDL, listed to restrict or annotate the operations flows may call. */
export const soapOperationSchema = z
  .strictObject({
    summary: z
      .string()
      .optional()
      .describe('One line saying what the operation does (else the WSDL documentation).'),
  })
  .describe('An operation of the WSDL port.');

/** A SOAP backend described by a WSDL 1.1 document. */
export const soapServiceSchema = z
  .strictObject({
    kind: z.literal('soap').describe('The connector: soap.'),
    wsdl: z
      .string()
      .min(1)
      .describe(
        'The WSDL: a file path relative to the config file, or an http(s) URL. Read once at load, with the schemas it imports and includes.',
      ),
    url: z
      .string()
      .regex(/^https?:\/\/[^/?#]+(\/[^#]*)?$/, 'expected an http:// or https:// URL')
      .optional()
      .describe(
        'The endpoint to call, instead of the soap:address of the WSDL port (or urls, to balance over several).',
      ),
    version: z
      .enum(['1.1', '1.2'])
      .optional()
      .describe(
        'The SOAP version, which picks the port bound to it (default: the first SOAP port of the WSDL).',
      ),
    port: z
      .string()
      .min(1)
      .optional()
      .describe('The name of the WSDL port to use, when the WSDL has several.'),
    description: z.string().optional().describe('What the service is, for the portal.'),
    timeout: durationMsSchema
      .optional()
      .describe(
        'Timeout of each call (default 10s), and of reading a WSDL URL at load; the request deadline still applies.',
      ),
    headers: staticHeadersSchema.optional().describe('HTTP headers sent on every call.'),
    maxResponseBytes: sizeBytesSchema.prefault('10mb').describe('Largest response body accepted.'),
    connections: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(128)
      .describe('Most pooled keep-alive connections to the endpoint.'),
    keepAliveTimeout: durationMsSchema.prefault('4s').describe('How long an idle pooled connection is kept.'),
    security: z
      .strictObject({ usernameToken: usernameTokenSchema })
      .optional()
      .describe('WS-Security credentials added to the SOAP header of every call.'),
    operations: z
      .record(z.string().min(1), soapOperationSchema)
      .default({})
      .describe(
        'The operations flows may call, by their WSDL name; each must be in the WSDL. Absent or empty: every operation of the port.',
      ),
    ...urlServiceFields,
  })
  .describe('A SOAP service described by a WSDL.');

export type SoapServiceConfig = z.output<typeof soapServiceSchema>;
