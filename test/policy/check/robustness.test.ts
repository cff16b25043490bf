// Hostile input gives diagnostics, never a crash or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkPolicy } from '../../../src/policy/check/index.js';
import { memoryFileReader } from '../../../src/policy/resolve/index.js';

function check(files: Record<string, string | Uint8Array>, main = '/p/main', includePaths = ['/inc']) {
  return checkPolicy(main, { reader: memoryFileReader(files), workingDirectory: '/p', includePaths });
}

function timed<T>(limitMs: number, fn: () => T): T {
  const started = Date.now();
  const result = fn();
  const elapsed = Date.now() - started;
  assert.ok(elapsed < limitMs, `took ${elapsed} ms (limit ${limitMs} ms)`);
  return result;
}

test('binary garbage is rejected with diagnostics', () => {
  const bytes = new Uint8Array(64 * 1024);
  let seed = 12345;
  for (let i = 0; i < bytes.length; i++) { seed = (seed * 1103515245 + 12345) >>> 0; bytes[i] = seed >>> 24; }
  const result = timed(10_000, () => check({ '/p/main': bytes }));
  assert.equal(result.ok, false);
  assert.ok(result.diagnostics.every((d) => d.file === '/p/main' && d.line >= 1 && d.col >= 1));
});

test('10 MB single-line files finish with a verdict', () => {
  const path = timed(60_000, () => check({ '/p/main': `/x { /${'a'.repeat(10_000_000)} r, }` }));
  assert.equal(path.ok, true, path.diagnostics.slice(0, 3).map((d) => d.message).join('; '));
  const garbage = timed(60_000, () => check({ '/p/main': 'x'.repeat(10_000_000) }));
  assert.equal(garbage.ok, false);
  assert.ok(garbage.diagnostics.length > 0);
});

test('deeply nested braces give a diagnostic', () => {
  const result = timed(30_000, () => check({ '/p/main': `/x {${' ^h {'.repeat(20_000)}${'}'.repeat(20_001)}` }));
  assert.equal(result.ok, false);
  assert.ok(result.diagnostics.some((d) => d.severity === 'error'));
  const unbalanced = timed(20_000, () => check({ '/p/main': `/x { /a{${'{'.repeat(100_000)} r, }` }));
  assert.equal(unbalanced.ok, false);
});

test('include loops terminate: at file level and inside profiles', () => {
  const loop = check({
    '/p/main': 'include <a>\n/x { include <b> }\n',
    '/inc/a': 'include <a2>\n',
    '/inc/a2': 'include <a>\n@{V} = /v\n',
    '/inc/b': '/b r,\ninclude <c>\n',
    '/inc/c': '/c r,\ninclude <b>\n',
  });
  assert.equal(loop.ok, true, loop.diagnostics.map((d) => d.message).join('; '));
  const rules = loop.policy.profiles[0]!.rules;
  assert.deepEqual(rules.map((r) => (r.class === 'file' ? r.pattern : '')), ['/b', '/c']);
  // A file that includes itself from inside a profile it defines is rejected, not looped.
  const self = check({ '/p/main': '/x { include "main" }\n' });
  assert.equal(self.ok, false);
});

test('a directory of 10,000 files is included in alphasort order', () => {
  const files: Record<string, string> = { '/p/main': '/x { include <many> }\n' };
  for (let i = 0; i < 10_000; i++) files[`/inc/many/f${String(i).padStart(5, '0')}`] = `/data/${i} r,\n`;
  const result = timed(30_000, () => check(files));
  assert.equal(result.ok, true);
  const rules = result.policy.profiles[0]!.rules;
  assert.equal(rules.length, 10_000);
  assert.equal(rules[0]!.class === 'file' && rules[0]!.pattern, '/data/0');
  assert.equal(rules[9_999]!.class === 'file' && rules[9_999]!.pattern, '/data/9999');
  assert.deepEqual(rules[5]!.source.includeChain, [{ file: '/p/main', line: 1, col: 6 }]);
});

test('property: any text gives a result with well-formed diagnostics, never an exception', () => {
  const pieces = fc.constantFrom('/x', '{', '}', ',', ' ', '\n', '@{V}', '@{V} = a', '$b = true', 'if $b', 'else', 'include <a>', 'r', 'ix',
    'Px', '->', 'profile', '^h', 'capability', 'network', 'inet', 'deny', 'owner', 'audit', 'priority=5', '"', '\\', '#', 'flags=(complain)',
    'alias /a -> /b,', 'dbus', 'peer=(', ')', 'set=(hup)', 'mount', 'options=(ro)', '[', ']', '**', '*');
  fc.assert(fc.property(fc.array(pieces, { maxLength: 40 }), (parts) => {
    const result = check({ '/p/main': parts.join(''), '/inc/a': '@{V} = /a\n' });
    assert.equal(typeof result.ok, 'boolean');
    for (const d of result.diagnostics) {
      assert.ok(d.line >= 1 && d.col >= 1 && typeof d.code === 'string' && d.code.includes('/'), JSON.stringify(d));
    }
  }), { numRuns: 200 });
});
