// The validators of what the supervisor receives: total (never throw), exact (only well-formed
// messages of the protocol pass), and a handle only beside the messages that carry a connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkFromFront, checkFromWorker, MESSAGE_LIMITS } from '../../src/server/protocol.js';
import { HISTOGRAM_BUCKETS } from '../../src/server/stats.js';

const stats = { type: 'stats', requests: 1, errors: 0, inFlight: 0, connections: 2, histogram: new Array(HISTOGRAM_BUCKETS).fill(0) };

test('well-formed worker and front messages pass', () => {
  for (const m of [{ type: 'ready' }, { type: 'released' }, { type: 'retire', reason: 'done' }, { type: 'log', lines: ['{"label":"x"}'] }, stats, { ...stats, histogram: [] }]) {
    assert.deepEqual(checkFromWorker(m, false), { ok: true, message: m });
  }
  assert.equal(checkFromWorker({ type: 'handback', bytes: 'R0VU' }, true).ok, true);
  for (const m of [{ type: 'ready' }, { type: 'listening', index: 0, error: null }, { type: 'status?', seq: 3 }, { type: 'need-pool', label: 'p//h', hat: 'h' }, { type: 'stats', rejected: 0, handoffs: 1, connections: 2 }]) {
    assert.equal(checkFromFront(m, false).ok, true, JSON.stringify(m));
  }
  assert.equal(checkFromFront({ type: 'handoff', label: 'p', hat: null, bytes: '' }, true).ok, true);
});

test('the findings: log with lines 5, stats without its counters', () => {
  assert.deepEqual(checkFromWorker({ type: 'log', lines: 5 }, false), { ok: false, reason: 'log: lines is not a list' });
  assert.equal(checkFromWorker({ type: 'stats' }, false).ok, false);
  assert.equal(checkFromWorker({ ...stats, histogram: [1, 2] }, false).ok, false);
  assert.equal(checkFromFront({ type: 'stats', rejected: 'x', handoffs: 0, connections: 0 }, false).ok, false);
});

test('handles: required beside handback/handoff, refused beside anything else', () => {
  assert.equal(checkFromWorker({ type: 'handback', bytes: '' }, false).ok, false);
  assert.equal(checkFromWorker({ type: 'released' }, true).ok, false);
  assert.equal(checkFromFront({ type: 'handoff', label: 'p', hat: null, bytes: '' }, false).ok, false);
  assert.equal(checkFromFront({ type: 'log', lines: [] }, true).ok, false);
});

test('bounds: too many lines, a line too long or with a line break, bytes that are not base64, inherited fields', () => {
  assert.equal(checkFromWorker({ type: 'log', lines: new Array(MESSAGE_LIMITS.logLines + 1).fill('{}') }, false).ok, false);
  assert.equal(checkFromWorker({ type: 'log', lines: ['x'.repeat(MESSAGE_LIMITS.logLineBytes + 1)] }, false).ok, false);
  assert.equal(checkFromWorker({ type: 'log', lines: ['{}\n{"label":"other"}'] }, false).ok, false);
  assert.equal(checkFromWorker({ type: 'handback', bytes: 'not base64!' }, true).ok, false);
  assert.equal(checkFromWorker(Object.create({ type: 'ready' }), false).ok, false);
  assert.equal(checkFromWorker({ type: 'toString' }, false).ok, false);
  assert.equal(checkFromWorker({ type: '__proto__' }, false).ok, false);
});

test('property: 10,000 arbitrary values never throw, and what passes has exactly its type\'s fields', () => {
  const shapes: Record<string, string[]> = { ready: [], released: [], handback: ['bytes'], stats: ['requests', 'errors', 'inFlight', 'connections', 'histogram'], log: ['lines'], retire: ['reason'] };
  const near = fc.record({ type: fc.constantFrom(...Object.keys(shapes), 'handoff', 'x'), bytes: fc.anything(), lines: fc.anything(), reason: fc.anything(), requests: fc.anything() }, { requiredKeys: ['type'] });
  fc.assert(fc.property(fc.oneof(fc.anything(), fc.jsonValue(), near), fc.boolean(), (value, handle) => {
    const worker = checkFromWorker(value, handle);
    const front = checkFromFront(value, handle);
    if (worker.ok) assert.deepEqual(Object.keys(worker.message).filter((k) => k !== 'type').sort(), [...shapes[worker.message.type]!].sort());
    return typeof worker.ok === 'boolean' && typeof front.ok === 'boolean';
  }), { numRuns: 10_000 });
});
