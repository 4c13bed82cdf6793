import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfigPath } from '../../../config/issues.ts';
import type { InboundContext, InboundPolicyContext } from '../../../contracts/policy.ts';
import type { ChorusError } from '../../../errors/catalogue.ts';
import { createIpFilterPolicy } from './ip-filter.ts';
import { ipFilterPolicySchema } from './schema.ts';

function build(config: unknown, issues: { at: ConfigPath; message: string }[] = []) {
  const ctx = {
    issue: (at: ConfigPath, message: string) => issues.push({ at, message }),
    at: ['policies', 'ipFilter'],
  } as unknown as InboundPolicyContext;
  const policy = createIpFilterPolicy(ipFilterPolicySchema.parse(config), ctx)!;
  const handler = policy(async () => ({ status: 200 }));
  return async (clientIp: string): Promise<number> => {
    try {
      return (await handler({ clientIp } as InboundContext)).status;
    } catch (error) {
      return (error as ChorusError).status;
    }
  };
}

test('deny wins over allow; IPv4-mapped addresses count as IPv4', async () => {
  const check = build({ allow: ['10.0.0.0/8', '2001:db8::/32'], deny: ['10.9.0.0/16'] });
  assert.equal(await check('10.1.2.3'), 200);
  assert.equal(await check('::ffff:10.1.2.3'), 200);
  assert.equal(await check('2001:db8::1'), 200);
  assert.equal(await check('10.9.1.1'), 403);
  assert.equal(await check('192.0.2.1'), 403);
  assert.equal(await check(''), 403);
});

test('a deny list alone lets every other address through', async () => {
  const check = build({ deny: ['192.0.2.0/24'] });
  assert.equal(await check('192.0.2.9'), 403);
  assert.equal(await check('198.51.100.1'), 200);
});

test('bad entries are reported at their index', () => {
  const issues: { at: ConfigPath; message: string }[] = [];
  build({ deny: ['10.0.0.1', '300.1.1.1'] }, issues);
  assert.deepEqual(issues, [
    { at: ['policies', 'ipFilter', 'deny', 1], message: '"300.1.1.1" is not an IP address or CIDR range' },
  ]);
  assert.equal(ipFilterPolicySchema.safeParse({}).success, false);
});
