// The demo's concrete policy copy is written to a temporary directory whose name others can predict.
// Before, a local user who made that directory first, with a symbolic link named like the temporary
// file, had the server (often root) write through the link: any file overwritten. Now the predictable
// directory is used only when it is our own private one, and files are created O_EXCL|O_NOFOLLOW.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { concreteDemoPolicy } from '../../src/server/serve.js';
import { repoRoot } from '../support/repo.js';

const demoDir = join(repoRoot, 'examples', 'hosting');
const policyFile = join(demoDir, 'policy', 'hatter-demo');

test('a directory pre-created by another user with links inside is not written through', () => {
  const first = concreteDemoPolicy(policyFile, demoDir);
  const predictable = dirname(first);
  const victimDir = mkdtempSync(join(tmpdir(), 'hatter-victim-'));
  const victim = join(victimDir, 'precious');
  writeFileSync(victim, 'precious data\n');
  try {
    // The attacker's directory at the predictable name: every name the server might write is a link.
    rmSync(predictable, { recursive: true, force: true });
    mkdirSync(predictable);
    chmodSync(predictable, 0o777);
    if (process.getuid?.() === 0) chownSync(predictable, 65534, 65534);
    const name = basename(policyFile);
    for (const link of [name, `${name}.${process.pid}.tmp`]) symlinkSync(victim, join(predictable, link));
    const second = concreteDemoPolicy(policyFile, demoDir);
    assert.equal(readFileSync(victim, 'utf8'), 'precious data\n', 'the victim file is untouched');
    assert.notEqual(dirname(second), predictable, 'the attacker\'s directory is not used');
    assert.match(readFileSync(second, 'utf8'), /@\{HATTER_DEMO\}=/);
    assert.equal(statSync(dirname(second)).mode & 0o077, 0, 'the copy lives in a private directory');
    rmSync(dirname(second), { recursive: true, force: true });
  } finally {
    rmSync(predictable, { recursive: true, force: true });
    rmSync(victimDir, { recursive: true, force: true });
  }
});

test('our own private directory is reused: repeated starts leave one copy and no temporary files', () => {
  const one = concreteDemoPolicy(policyFile, demoDir);
  const two = concreteDemoPolicy(policyFile, demoDir);
  assert.equal(one, two);
  assert.deepEqual(readdirSync(dirname(one)), [basename(policyFile)]);
  assert.equal(statSync(dirname(one)).mode & 0o777, 0o700);
});
