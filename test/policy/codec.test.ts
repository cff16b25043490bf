// The compile cache's data codec: an exact copy of plain data (Sets, Maps, non-finite numbers, keys
// that look like its own tags or like __proto__, shared automata), and nothing for what it cannot copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compilePattern } from '../../src/policy/aare/index.js';
import { decodeData, encodeData } from '../../src/policy/cache/index.js';

const roundTrip = (value: unknown) => {
  const bytes = encodeData(value);
  assert.ok(bytes, 'encodable');
  return decodeData(bytes);
};

test('plain data comes back deep-equal, whatever its keys and numbers', () => {
  const leaf = fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.double(), fc.integer());
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node')), fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('$set', '$dfa', '$num', '__proto__', 'constructor')), tie('node')),
      fc.array(tie('node')).map((a) => new Set(a)), fc.array(fc.tuple(fc.string(), tie('node'))).map((e) => new Map(e))),
  })).node;
  fc.assert(fc.property(value, (v) => {
    assert.deepStrictEqual(roundTrip(v), v);
  }), { numRuns: 300 });
});

test('Infinity, NaN and -0 keep their values; absent optional fields stay absent', () => {
  assert.deepStrictEqual(roundTrip({ a: Infinity, b: -Infinity, c: Number.NaN, d: -0, e: undefined }), { a: Infinity, b: -Infinity, c: Number.NaN, d: -0 });
});

test('a __proto__ key stays a key and never becomes the prototype', () => {
  const value = JSON.parse('{"__proto__": {"polluted": true}, "x": [{"__proto__": {"$set": []}}]}') as Record<string, unknown>;
  const copy = roundTrip(value) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(copy), Object.prototype);
  assert.deepStrictEqual(Object.keys(copy), ['__proto__', 'x']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('automata are copied exactly and one used twice is decoded once', () => {
  const compiled = compilePattern('/srv/{a,b}/**');
  assert.ok(compiled.ok);
  const copy = roundTrip({ first: compiled.automaton, again: [compiled.automaton] }) as { first: unknown; again: unknown[] };
  assert.deepStrictEqual(copy.first, compiled.automaton);
  assert.equal(copy.again[0], copy.first);
});

test('class instances, functions, symbols and holes are refused rather than approximated', () => {
  class Thing { x = 1; }
  assert.equal(encodeData({ a: new Thing() }), undefined);
  assert.equal(encodeData({ f: () => 1 }), undefined);
  assert.equal(encodeData({ [Symbol('s')]: 1 }), undefined);
  assert.equal(encodeData([1, , 2]), undefined); // eslint-disable-line no-sparse-arrays
  assert.equal(encodeData(new Date()), undefined);
});

test('bytes that are not an encoding decode to undefined', () => {
  const bytes = encodeData({ a: [1, 2, new Set(['x'])] })!;
  assert.equal(decodeData(bytes.subarray(0, bytes.length - 1)), undefined);
  assert.equal(decodeData(new Uint8Array(8)), undefined);
  const forged = bytes.slice();
  forged[16] = 0x7b + 1; // the JSON no longer parses
  assert.equal(decodeData(forged), undefined);
  const badTag = encodeData(JSON.parse('{"ok": 1}'))!;
  const text = new TextDecoder().decode(badTag.subarray(16, 16 + new DataView(badTag.buffer).getUint32(8, true)));
  assert.equal(text, '{"ok":1}');
});
