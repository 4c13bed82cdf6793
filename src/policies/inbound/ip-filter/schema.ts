/** Config of the ip-filter policy. */
import { z } from 'zod';

/** IP allow and deny lists. */
export const ipFilterPolicySchema = z
  .strictObject({
    allow: z
      .array(z.string().min(1))
      .optional()
      .describe('Addresses or CIDR ranges that may call; when given, every other address is refused.'),
    deny: z
      .array(z.string().min(1))
      .default([])
      .describe('Addresses or CIDR ranges that are refused (deny wins over allow).'),
  })
  .refine((filter) => filter.allow !== undefined || filter.deny.length > 0, {
    message: 'give allow, deny or both',
  })
  .describe(
    'IP allow and deny lists (addresses or CIDR ranges, IPv4 and IPv6), checked on the client address.',
  );

export type IpFilterPolicyConfig = z.output<typeof ipFilterPolicySchema>;
