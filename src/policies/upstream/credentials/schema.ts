/** Config of a service's backend credentials: how Chorus authenticates to the backend. */
import { z } from 'zod';
import {
  durationSchema,
  inMilliseconds,
  staticHeadersSchema,
  timeoutSchema,
} from '../../../config/schema-parts.ts';

const basic = z
  .strictObject({
    type: z.literal('basic'),
    username: z.string().describe('The user name.'),
    password: z.string().describe('The password (use ${env.NAME}).'),
  })
  .describe('HTTP Basic authentication.');

const bearer = z
  .strictObject({
    type: z.literal('bearer'),
    token: z.string().min(1).optional().describe('The token (use ${env.NAME}); give this or tokenEnv.'),
    tokenEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
      .optional()
      .describe('The environment variable holding the token, read at load.'),
  })
  .describe('A static bearer token.');

const apiKey = z
  .strictObject({
    type: z.literal('apiKey'),
    header: z.string().default('x-api-key').describe('The header carrying the key.'),
    key: z.string().min(1).describe('The key (use ${env.NAME}).'),
  })
  .describe('An API key in a header.');

const headers = z
  .strictObject({
    type: z.literal('headers'),
    headers: staticHeadersSchema.describe('Headers added to every call (use ${env.NAME} for secrets).'),
  })
  .describe('Static credential headers.');

const oauth2 = z
  .strictObject({
    type: z.literal('oauth2'),
    tokenUrl: z
      .string()
      .regex(/^https?:\/\/[^/?#]+(\/[^#]*)?$/, 'expected an http:// or https:// URL')
      .describe('The token endpoint.'),
    clientId: z.string().min(1).describe('The client id.'),
    clientSecret: z.string().min(1).describe('The client secret (use ${env.NAME}).'),
    scope: z.string().optional().describe('The scopes asked for, space separated.'),
    audience: z.string().optional().describe('The audience parameter some servers need.'),
    clientAuth: z
      .enum(['basic', 'body'])
      .default('basic')
      .describe(
        'How the client authenticates: HTTP Basic (client_secret_basic) or form fields (client_secret_post).',
      ),
    timeout: inMilliseconds(timeoutSchema).prefault('5s').describe('Timeout of a token request.'),
    refreshBefore: inMilliseconds(durationSchema)
      .prefault('30s')
      .describe('A token is renewed this long before it expires.'),
  })
  .describe('OAuth2 client credentials: a token fetched once and cached until shortly before expiry.');

/** How Chorus authenticates to a backend. */
export const backendCredentialsSchema = z
  .discriminatedUnion('type', [basic, bearer, apiKey, headers, oauth2])
  .describe('Credentials Chorus sends to the backend.');

export type BackendCredentialsConfig = z.output<typeof backendCredentialsSchema>;
export type OAuth2CredentialsConfig = Extract<BackendCredentialsConfig, { type: 'oauth2' }>;
