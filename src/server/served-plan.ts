/** A plan as the server reads it: the core config plus the sections the server, portal and metrics read. */
import type { CoreConfig } from '../config/schema.ts';
import type { GatewayPlan } from '../engine/plan.ts';
import type { ObservabilityConfig } from '../observability/schema.ts';
import type { OpenApiDocument } from '../portal/openapi.ts';
import type { AdminConfig, PortalConfig } from '../portal/schema.ts';

/** The config sections the server reads besides the core. */
export interface ServedSections {
  readonly portal: PortalConfig;
  readonly admin: AdminConfig;
  readonly observability: ObservabilityConfig;
}

/** The plan the server answers with. */
export type ServedPlan = Omit<GatewayPlan<CoreConfig & ServedSections>, 'openApi'> & {
  readonly openApi: OpenApiDocument;
};
