/** Config of the ip-filter policy. */
import { z } from 'zod';

// DRAFT: the owner of this policy replaces it with the real options.
export const ipFilterPolicySchema = z.strictObject({}).describe('IP allow and deny lists (CIDR).');
