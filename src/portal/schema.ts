/** Config of the developer portal and of the admin routes (request traces). */
import { z } from 'zod';
import { routePathSchema } from '../config/schema-parts.ts';

const routePath = routePathSchema('/portal');

/** The developer portal. */
export const portalSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Whether the portal is served.'),
    path: routePath.default('/portal').describe('Where the portal is served.'),
    title: z
      .string()
      .min(1)
      .default('Chorus API')
      .describe('Title of the portal and info.title of the OpenAPI document.'),
    version: z.string().min(1).default('1.0.0').describe('info.version of the OpenAPI document.'),
    description: z
      .string()
      .optional()
      .describe(
        'What the API is for, in Markdown: shown on the portal home page and as info.description of the OpenAPI document. Raw HTML is shown as text.',
      ),
    descriptionFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A Markdown file with the description, relative to the config file (read once at load), instead of `description`.',
      ),
  })
  .refine((portal) => portal.description === undefined || portal.descriptionFile === undefined, {
    message: 'give the description inline (description) or as a file (descriptionFile), not both',
    path: ['descriptionFile'],
  })
  .describe('The developer portal: API reference with try-it, flow diagrams, request traces.');

/** The admin routes: request traces. */
export const adminSchema = z
  .strictObject({
    credential: z
      .string()
      .min(16, 'an admin credential has at least 16 characters')
      .optional()
      .describe(
        'The bearer token the admin routes ask for, e.g. "${env.CHORUS_ADMIN_TOKEN}". Without it the admin routes are off and no traces are kept.',
      ),
    path: routePath.default('/admin').describe('Prefix of the admin routes (/admin/traces).'),
    listen: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1').describe('Address the admin listener binds.'),
        port: z.number().int().min(0).max(65535).describe('Port of the admin listener (0: any free port).'),
      })
      .optional()
      .describe(
        'Serve the admin routes on a listener of their own (e.g. 127.0.0.1:9090, or a port only the cluster network reaches) instead of the public one. Read at start.',
      ),
  })
  .describe('Admin routes (request traces), guarded by a bearer credential.');

export type PortalConfig = z.output<typeof portalSchema>;
export type AdminConfig = z.output<typeof adminSchema>;
