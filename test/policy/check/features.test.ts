import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FeatureSet, parseFeatureSet } from '../../../src/policy/check/features.js';
import { corpus } from '../../support/corpora.js';

test('a features file is read into a tree of blocks and words', () => {
  const set = parseFeatureSet('caps {mask {chown kill\n}\n}\nnetwork {af_unix {yes\n}\n}\ndomain {stack {yes}}\n');
  assert.ok(set instanceof FeatureSet);
  assert.ok(set.lists('caps/mask', 'kill'));
  assert.ok(!set.lists('caps/mask', 'bpf'));
  assert.ok(set.supportsClass('unix'));
  assert.ok(!set.supportsClass('dbus'));
  assert.ok(set.has('domain/stack'));
});

test('malformed features files are problems with an offset', () => {
  for (const text of ['a {b', '}', '{ x }']) {
    const result = parseFeatureSet(text);
    assert.ok(!(result instanceof FeatureSet), text);
    assert.equal(typeof result.offset, 'number');
  }
});

const features = corpus('parser-tests');
test('every upstream features file parses', { skip: features.skip }, () => {
  const dir = join(features.dir!, 'features_files');
  for (const name of readdirSync(dir)) {
    const set = parseFeatureSet(readFileSync(join(dir, name), 'utf8'), name);
    assert.ok(set instanceof FeatureSet, name);
    assert.ok(set.has('domain'), name);
  }
  const all = parseFeatureSet(readFileSync(join(dir, 'features.all'), 'utf8'));
  assert.ok(all instanceof FeatureSet && all.supportsClass('dbus') && all.lists('caps/mask', 'audit_read'));
});

test('rules a feature set cannot enforce are warnings, like apparmor_parser, and do not fail the check', async () => {
  const { checkPolicy } = await import('../../../src/policy/check/index.js');
  const { memoryFileReader } = await import('../../../src/policy/resolve/index.js');
  const features = parseFeatureSet('caps {mask {chown kill\n}\n}\nfile {mask {read\n}\n}\n', 'old-kernel');
  assert.ok(features instanceof FeatureSet);
  const result = checkPolicy('/p', { reader: memoryFileReader({ '/p': 'profile p {\n  capability bpf,\n  dbus,\n  /a r,\n}\n' }), workingDirectory: '/', features });
  assert.equal(result.ok, true);
  assert.deepEqual(result.diagnostics.map((d) => [d.line, d.severity, d.code]), [
    [2, 'warning', 'check/unsupported-by-features'],
    [3, 'warning', 'check/unsupported-by-features'],
  ]);
  const newest = checkPolicy('/p', { reader: memoryFileReader({ '/p': 'profile p {\n  capability bpf,\n  dbus,\n}\n' }), workingDirectory: '/' });
  assert.deepEqual(newest.diagnostics, []);
});
