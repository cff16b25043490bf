// Property tests: the parser never throws, always round-trips, and stays linear on hostile input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeSource } from '../../../src/policy/diagnostic/index.js';
import { parsePolicy, printTree } from '../../../src/policy/syntax/index.js';
import { buildPolicyModel } from '../../../src/policy/model/index.js';
import { formatPolicy } from '../../../src/policy/format/index.js';
import { corpus } from '../../support/corpora.js';

function roundTrips(text: string): void {
  const result = parsePolicy(text, 'fuzz');
  assert.equal(printTree(result.root), text);
  buildPolicyModel(result);
}

test('random bytes (decoded as the CLI does) never throw and round-trip', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
    roundTrips(decodeSource(bytes).text);
  }), { numRuns: 500 });
});

const TOKENS = [
  'profile', 'hat', '^', 'x', '/usr/bin/foo', '@{HOME}', '@{X}', '$b', '{', '}', '(', ')', ',', ' ', '\t', '\n', '\r\n', '\r',
  '#', '# c\n', '#include', 'include', '<', '>', '"', '\\', '\\\n', '=', '+=', '?=', ':=', '->', '<=', '==', '!=', '!',
  'if', 'else', 'not', 'defined', 'and', 'or', 'in', 'rw', 'Px', 'audit', 'deny', 'owner', 'priority=1', 'flags=',
  'xattrs=', 'peer=', 'capability', 'network', 'dbus', 'mount', 'set', 'rlimit', 'file', 'link', 'subset', 'all', 'abi',
  'alias', 'change_profile', 'unsafe', 'signal', 'set=', 'ü', '\0', '*', '**', '[', ']', '-', '+',
];

test('random token soup never throws, round-trips and formats idempotently', () => {
  fc.assert(fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 120 }), (parts) => {
    const text = parts.join('');
    roundTrips(text);
    const once = formatPolicy(text).text;
    const twice = formatPolicy(once).text;
    assert.equal(twice, once);
  }), { numRuns: 400 });
});

const profiles = corpus('profiles');
test('mutated real profiles never throw and round-trip', { skip: profiles.skip }, () => {
  const seeds = ['apparmor.d/usr.sbin.apache2', 'apparmor.d/php-fpm', 'apparmor.d/abstractions/base', 'apparmor.d/tunables/global']
    .map((p) => readFileSync(join(profiles.dir!, p), 'utf8'));
  const mutation = fc.record({
    seed: fc.nat(seeds.length - 1),
    edits: fc.array(fc.record({ at: fc.nat(), op: fc.constantFrom('insert', 'delete', 'duplicate'), text: fc.constantFrom(...TOKENS) }), { minLength: 1, maxLength: 8 }),
  });
  fc.assert(fc.property(mutation, ({ seed, edits }) => {
    let text = seeds[seed]!;
    for (const { at, op, text: insert } of edits) {
      const i = at % (text.length + 1);
      if (op === 'insert') text = text.slice(0, i) + insert + text.slice(i);
      else if (op === 'delete') text = text.slice(0, i) + text.slice(i + 1 + (at % 7));
      else text = text.slice(0, i) + text.slice(i, i + 1 + (at % 40)) + text.slice(i);
    }
    roundTrips(text);
    const once = formatPolicy(text).text;
    assert.equal(formatPolicy(once).text, once);
  }), { numRuns: 150 });
});

/** A value that begins with an AARE alternation: nested `{…}`, empty first or last alternatives, as `{,vs}code`. */
const alternationValue: fc.Arbitrary<string> = fc.letrec<{ value: string; alternation: string }>((tie) => ({
  value: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom('a', 'vs', 'org.', '*', '@', '-', '') }, { weight: 1, arbitrary: tie('alternation') }), { minLength: 1, maxLength: 3 }).map((parts) => parts.join('')),
  alternation: fc.array(tie('value'), { minLength: 2, maxLength: 3, depthIdentifier: 'alt' }).map((alternatives) => `{${alternatives.join(',')}}`),
})).alternation.filter((alt) => !alt.includes(',,')).chain((alt) => fc.tuple(fc.constant(alt), fc.constantFrom('', 'code', '.x')).map(([a, tail]) => a + tail));

test('condition values that begin with an alternation parse as one value, in a rule and inside ( … )', () => {
  const placement = fc.constantFrom(
    (v: string) => `signal peer=${v},`,
    (v: string) => `dbus send peer=(name=${v}),`,
    (v: string) => `unix peer=(label=${v} addr=@x),`,
    (v: string) => `dbus member=${v} peer=(label=${v}),`,
  );
  fc.assert(fc.property(alternationValue, placement, (value, place) => {
    const text = `profile p {\n  ${place(value)}\n}\n`;
    const result = parsePolicy(text, 'fuzz');
    assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error'), [], text);
    assert.equal(printTree(result.root), text);
    const model = buildPolicyModel(result);
    const rule = (model.policy.items[0] as unknown as { body: { conditions: { values: { value: string }[]; conditions: { values: { value: string }[] }[] }[] }[] }).body[0]!;
    const written = rule.conditions.flatMap((c) => [...c.values, ...c.conditions.flatMap((inner) => inner.values)]).map((w) => w.value);
    assert.ok(written.includes(value), `${value} not among ${written.join(' ')}`);
    const once = formatPolicy(text).text;
    assert.equal(formatPolicy(once).text, once);
  }), { numRuns: 300 });
});

/**
 * Parse within `parseLimitMs` (the parser must stay linear); the AST must build too. Deeply nested
 * inputs also go through the formatter (its risk is recursion depth; flat megabytes only cost time).
 */
function timed(label: string, text: string, parseLimitMs: number, format = false): void {
  const start = performance.now();
  const result = parsePolicy(text, 'big');
  const parseMs = performance.now() - start;
  assert.equal(printTree(result.root).length, text.length);
  assert.ok(parseMs < parseLimitMs, `${label}: parse took ${Math.round(parseMs)} ms`);
  buildPolicyModel(result);
  if (format) assert.ok(formatPolicy(result).text.length > 0);
  const totalMs = performance.now() - start;
  assert.ok(totalMs < 20_000, `${label}: parse + model${format ? ' + format' : ''} took ${Math.round(totalMs)} ms`);
}

test('hostile inputs stay linear and never exhaust the stack', () => {
  timed('10 MB single line', 'a'.repeat(10_000_000), 3000);
  timed('10 MB of one path word', `/${'x'.repeat(10_000_000)} r,`, 3000);
  timed('100k nested {', '{'.repeat(100_000), 3000, true);
  timed('100k nested profiles', 'profile a {'.repeat(20_000), 3000, true);
  timed('1 MB of "', '"'.repeat(1_000_000), 3000);
  timed('100k nested (', `if ${'('.repeat(100_000)} {`, 3000, true);
  timed('100k not', `$x = ${'not '.repeat(100_000)}true\n`, 3000, true);
  timed('long and-chain', `if ${Array.from({ length: 50_000 }, () => '$a').join(' and ')} {\n}\n`, 3000, true);
  timed('50k rules without commas', '/x r\n'.repeat(50_000), 3000);
  timed('many unterminated quotes', '"a\n'.repeat(100_000), 3000);
});
