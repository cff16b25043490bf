// ExpirySweep: one timer expiring many items, each at its own time, none that was forgotten first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpirySweep } from '../../src/server/expiry-sweep.js';

test('items expire once, after their time and within a sweep of it; a forgotten one never; the timer restarts after stopping', async () => {
  const sweep = new ExpirySweep<{ slot: number; expiresAt: number; expire(): void }>(20);
  const expired: string[] = [];
  const item = (name: string, inMs: number) => ({ slot: -1, expiresAt: performance.now() + inMs, expire: () => { expired.push(name); } });
  const soon = item('soon', 30);
  const later = item('later', 150);
  const forgotten = item('forgotten', 30);
  for (const i of [soon, later, forgotten]) sweep.watch(i);
  sweep.forget(forgotten);
  await new Promise((r) => setTimeout(r, 90));
  assert.deepEqual(expired, ['soon']);
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(expired, ['soon', 'later']);
  // Empty, the timer stopped by itself; watching again starts it.
  sweep.watch(item('again', 10));
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(expired, ['soon', 'later', 'again']);
  sweep.stop();
});
