import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { clientKey, ConnectionTable, expandIPv6, PoolConnections } from '../../src/server/client-limits.js';

test('clientKey: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64, zone ids dropped', () => {
  assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
  assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(clientKey('::FFFF:c000:0207'), '192.0.2.7');
  assert.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
  assert.notEqual(clientKey('2001:db8:1:3::1'), clientKey('2001:db8:1:2::1'));
  assert.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
  assert.equal(clientKey(undefined), '?');
});

test('expandIPv6: every spelling of an address gives its eight groups; malformed text gives undefined', () => {
  assert.deepEqual(expandIPv6('::'), [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(expandIPv6('1::'), [1, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(expandIPv6('::ffff:1.2.3.4'), [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
  assert.deepEqual(expandIPv6('1:2:3:4:5:6:7.8.9.10'), [1, 2, 3, 4, 5, 6, 0x0708, 0x090a]);
  for (const bad of ['1:::2', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'g::', '::1.2.3.256', '1.2.3.4', '1::2:3:4:5:6:7:8']) {
    assert.equal(expandIPv6(bad), undefined, bad);
  }
  const groups = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 });
  fc.assert(fc.property(groups, fc.nat(8), fc.nat(8), (g, from, length) => {
    // The full form, and the same address with a run of groups compressed to '::' (when it is zeros).
    const full = g.map((x) => x.toString(16)).join(':');
    assert.deepEqual(expandIPv6(full), g);
    const start = Math.min(from, 7);
    const end = Math.min(8, start + Math.max(1, length));
    const zeroed = g.map((x, i) => (i >= start && i < end ? 0 : x));
    const compressed = `${zeroed.slice(0, start).map((x) => x.toString(16)).join(':')}::${zeroed.slice(end).map((x) => x.toString(16)).join(':')}`;
    assert.ok(isIPv6(compressed), compressed);
    assert.deepEqual(expandIPv6(compressed), zeroed, compressed);
  }));
});

test('ConnectionTable: the per-client bound refuses even with room; a full table sheds the longest idle, else refuses', () => {
  const table = new ConnectionTable<string>({ max: 3, perClient: 2 });
  assert.deepEqual(table.admit('a1', 'A'), { admitted: true });
  assert.deepEqual(table.admit('a2', 'A'), { admitted: true });
  assert.deepEqual(table.admit('a3', 'A'), { admitted: false, reason: 'client' });
  assert.deepEqual(table.admit('b1', 'B'), { admitted: true });
  // Full, nothing idle: refused.
  assert.deepEqual(table.admit('c1', 'C'), { admitted: false, reason: 'full' });
  table.idle('b1', 10);
  table.idle('a2', 20);
  table.idle('a1', 30);
  table.busy('a1');
  // b1 has been idle the longest.
  assert.deepEqual(table.admit('c1', 'C'), { admitted: true, shed: 'b1' });
  assert.equal(table.has('b1'), false);
  assert.equal(table.count('B'), 0);
  assert.deepEqual(table.admit('c2', 'C'), { admitted: true, shed: 'a2' });
  assert.equal(table.count('A'), 1);
  table.remove('a1');
  assert.equal(table.count('A'), 0);
  assert.equal(table.size, 2);
});

/** A connection handle as the supervisor sees it: only its peer address is read. */
const handle = (address: string) => ({ getpeername(out: { address?: string }) { out.address = address; return 0; } });

test('PoolConnections: counts by the handle\'s peer address, releases only what a worker holds, sheds one per waiting connection', () => {
  const pool = new PoolConnections<string>(2);
  const first = pool.admit(handle('198.51.100.1'));
  const second = pool.admit(handle('::ffff:198.51.100.1'));
  assert.ok('id' in first && 'id' in second);
  const third = pool.admit(handle('198.51.100.1'));
  assert.ok('refused' in third && /198\.51\.100\.1 holds 2/.test(third.refused));
  assert.ok('id' in pool.admit(handle('198.51.100.2')));
  pool.placed(first.id, 'w1');
  pool.placed(second.id, 'w2');
  pool.released('w2', first.id); // w2 does not hold it: nothing changes
  assert.ok('refused' in pool.admit(handle('198.51.100.1')));
  pool.released('w1', first.id);
  assert.ok('id' in pool.admit(handle('198.51.100.1')));
  pool.workerGone('w2');
  assert.equal(pool.size, 2);
  assert.deepEqual(pool.shedTargets(3, ['w1', 'w2']), ['w1', 'w2', 'w1']);
  assert.deepEqual(pool.shedTargets(3, ['w1', 'w2']), [], 'three sheds already asked for');
  pool.released('w1', undefined);
  assert.deepEqual(pool.shedTargets(3, ['w1', 'w2']), ['w2']);
  pool.resetSheds();
  assert.deepEqual(pool.shedTargets(1, ['w1']), ['w1']);
  assert.deepEqual(pool.shedTargets(5, []), []);
});

test('a full queue makes room for a client holding fewer connections, at the expense of the heaviest client', () => {
  const pool = new PoolConnections<string>(64);
  const id = (address: string): number => { const a = pool.admit(handle(address)); assert.ok('id' in a); return a.id; };
  const attacker = Array.from({ length: 5 }, () => id('198.51.100.9'));
  const queued = attacker.slice(2); // two already at a worker, three waiting
  const other = id('198.51.100.1');
  assert.equal(pool.displacedBy(other, queued), attacker[4], 'the latest queued connection of the heaviest client');
  // a client with as many connections as the heaviest queued one is not let in ahead of it
  const heavy = Array.from({ length: 5 }, () => id('198.51.100.2'));
  assert.equal(pool.displacedBy(heavy[4]!, queued), undefined);
  // the attacker's newcomer never displaces the attacker's own queued connections
  assert.equal(pool.displacedBy(id('198.51.100.9'), queued), undefined);
});
