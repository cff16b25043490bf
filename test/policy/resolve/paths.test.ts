// The resolver's own POSIX path functions give node's path.posix answers on the paths policies use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import fc from 'fast-check';
import * as paths from '../../../src/policy/resolve/paths.js';

const segment = fc.constantFrom('', '.', '..', 'a', 'b', 'apparmor.d', 'x y', '...');
const path = fc.tuple(fc.boolean(), fc.array(segment, { maxLength: 6 }), fc.boolean())
  .map(([absolute, parts, trailing]) => `${absolute ? '/' : ''}${parts.join('/')}${trailing ? '/' : ''}`);

test('property: normalize, join, dirname and basename agree with path.posix', () => {
  fc.assert(fc.property(path, path, (a, b) => {
    assert.equal(paths.normalize(a), posix.normalize(a));
    assert.equal(paths.join(a, b), posix.join(a, b));
    assert.equal(paths.dirname(a), posix.dirname(a));
    assert.equal(paths.basename(a), posix.basename(a));
  }), { numRuns: 2000 });
});

test('property: resolve and relative agree with path.posix when the base is absolute', () => {
  fc.assert(fc.property(path, path, path, (base, a, b) => {
    const root = `/${base}`;
    assert.equal(paths.resolve(root, a), posix.resolve(root, a));
    assert.equal(paths.resolve(root, a, b), posix.resolve(root, a, b));
    assert.equal(paths.relative(paths.resolve(root, a), paths.resolve(root, b)), posix.relative(posix.resolve(root, a), posix.resolve(root, b)));
  }), { numRuns: 2000 });
});
