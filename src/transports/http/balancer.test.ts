import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Balancer, type BalancerOptions } from './balancer.ts';

function balancer(count: number, overrides: Partial<BalancerOptions> = {}) {
  const clock = { now: 1_000_000 };
  const hosts = Array.from({ length: count }, (_, index) => ({ origin: `h${index}`, client: index }));
  const instance = new Balancer(hosts, {
    strategy: 'round-robin',
    ejectAfter: 2,
    ejectionMs: 1000,
    maxEjectionMs: 3000,
    now: () => clock.now,
    ...overrides,
  });
  return { instance, clock };
}

/** Picks and settles n calls; returns the clients picked. */
function run(instance: Balancer<number>, n: number, failing: ReadonlySet<number> = new Set()): number[] {
  const picked: number[] = [];
  for (let i = 0; i < n; i++) {
    const host = instance.pick();
    picked.push(host.client);
    instance.release(host, failing.has(host.client));
  }
  return picked;
}

describe('balancer', () => {
  test('round-robin takes each host in turn', () => {
    const { instance } = balancer(3);
    assert.deepEqual(run(instance, 6), [0, 1, 2, 0, 1, 2]);
  });

  test('least-pending prefers the host with the fewest calls in flight', () => {
    const { instance } = balancer(3, { strategy: 'least-pending' });
    const a = instance.pick();
    const b = instance.pick();
    assert.notEqual(a.client, b.client);
    const c = instance.pick();
    assert.deepEqual(new Set([a.client, b.client, c.client]), new Set([0, 1, 2]));
    instance.release(b, false);
    assert.equal(instance.pick().client, b.client);
  });

  test('ejects a host after consecutive failures, for a time that grows with each ejection', () => {
    const { instance, clock } = balancer(4);
    run(instance, 8, new Set([0]));
    assert.ok(!run(instance, 6).includes(0));
    clock.now += 1000;
    // Back, fails again twice: ejected for twice as long.
    run(instance, 8, new Set([0]));
    assert.equal(instance.status()[0]!.ejected, true);
    clock.now += 1000;
    assert.equal(instance.status()[0]!.ejected, true);
    clock.now += 1000;
    assert.equal(instance.status()[0]!.ejected, false);
  });

  test('never ejects more than half of the hosts (rounded up), nor all of them', () => {
    const { instance } = balancer(4);
    run(instance, 40, new Set([0, 1, 2, 3]));
    assert.equal(instance.status().filter((host) => host.ejected).length, 2);
    const { instance: pair } = balancer(2);
    run(pair, 20, new Set([0, 1]));
    assert.equal(pair.status().filter((host) => host.ejected).length, 1);
    const { instance: single } = balancer(1);
    run(single, 10, new Set([0]));
    assert.equal(single.status()[0]!.ejected, false);
  });

  test('with every host unhealthy, calls still go out (panic mode)', () => {
    const { instance } = balancer(2);
    for (const host of instance.hosts) host.healthy = false;
    assert.deepEqual(run(instance, 2), [0, 1]);
  });
});
