// Automata as bytes (the compile cache's layout): a round trip gives the same automaton, and bytes
// that are not a well-formed encoding (truncated, wrong magic, indexes out of range) decode to nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compilePattern, compileRuleSet, empty, lookup, universal, type Automaton } from '../../../src/policy/aare/index.js';
import { deserializeAutomaton, serializeAutomaton } from '../../../src/policy/aare/serialize.js';

const atom = fc.constantFrom('a', 'b', '/', '?', '*', '**', '[ab]', '[^a]', '{a,b}', '{,a}', '\\*', 'é');
const patternArb = fc.array(atom, { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('')}`);

function plain(a: Automaton) {
  return { ...a, classOf: [...a.classOf], transitions: [...a.transitions], acceptIndex: [...a.acceptIndex], acceptSets: a.acceptSets.map((s) => [...s]) };
}

test('a rule-set DFA survives the round trip exactly and answers every lookup alike', () => {
  fc.assert(fc.property(fc.array(patternArb, { minLength: 1, maxLength: 6 }), fc.array(fc.stringOf(fc.constantFrom('a', 'b', '/', 'c', '*')), { maxLength: 8 }), (patterns, subjects) => {
    const result = compileRuleSet(patterns.map((pattern, id) => ({ pattern, id })));
    assert.ok(result.ok);
    const copy = deserializeAutomaton(serializeAutomaton(result.automaton));
    assert.ok(copy, 'decodes');
    assert.deepEqual(plain(copy), plain(result.automaton));
    for (const subject of subjects) assert.deepEqual(lookup(copy, `/${subject}`), lookup(result.automaton, `/${subject}`));
  }), { numRuns: 150 });
});

test('empty, universal and glob_null automata round-trip; a copy at an unaligned offset decodes too', () => {
  const target = compilePattern('foo//*', { kind: 'glob_null' });
  assert.ok(target.ok);
  for (const automaton of [empty('path'), universal('path'), universal('glob_null'), target.automaton]) {
    const bytes = serializeAutomaton(automaton);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    assert.deepEqual(plain(deserializeAutomaton(shifted.subarray(1))!), plain(automaton));
  }
});

test('malformed bytes decode to undefined, never to an automaton that reads out of bounds', () => {
  const compiled = compileRuleSet([{ pattern: '/srv/**', id: 0 }, { pattern: '/srv/*.php', id: 1 }]);
  assert.ok(compiled.ok);
  const bytes = serializeAutomaton(compiled.automaton);
  const words = () => new Int32Array(bytes.slice().buffer);
  const encode = (w: Int32Array) => new Uint8Array(w.buffer);
  assert.equal(deserializeAutomaton(bytes.subarray(0, bytes.length - 4)), undefined, 'truncated');
  assert.equal(deserializeAutomaton(new Uint8Array(3)), undefined, 'tiny');
  let w = words(); w[0] = 0; assert.equal(deserializeAutomaton(encode(w)), undefined, 'magic');
  w = words(); w[1] = 99; assert.equal(deserializeAutomaton(encode(w)), undefined, 'format');
  w = words(); w[5] = w[4]!; assert.equal(deserializeAutomaton(encode(w)), undefined, 'start out of range');
  const transitionsAt = 8 + 64;
  const classCount = w[3]!;
  w = words(); w[transitionsAt + classCount] = 1 << 20; assert.equal(deserializeAutomaton(encode(w)), undefined, 'transition out of range');
  w = words(); w[transitionsAt + classCount] = -1; assert.equal(deserializeAutomaton(encode(w)), undefined, 'negative transition');
  w = words(); w[transitionsAt] = 1; assert.equal(deserializeAutomaton(encode(w)), undefined, 'dead state leaves');
  const acceptAt = transitionsAt + w[4]! * classCount;
  w = words(); w[acceptAt + 1] = 1000; assert.equal(deserializeAutomaton(encode(w)), undefined, 'accept index out of range');
  w = words(); w[transitionsAt - 64] = 0x7f7f7f7f; assert.equal(deserializeAutomaton(encode(w)), undefined, 'byte class out of range');
});
