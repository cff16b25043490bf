import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryFileReader, snapshotFileReader, type FileReader } from '../../../src/policy/resolve/index.js';

/** A reader that counts the questions it is asked. */
function counting(reader: FileReader): { reader: FileReader; asked: Map<string, number> } {
  const asked = new Map<string, number>();
  const count = (key: string) => asked.set(key, (asked.get(key) ?? 0) + 1);
  return {
    asked,
    reader: {
      kind: (p) => { count(`kind ${p}`); return reader.kind(p); },
      readFile: (p) => { count(`read ${p}`); return reader.readFile(p); },
      listDirectory: (p) => { count(`list ${p}`); return reader.listDirectory(p); },
    },
  };
}

test('snapshotFileReader answers as its reader does and asks each question once', () => {
  const base = memoryFileReader({ '/etc/apparmor.d/a': 'profile a {}\n', '/etc/apparmor.d/abstractions/b': '/b r,\n' });
  const { reader, asked } = counting(base);
  const snapshot = snapshotFileReader(reader);
  for (let round = 0; round < 3; round++) {
    for (const path of ['/etc/apparmor.d', '/etc/apparmor.d/a', '/etc/apparmor.d/abstractions/b', '/missing']) {
      assert.equal(snapshot.kind(path), base.kind(path), path);
      assert.deepEqual(snapshot.readFile(path), base.readFile(path), path);
      assert.deepEqual(snapshot.listDirectory(path)?.sort(), base.listDirectory(path)?.sort(), path);
    }
  }
  assert.ok([...asked.values()].every((n) => n === 1), JSON.stringify([...asked]));
  // A caller sorting or changing a listing does not change the next answer.
  snapshot.listDirectory('/etc/apparmor.d')!.splice(0);
  assert.deepEqual(snapshot.listDirectory('/etc/apparmor.d')?.sort(), base.listDirectory('/etc/apparmor.d')?.sort());
});
