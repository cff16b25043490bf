// Set algebra against brute force: random patterns over a small alphabet, every string up to a length
// bound enumerated, and each answer (membership, relation, witness, shortest, smallest) checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  acceptingSets, compare, compilePattern, compileRuleSet, compileUnion, complement, comparePatterns, difference, equivalent, intersect,
  isEmpty, isSubset, lookup, matches, patternDifference, patternsOverlap, union, WITNESS_BYTE_ORDER,
  type Automaton, type Witness,
} from '../../../src/policy/aare/index.js';

// Bytes other than a, b and / are all alike to these patterns; 'c' stands for them and is the first
// such byte in witness order, so enumerating over a, b, c, / is exhaustive up to the bound.
const ALPHABET = ['a', 'b', 'c', '/'].sort((x, y) => WITNESS_BYTE_ORDER.indexOf(x.charCodeAt(0)) - WITNESS_BYTE_ORDER.indexOf(y.charCodeAt(0)));
const MAX_LENGTH = 5;

/** All strings up to MAX_LENGTH, shortest first, then in witness order. */
const UNIVERSE: readonly string[] = (() => {
  const out = [''];
  let layer = [''];
  for (let n = 1; n <= MAX_LENGTH; n++) {
    layer = layer.flatMap((s) => ALPHABET.map((ch) => s + ch));
    out.push(...layer);
  }
  return out;
})();

const atom = fc.constantFrom('a', 'b', '/', '/', '?', '*', '**', '[ab]', '[^a]', '[a/]', '[^/]', '{a,b}', '{,a}', '{/,}', '{**,b}', '{*,/a}');
const patternArb = fc.array(atom, { minLength: 0, maxLength: 5 }).map((parts) => parts.join(''));

function compile(pattern: string): Automaton {
  const result = compilePattern(pattern);
  assert.ok(result.ok, `${pattern}: ${JSON.stringify(result.diagnostics)}`);
  return result.automaton;
}

/** The first string of the set in (length, witness order), or undefined within the bound. */
function bruteWitness(member: (s: string) => boolean): string | undefined {
  return UNIVERSE.find(member);
}

function checkWitness(label: string, witness: Witness | undefined, member: (s: string) => boolean): void {
  const expected = bruteWitness(member);
  if (expected === undefined) {
    assert.ok(witness === undefined || witness.text.length > MAX_LENGTH, `${label}: witness ${witness?.text} but none up to ${MAX_LENGTH}`);
    return;
  }
  assert.ok(witness, `${label}: no witness, expected ${JSON.stringify(expected)}`);
  assert.ok(member(witness.text), `${label}: witness ${JSON.stringify(witness.text)} is not in the set`);
  assert.equal(witness.text, expected, `${label}: witness is not the shortest-then-smallest`);
}

test('intersection, union, difference and complement agree with brute force', () => {
  fc.assert(fc.property(patternArb, patternArb, (pa, pb) => {
    const a = compile(pa);
    const b = compile(pb);
    const inA = (s: string) => matches(a, s);
    const inB = (s: string) => matches(b, s);
    const and = intersect(a, b);
    const or = union(a, b);
    const minus = difference(a, b);
    const not = complement(a);
    for (const s of UNIVERSE) {
      assert.equal(matches(and, s), inA(s) && inB(s), `${pa} ∩ ${pb} on ${s}`);
      assert.equal(matches(or, s), inA(s) || inB(s), `${pa} ∪ ${pb} on ${s}`);
      assert.equal(matches(minus, s), inA(s) && !inB(s), `${pa} − ${pb} on ${s}`);
      assert.equal(matches(not, s), !inA(s), `¬${pa} on ${s}`);
    }
    checkWitness(`${pa} ∩ ${pb}`, isEmpty(and).witness, (s) => inA(s) && inB(s));
    checkWitness(`${pa} − ${pb}`, isEmpty(minus).witness, (s) => inA(s) && !inB(s));
  }), { numRuns: 250, seed: 4 });
});

test('compare, isSubset and equivalent agree with brute force, with shortest witnesses', () => {
  fc.assert(fc.property(patternArb, patternArb, (pa, pb) => {
    const a = compile(pa);
    const b = compile(pb);
    const inA = (s: string) => matches(a, s);
    const inB = (s: string) => matches(b, s);
    const result = compare(a, b);
    checkWitness(`${pa} only`, result.onlyInA, (s) => inA(s) && !inB(s));
    checkWitness(`${pb} only`, result.onlyInB, (s) => !inA(s) && inB(s));
    checkWitness(`both`, result.inBoth, (s) => inA(s) && inB(s));
    const expected = !result.onlyInA && !result.onlyInB ? 'equal'
      : !result.inBoth ? 'disjoint' : !result.onlyInA ? 'subset' : !result.onlyInB ? 'superset' : 'overlap';
    assert.equal(result.relation, expected);
    // The relation holds on every enumerated string.
    for (const s of UNIVERSE) {
      if (result.relation === 'equal') assert.equal(inA(s), inB(s));
      if (result.relation === 'subset' && inA(s)) assert.ok(inB(s));
      if (result.relation === 'superset' && inB(s)) assert.ok(inA(s));
      if (result.relation === 'disjoint') assert.ok(!(inA(s) && inB(s)));
    }
    assert.equal(isSubset(a, b).subset, !result.onlyInA);
    assert.equal(equivalent(a, b).equal, result.relation === 'equal');
  }), { numRuns: 250, seed: 5 });
});

test('a rule set DFA returns exactly the rules that match, in one lookup', () => {
  fc.assert(fc.property(fc.array(patternArb, { minLength: 1, maxLength: 8 }), (patterns) => {
    const built = compileRuleSet(patterns.map((pattern, id) => ({ pattern, id: id * 10 })));
    assert.ok(built.ok);
    const singles = patterns.map(compile);
    for (const s of UNIVERSE) {
      const expected = singles.flatMap((a, i) => (matches(a, s) ? [i * 10] : []));
      assert.deepEqual([...lookup(built.automaton, s)], expected, `${JSON.stringify(patterns)} on ${s}`);
    }
  }), { numRuns: 100, seed: 6 });
});

test('minimal DFAs: equivalent patterns compile to the same number of states', () => {
  const pairs = [['/a/{,**}', '/a/{**,}'], ['/x/{a,b}', '/x/[ab]'], ['/***', '/**'], ['/{a,a}', '/a']] as const;
  for (const [x, y] of pairs) {
    const a = compile(x);
    const b = compile(y);
    assert.equal(equivalent(a, b).equal, true, `${x} ≡ ${y}`);
    assert.equal(a.stateCount, b.stateCount, `${x} and ${y}`);
  }
});

test('path universe: NUL never appears in witnesses or complements', () => {
  const a = compile('/a[^b]');
  const b = compile('/a[^b/]');
  const result = compare(a, b);
  assert.equal(result.relation, 'superset');
  assert.equal(result.onlyInA?.text, '/a/');
  assert.equal(matches(complement(compile('/**')), new Uint8Array([0x2f, 0x61, 0])), false);
});

test('pattern-level helpers answer the questions other areas ask', () => {
  const overlap = patternsOverlap('/bin/[cd]at', '/bin/*');
  assert.ok(overlap.ok);
  assert.equal(overlap.overlap, true);
  assert.equal(overlap.witness?.text, '/bin/cat');
  const none = patternsOverlap('/srv/a/**', '/srv/b/**');
  assert.ok(none.ok);
  assert.equal(none.overlap, false);
  const widened = patternDifference('/srv/www/**', '/srv/www/*/htdocs/**');
  assert.ok(widened.ok);
  assert.equal(widened.witness?.text, '/srv/www/a');
  const cmp = comparePatterns('/tmp/**', '/tmp/{,**}');
  assert.ok(cmp.ok);
  assert.equal(cmp.relation, 'subset');
  assert.equal(cmp.onlyInB?.text, '/tmp/');
  const invalid = comparePatterns('/tmp/{', '/tmp/*');
  assert.equal(invalid.ok, false);
  assert.equal(invalid.ok ? undefined : invalid.diagnostics[0]?.code, 'aare/unclosed-group');
});

test('compiled DFAs are minimal: every two states are distinguishable', () => {
  fc.assert(fc.property(fc.array(patternArb, { minLength: 1, maxLength: 3 }), (patterns) => {
    const built = compileRuleSet(patterns.map((pattern, id) => ({ pattern, id })));
    assert.ok(built.ok);
    const a = built.automaton;
    // Over all byte strings (NUL included): minimality is about the byte language.
    const from = (start: number): Automaton => ({ ...a, start, universe: 'glob_null' });
    for (let i = 0; i < a.stateCount; i++) {
      for (let j = i + 1; j < a.stateCount; j++) {
        const sameSets = a.acceptSets[a.acceptIndex[i]!] === a.acceptSets[a.acceptIndex[j]!];
        // Two states are equivalent only if they accept the same rule sets on every suffix.
        if (!sameSets) continue;
        const distinguishable = [...a.acceptSets.keys()].some((set) => {
          const only = (x: Automaton): Automaton => ({ ...x, acceptIndex: x.acceptIndex.map((v) => (v === set ? 1 : 0)), acceptSets: [[], [0]] });
          return !equivalent(only(from(i)), only(from(j))).equal;
        });
        assert.ok(distinguishable, `states ${i} and ${j} of ${JSON.stringify(patterns)} are equivalent`);
      }
    }
  }), { numRuns: 60, seed: 8 });
});

test('acceptingSets lists every reachable combination of rules with its shortest witness', () => {
  fc.assert(fc.property(fc.array(patternArb, { minLength: 1, maxLength: 5 }), (patterns) => {
    const built = compileRuleSet(patterns.map((pattern, id) => ({ pattern, id })));
    assert.ok(built.ok);
    const sets = acceptingSets(built.automaton);
    const key = (ids: readonly number[]) => ids.join(',');
    // Brute force: the first string (in length, witness order) reaching each combination.
    const expected = new Map<string, string>();
    for (const s of UNIVERSE) {
      const ids = lookup(built.automaton, s);
      if (ids.length && !expected.has(key(ids))) expected.set(key(ids), s);
    }
    const found = new Map(sets.map((entry) => [key(entry.ids), entry.witness.text]));
    for (const [ids, witness] of expected) assert.equal(found.get(ids), witness, `set ${ids} of ${JSON.stringify(patterns)}`);
    for (const entry of sets) assert.deepEqual(lookup(built.automaton, entry.witness.bytes), entry.ids);
  }), { numRuns: 100, seed: 9 });
  const conflicts = compileRuleSet([{ pattern: '/bin/[cd]at', id: 1 }, { pattern: '/bin/*', id: 2 }, { pattern: '/usr/**', id: 3 }]);
  assert.ok(conflicts.ok);
  assert.deepEqual(acceptingSets(conflicts.automaton).map((e) => [e.ids, e.witness.text]), [
    [[2], '/bin/a'], [[3], '/usr/a'], [[1, 2], '/bin/cat'],
  ]);
});

test('compileUnion accepts exactly the strings some pattern matches', () => {
  fc.assert(fc.property(fc.array(patternArb, { minLength: 1, maxLength: 6 }), (patterns) => {
    const built = compileUnion(patterns);
    assert.ok(built.ok);
    const singles = patterns.map(compile);
    for (const s of UNIVERSE) assert.equal(matches(built.automaton, s), singles.some((a) => matches(a, s)), `${JSON.stringify(patterns)} on ${s}`);
  }), { numRuns: 100, seed: 10 });
});
