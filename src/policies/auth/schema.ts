/** Config of the auth policy. */
import { z } from 'zod';

// DRAFT: the owner of this policy replaces it with the real options.
export const authPolicySchema = z
  .strictObject({})
  .describe('Who may call: API key and/or JWT, required scopes and claims.');

// DRAFT: gateway-wide authentication settings (where API keys are read; JWT issuers and keys).
export const authSettingsSchema = z.strictObject({}).describe('How callers authenticate: API keys, JWT.');
