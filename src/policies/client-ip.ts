/**
 * The client address of a request: the TCP peer, unless that peer is a configured trusted proxy,
 * in which case X-Forwarded-For is walked from the right, skipping trusted proxies, and the first
 * address not trusted is the client. A client cannot choose its address by sending the header
 * itself: only hops the gateway trusts may add to it. Uses node:net's BlockList for CIDR matching.
 */
import { BlockList, isIP } from 'node:net';

/** Resolves the client address from the TCP peer and the X-Forwarded-For header. */
export type ClientIpResolver = (
  remoteAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
) => string;

/** Strips the IPv4-mapped prefix so 1.2.3.4 and ::ffff:1.2.3.4 are one client. */
export function normalizeIp(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Adds an address or CIDR range to a block list; returns an error message when it is neither. */
export function addAddressRange(list: BlockList, entry: string): string | undefined {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return `"${entry}" is not an IP address or CIDR range`;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (slash === -1) {
    list.addAddress(address, type);
    return undefined;
  }
  const prefix = Number(entry.slice(slash + 1));
  const max = family === 4 ? 32 : 128;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    return `"${entry}" has a prefix length outside 0–${max}`;
  }
  list.addSubnet(address, prefix, type);
  return undefined;
}

/** Whether an address is in a block list (either family; IPv4-mapped IPv6 is read as IPv4). */
export function inRanges(list: BlockList, address: string): boolean {
  const normal = normalizeIp(address);
  const family = isIP(normal);
  if (family === 0) return false;
  return list.check(normal, family === 4 ? 'ipv4' : 'ipv6');
}

/** Builds the resolver for the configured trusted proxies, or the issues of bad entries. */
export function createClientIpResolver(trustedProxies: readonly string[]): {
  resolve: ClientIpResolver;
  issues: { index: number; message: string }[];
} {
  const issues: { index: number; message: string }[] = [];
  if (trustedProxies.length === 0) {
    return { resolve: (remote) => normalizeIp(remote ?? ''), issues };
  }
  const trusted = new BlockList();
  trustedProxies.forEach((entry, index) => {
    const message = addAddressRange(trusted, entry);
    if (message) issues.push({ index, message });
  });
  const resolve: ClientIpResolver = (remote, forwardedFor) => {
    const peer = normalizeIp(remote ?? '');
    if (forwardedFor === undefined || !inRanges(trusted, peer)) return peer;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizeIp(hops[i]!.trim());
      if (isIP(hop) === 0) break; // garbage: stop at the last address we could read
      client = hop;
      if (!inRanges(trusted, hop)) break;
    }
    return client;
  };
  return { resolve, issues };
}
