// One Label type: its printer inverts its parser on every canonical label, and the parser never throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hatLabel, hatOf, makeLabel, parseLabel, printLabel, profileAndHat } from '../../../src/policy/index.js';

test('the forms the kernel, change_hat and the log reader use', () => {
  assert.deepEqual(parseLabel('apache2').path, ['apache2']);
  assert.deepEqual(parseLabel('apache2//www.example.com').path, ['apache2', 'www.example.com']);
  assert.deepEqual(parseLabel('a//child//hat').path, ['a', 'child', 'hat']);
  assert.equal(hatOf(parseLabel('a//child//hat')), 'child//hat');
  assert.equal(parseLabel('apache2//null-/usr/bin/php').learning, true);
  assert.equal(parseLabel('apache2//site').learning, false);
  const namespaced = parseLabel(':ns://apache2//hat');
  assert.equal(namespaced.namespace, 'ns');
  assert.deepEqual(namespaced.path, ['apache2', 'hat']);
  assert.equal(printLabel(namespaced), ':ns:apache2//hat');
  const stack = parseLabel('a//&:ns:b//h');
  assert.deepEqual(stack.stack?.map((m) => [m.namespace, m.path]), [[undefined, ['a']], ['ns', ['b', 'h']]]);
  assert.equal(printLabel(stack), 'a//&:ns:b//h');
  // a child named by path holds `//` in its name: split where the next name starts
  assert.deepEqual(parseLabel('/usr/bin/a///usr/bin/b').path, ['/usr/bin/a', '/usr/bin/b']);
  assert.equal(hatLabel('apache2', null), 'apache2');
  assert.equal(hatLabel('apache2', 'DEFAULT_URI'), 'apache2//DEFAULT_URI');
  assert.equal(makeLabel('a', 'b', null, 'c').text, 'a//b//c');
});

test('profileAndHat takes a profile or one hat of it, nothing deeper or empty', () => {
  assert.deepEqual(profileAndHat(parseLabel('p')), { profile: 'p', hat: null });
  assert.deepEqual(profileAndHat(parseLabel('p//h')), { profile: 'p', hat: 'h' });
  assert.deepEqual(profileAndHat(parseLabel(':ns:p//h')), { profile: ':ns:p', hat: 'h' });
  for (const bad of ['', 'p//', '//h', 'p//h//x', 'a//&b']) assert.equal(profileAndHat(parseLabel(bad)), undefined, bad);
});

/** Names as profiles, hats and learning labels spell them: no `//` and no `:` at the start. */
const name = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_.\-][A-Za-z0-9_.\-/ ]{0,12}$/).filter((n) => !n.includes('//') && !n.endsWith('/')),
  fc.constantFrom('DEFAULT_URI', 'null-/usr/bin/php', '/usr/sbin/apache2', 'www.example.com'),
);
const single = fc.record({
  namespace: fc.option(fc.stringMatching(/^[a-z0-9_]{1,6}$/), { nil: undefined }),
  path: fc.array(name, { minLength: 1, maxLength: 4 }),
});
const canonical = fc.array(single, { minLength: 1, maxLength: 3 }).map((members) =>
  members.map((m) => `${m.namespace !== undefined ? `:${m.namespace}:` : ''}${m.path.join('//')}`).join('//&'));

test('property: print(parse(x)) === x for every canonical label', () => {
  fc.assert(fc.property(canonical, (text) => {
    const label = parseLabel(text);
    assert.equal(printLabel(label), text);
    assert.equal(label.text, text);
  }), { numRuns: 3000 });
});

test('fuzz: any text parses, and printing then parsing again is stable', () => {
  fc.assert(fc.property(fc.string({ maxLength: 40, unit: fc.constantFrom('a', '/', '&', ':', '-', 'n', 'u', 'l', ' ', 'é') }), (text) => {
    const once = parseLabel(text);
    const printed = printLabel(once);
    const twice = parseLabel(printed);
    assert.equal(printLabel(twice), printed);
    assert.deepEqual(twice.path, once.path);
    assert.equal(twice.learning, once.learning);
  }), { numRuns: 5000 });
});
