// The literal head/tail pre-filters skip automata only when the answer is certainly "nothing in
// common": checked against the AARE engine on random patterns, so the skips keep lint's results exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compilePattern, intersect, isEmpty } from '../../src/policy/aare/index.js';
import { mayEndLikePhp, mayOverlap, mayOverlapAny, PHP_FILES, WEB_ROOTS } from '../../src/lint/rules.js';

const piece = fc.constantFrom('/', '//', 'a', 'b', 'ph', 'p', '.php', '.phar', 'srv', 'var/www', '*', '**', '?', '{a,b}', '{,/**}', '{srv,var/www}', '[ab]', '\\*', '.');
const pattern = fc.array(piece, { minLength: 1, maxLength: 6 }).map((parts) => `/${parts.join('')}`);

function meet(a: string, b: string): boolean {
  const x = compilePattern(a);
  const y = compilePattern(b);
  if (!x.ok || !y.ok) return true; // not a question the filter may answer
  return !isEmpty(intersect(x.automaton, y.automaton)).empty;
}

test('mayOverlap is false only when the two patterns share no string', () => {
  fc.assert(fc.property(pattern, pattern, (a, b) => { if (!mayOverlap(a, b)) assert.equal(meet(a, b), false, `${a} ∩ ${b}`); }), { numRuns: 400 });
});

test('mayEndLikePhp and mayOverlapAny are false only when nothing is in common', () => {
  fc.assert(fc.property(pattern, (a) => {
    if (!mayEndLikePhp(a)) assert.equal(meet(a, PHP_FILES), false, a);
    if (!mayOverlapAny(a, [WEB_ROOTS])) assert.equal(meet(a, WEB_ROOTS), false, a);
  }), { numRuns: 400 });
});

test('the filters do skip what is plainly apart', () => {
  assert.equal(mayOverlap('/usr/lib/**', '/var/log/apache2/*'), false);
  assert.equal(mayOverlap('/var/log/*.log', '/var/log/**.php'), false);
  assert.equal(mayEndLikePhp('/var/log/apache2/*.log'), false);
  assert.equal(mayOverlapAny('/etc/ssl/**', [WEB_ROOTS]), false);
  assert.equal(mayOverlapAny('/var/www/**', [WEB_ROOTS]), true);
});
