/** Config of the cors policy. */
import { z } from 'zod';

// DRAFT: the owner of this policy replaces it with the real options.
export const corsPolicySchema = z
  .strictObject({})
  .describe('CORS: which origins, methods and headers may call, preflight answers.');
