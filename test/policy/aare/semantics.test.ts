// AARE semantics users rely on (policy-language §1, §7, §8, §10), asserted on match results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  canonicalizePath, compilePattern, compileRuleSet, filterSlashes, isExact, matches, parseAare, MAX_ALTERNATION_DEPTH,
  type CompileOptions,
} from '../../../src/policy/aare/index.js';

function match(pattern: string, subject: string | Uint8Array, options: CompileOptions = {}): boolean {
  const compiled = compilePattern(pattern, options);
  assert.ok(compiled.ok, `${pattern}: ${JSON.stringify(compiled.diagnostics)}`);
  return matches(compiled.automaton, subject);
}

function errorCode(pattern: string, options: CompileOptions = {}): string | undefined {
  const parsed = parseAare(pattern, options);
  return parsed.ok ? undefined : parsed.diagnostics.find((d) => d.severity === 'error')?.code;
}

const cases: readonly [pattern: string, subject: string, expected: boolean][] = [
  // ? and *: one / any run of characters within a path element
  ['/q/a?c', '/q/abc', true], ['/q/a?c', '/q/a/c', false], ['/q/a?c', '/q/ac', false],
  ['/proc/*', '/proc/1', true], ['/proc/*', '/proc/1/status', false], ['/proc/*', '/proc/', false],
  // ** crosses slashes but still needs a first character that is not '/'
  ['/tmp/**', '/tmp/a/b/c', true], ['/tmp/**', '/tmp/', false], ['/tmp/**', '/tmp//x', false],
  ['/tmp/{,**}', '/tmp/', true], ['/tmp/{,**}', '/tmp/a/b', true],
  ['/tmp/*/', '/tmp/d/', true], ['/tmp/*/', '/tmp/f', false],
  // the path-element guard: whole components only
  ['/*/x', '//x', false], ['/*/x', '/a/x', true],
  ['/foo/*bar', '/foo/bar', true], ['/foo/**.jpg', '/foo/.jpg', true], ['/foo/**.jpg', '/foo/a/b.jpg', true],
  ['/x/{,**}', '/x/', true], ['/x/{**,}', '/x/', true], ['/x/{*,y}', '/x/', true], ['/x/{*,y}', '/x/y', true],
  ['/x/***', '/x/', false], ['/x/***', '/x/a/b', true],
  // classes; [^...] may match '/'
  ['/a[bc]d', '/acd', true], ['/a[bc]d', '/aed', false], ['/a[b-d]', '/ac', true],
  ['/a[^b]c', '/a/c', true], ['/a[^b]c', '/abc', false], ['/[{,}]', '/,', true],
  // alternation, nested, with empty alternatives
  ['/{usr/,}bin/{ba,da,}sh', '/bin/sh', true], ['/{usr/,}bin/{ba,da,}sh', '/usr/bin/dash', true],
  ['/{a,b{c,d}}', '/bd', true], ['/{a,b{c,d}}', '/b', false],
  // literal regex metacharacters
  ['/a.b+c(d)|e$f^g', '/a.b+c(d)|e$f^g', true], ['/a.b', '/axb', false],
  // escapes
  ['/oct/\\101', '/oct/A', true], ['/hex/\\x41', '/hex/A', true], ['/dec/\\d065', '/dec/A', true],
  ['/star/\\*', '/star/*', true], ['/star/\\*', '/star/x', false], ['/q/\\?', '/q/?', true],
  ['/g/\\{a\\,b\\}', '/g/{a,b}', true], ['/{a\\,b,c}', '/a,b', true], ['/b/\\\\', '/b/\\', true],
  ['/c/\\[x\\]', '/c/[x]', true], ['/t/\\t', '/t/\t', true], ['/u/\\q', '/u/q', true],
  // slash filtering: runs collapse, a leading // namespace is kept, trailing slashes stay
  ['///usr//bin/', '/usr/bin/', true], ['//usr', '//usr', true], ['//usr', '/usr', false],
  // bytes: the subject is matched as UTF-8
  ['/é', '/é', true], ['/?', '/é', false], ['/??', '/é', true], ['/*', '/é€😀', true],
];

test('glob semantics match the spec examples', () => {
  for (const [pattern, subject, expected] of cases) {
    assert.equal(match(pattern, subject), expected, `${pattern} vs ${JSON.stringify(subject)}`);
  }
});

test('glob_null fields: ? and * stop at / but match NUL, ** matches anything, no slash filtering', () => {
  const opts = { kind: 'glob_null' } as const;
  assert.equal(match('org.freedesktop.*', 'org.freedesktop.DBus', opts), true);
  assert.equal(match('/org/*', '/org/a/b', opts), false);
  assert.equal(match('/org/**', '/org/a/b', opts), true);
  assert.equal(match('a*b', new Uint8Array([0x61, 0, 0x62]), opts), true);
  assert.equal(match('a*b', new Uint8Array([0x61, 0, 0x62])), false);
  assert.equal(match('a//b', 'a//b', opts), true);
  assert.equal(match('a//b', 'a/b', opts), false);
});

test('invalid patterns give diagnostics with stable codes, never exceptions', () => {
  assert.equal(errorCode('/a/\\'), 'aare/trailing-backslash');
  assert.equal(errorCode('/a/[bc'), 'aare/unclosed-class');
  assert.equal(errorCode('/a/{b,c'), 'aare/unclosed-group');
  assert.equal(errorCode('/a/b]'), 'aare/unmatched-close');
  assert.equal(errorCode('/a/b}'), 'aare/unmatched-close');
  assert.equal(errorCode('/a/{b}'), 'aare/single-alternative');
  assert.equal(errorCode('/a/{}'), 'aare/single-alternative');
  assert.equal(errorCode('/a/[]'), 'aare/empty-class');
  assert.equal(errorCode('/a/[^]'), 'aare/empty-class');
  assert.equal(errorCode('/a/[a-]'), 'aare/invalid-range');
  const nested = (depth: number) => '/'.concat('{a,'.repeat(depth), 'b', '}'.repeat(depth));
  assert.equal(errorCode(nested(MAX_ALTERNATION_DEPTH)), undefined);
  assert.equal(errorCode(nested(MAX_ALTERNATION_DEPTH + 1)), 'aare/nesting-too-deep');
});

test('diagnostics point into the policy text when given an origin', () => {
  const parsed = parseAare('/srv/{a', { origin: { file: 'site.apparmor', line: 12, col: 3, offset: 200 } });
  assert.equal(parsed.ok, false);
  const [d] = parsed.diagnostics;
  assert.deepEqual({ file: d!.file, line: d!.line, col: d!.col, offset: d!.offset, code: d!.code }, {
    file: 'site.apparmor', line: 12, col: 8, offset: 205, code: 'aare/unclosed-group',
  });
});

test('needless escapes and reversed ranges warn but keep apparmor_parser meaning', () => {
  const escaped = parseAare('/a/\\q');
  assert.ok(escaped.ok);
  assert.deepEqual(escaped.diagnostics.map((d) => [d.code, d.severity]), [['aare/unnecessary-escape', 'warning']]);
  const reversed = parseAare('/a/[c-a]');
  assert.ok(reversed.ok);
  assert.deepEqual(reversed.diagnostics.map((d) => d.code), ['aare/reversed-range']);
  assert.equal(match('/a/[c-a]', '/a/b'), true);
});

test('slash filtering and path canonicalization', () => {
  assert.equal(filterSlashes('///foo//////f//oo////'), '/foo/f/oo/');
  assert.equal(filterSlashes('///'), '/');
  assert.equal(filterSlashes('///usr'), '/usr');
  assert.equal(filterSlashes('//usr'), '//usr');
  assert.equal(canonicalizePath('/srv//www///a'), '/srv/www/a');
  assert.equal(canonicalizePath('/srv/www', { directory: true }), '/srv/www/');
  assert.equal(canonicalizePath('/srv/www/', { directory: true }), '/srv/www/');
});

test('exactness: no star, ?, or negated class; positive classes exact except in the 3.0.8 variant', () => {
  assert.equal(isExact('/bin/cat'), true);
  assert.equal(isExact('/bin/{cat,dog}'), true);
  assert.equal(isExact('/bin/[cd]at'), true);
  assert.equal(isExact('/bin/[cd]at', { positiveClassIsWildcard: true }), false);
  assert.equal(isExact('/bin/*'), false);
  assert.equal(isExact('/bin/ca?'), false);
  assert.equal(isExact('/bin/[^c]at'), false);
  assert.equal(isExact('/bin/\\*'), true);
  assert.equal(isExact('/bin/{'), undefined);
});

test('pathological patterns compile fast or fail with aare/state-limit, never hang', () => {
  const started = Date.now();
  const deep = '/'.concat('{a,'.repeat(40), 'b', '}'.repeat(40));
  assert.ok(compilePattern(deep).ok);
  assert.ok(compilePattern(`/${'*'.repeat(200)}`).ok);
  assert.ok(compilePattern(`/${'a*'.repeat(200)}`).ok);
  for (const pattern of [`/**${'[^a]'.repeat(60)}`, `/*${'[^/]*'.repeat(50)}`, `/${'{a,b,}'.repeat(100)}`]) {
    const result = compilePattern(pattern);
    assert.ok(result.ok || result.diagnostics.some((d) => d.code === 'aare/state-limit'), pattern);
  }
  const explosive = compilePattern(`/**a${'?'.repeat(30)}`);
  assert.equal(explosive.ok, false);
  assert.deepEqual(explosive.diagnostics.map((d) => d.code), ['aare/state-limit']);
  const capped = compilePattern(`/**a${'?'.repeat(12)}`, { maxStates: 1000 });
  assert.equal(capped.ok, false);
  assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
});

test('fuzz: any text parses to a result (never an exception) and compiles within the state cap', () => {
  const alphabet = fc.constantFrom('/', '*', '?', '[', ']', '^', '-', '{', '}', ',', '\\', 'a', 'x', '0', '7', 'd', 'é', '\u0000', '"', ' ');
  fc.assert(fc.property(fc.oneof(fc.string({ unit: alphabet, maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 20 })), fc.constantFrom<'path' | 'glob_null'>('path', 'glob_null'), (text, kind) => {
    const parsed = parseAare(text, { kind });
    if (!parsed.ok) {
      assert.ok(parsed.diagnostics.some((d) => d.severity === 'error' && d.code.startsWith('aare/')));
      return;
    }
    const compiled = compilePattern(parsed.ast, { maxStates: 2000 });
    assert.ok(compiled.ok || compiled.diagnostics.some((d) => d.code === 'aare/state-limit'));
  }), { numRuns: 2000, seed: 12 });
});

test('fuzz: matching a string equals matching its UTF-8 bytes, lone surrogates included', () => {
  const compiled = compilePattern('/{a,é,😀,\uFFFD}*/[^/]?**');
  assert.ok(compiled.ok);
  fc.assert(fc.property(fc.string({ unit: fc.oneof(fc.constantFrom('/', 'a', 'é', '😀', '\uD800', '\uDC00', 'x'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 12 }), (subject) => {
    assert.equal(matches(compiled.automaton, subject), matches(compiled.automaton, new TextEncoder().encode(subject)));
  }), { numRuns: 3000, seed: 13 });
});

test('a lone surrogate in a pattern means U+FFFD, as in subjects', () => {
  assert.equal(match('/a\uD800', '/a\uFFFD'), true);
  assert.equal(match('/a\uD800', '/a\uDC00'), true);
});

test('a rule set whose states hold thousands of live rules stops on its work budget, not memory', () => {
  const started = Date.now();
  const rules = Array.from({ length: 2000 }, (_, id) => ({ pattern: `/**/*${id}*/**`, id }));
  const result = compileRuleSet(rules, { maxStates: 5_000 });
  assert.equal(result.ok, false);
  assert.deepEqual(result.diagnostics.map((d) => d.code), ['aare/state-limit']);
  assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
});
