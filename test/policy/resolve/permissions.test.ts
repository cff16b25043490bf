import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFileMode } from '../../../src/policy/resolve/permissions.js';
import { lookupInclude, skippedEntry } from '../../../src/policy/resolve/includes.js';
import { memoryFileReader } from '../../../src/policy/resolve/files.js';

function problem(text: string, deny = false): string | undefined {
  const result = parseFileMode(text, deny);
  return 'code' in result ? result.code : undefined;
}

test('permission letters become a set with one exec mode', () => {
  const result = parseFileMode('mrPix', false);
  assert.ok(!('code' in result));
  assert.deepEqual([...result.permissions].sort(), ['m', 'r', 'x']);
  assert.deepEqual(result.exec, { transition: 'profile', fallback: 'inherit', safe: true, text: 'Pix' });
  const unconfined = parseFileMode('rpUx', false);
  assert.ok(!('code' in unconfined) && unconfined.exec?.fallback === 'unconfined' && !unconfined.exec.safe);
  const forced = parseFileMode('Px', false, 'unsafe');
  assert.ok(!('code' in forced) && forced.exec?.safe === false);
});

test('apparmor_parser mode errors', () => {
  assert.equal(problem('rx'), 'resolve/bare-exec');
  assert.equal(problem('x', true), undefined);
  assert.equal(problem('ix', true), 'resolve/qualified-exec-in-deny');
  assert.equal(problem('rp'), 'resolve/exec-qualifier-without-x');
  assert.equal(problem('Urx'), 'resolve/exec-qualifier-without-x');
  assert.equal(problem('pxix'), 'resolve/multiple-exec-modes');
  assert.equal(problem('rIUx'), 'resolve/exec-qualifier-without-x');
  assert.equal(problem('ripx'), 'resolve/exec-qualifier-without-x');
  assert.equal(problem('rwa'), 'resolve/write-and-append');
  assert.equal(problem('rz'), 'resolve/unknown-permission');
  const old = parseFileMode('RW', false);
  assert.ok(!('code' in old) && old.deprecated.join('') === 'RW');
});

test('directory includes: alphasort order, skip list, suffix must end the name', () => {
  const reader = memoryFileReader({
    '/p/d/b': '', '/p/d/a': '', '/p/d/.hidden': '', '/p/d/README': '', '/p/d/x.dpkg-new': '',
    '/p/d/good.dpkg-new.include': '', '/p/d/y.rpmsave': '', '/p/d/z~': '', '/p/d/sub/inner': '', '/p/d/B': '',
  });
  const found = lookupInclude('d', 'magic', ['/nope', '/p'], '/', reader);
  assert.ok(found.found);
  assert.deepEqual(found.files, ['/p/d/B', '/p/d/a', '/p/d/b', '/p/d/good.dpkg-new.include']);
  assert.deepEqual(found.ignored, ['/p/d/y.rpmsave', '/p/d/z~']);
  assert.equal(skippedEntry('x.pacnew'), 'silent');
});

test('quoted includes are relative to the working directory, magic ones search in order', () => {
  const reader = memoryFileReader({ '/cwd/inc/x': '', '/one/inc/x': '', '/two/inc/x': '' });
  const quoted = lookupInclude('inc/x', 'quoted', ['/one'], '/cwd', reader);
  assert.deepEqual(quoted.found && quoted.files, ['/cwd/inc/x']);
  const magic = lookupInclude('inc/x', 'magic', ['/two', '/one'], '/cwd', reader);
  assert.deepEqual(magic.found && magic.files, ['/two/inc/x']);
  const missing = lookupInclude('inc/y', 'magic', ['rel'], '/cwd', reader);
  assert.deepEqual(!missing.found && missing.tried, ['/cwd/rel/inc/y']);
});

test('a directory with 10,000 files is listed quickly', () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 10_000; i++) files[`/big/f${i}`] = '';
  const reader = memoryFileReader(files);
  const started = Date.now();
  const found = lookupInclude('/big', 'quoted', [], '/', reader);
  assert.ok(found.found && found.files.length === 10_000);
  assert.ok(Date.now() - started < 2000);
});
