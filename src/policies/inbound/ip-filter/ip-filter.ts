/**
 * The IP filter: refuses clients whose address (ctx.clientIp: the TCP peer, or X-Forwarded-For's
 * client behind a trusted proxy) is on the deny list or, when there is an allow list, not on it.
 * Lists are node:net BlockLists built at load; a check is one lookup per list.
 */
import { BlockList } from 'node:net';
import type { ConfigPath, IssueReporter } from '../../../contracts/issues.ts';
import type { InboundPolicy } from '../../../contracts/policy.ts';
import { ChorusError } from '../../../errors/catalogue.ts';
import { addAddressRange, inRanges } from '../../client-ip.ts';
import type { IpFilterPolicyConfig } from './schema.ts';

/** Builds the IP filter of an endpoint; bad entries are reported at their index under `at`. */
export function createIpFilterPolicy(
  config: IpFilterPolicyConfig,
  ctx: { readonly at: ConfigPath; readonly issue: IssueReporter },
): InboundPolicy {
  const build = (entries: readonly string[], key: 'allow' | 'deny'): BlockList => {
    const list = new BlockList();
    entries.forEach((entry, index) => {
      const message = addAddressRange(list, entry.trim());
      if (message) ctx.issue([...ctx.at, key, index], message);
    });
    return list;
  };
  const allow = config.allow === undefined ? undefined : build(config.allow, 'allow');
  const deny = config.deny.length === 0 ? undefined : build(config.deny, 'deny');
  return (next) => (request) => {
    const address = request.clientIp;
    if ((deny && inRanges(deny, address)) || (allow && !inRanges(allow, address))) {
      return Promise.reject(
        new ChorusError('CHORUS_IP_DENIED', 'the client address may not call this endpoint'),
      );
    }
    return next(request);
  };
}
