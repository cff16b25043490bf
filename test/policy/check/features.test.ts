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
