// Loading into the kernel removes a learning profile that stands where a new hat goes, then runs
// apparmor_parser; on a fake securityfs tree, with apparmor_parser injected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { learningShadows, loadIntoKernel } from '../../src/confine/index.js';

function fakeSys(profiles: string): string {
  const sys = mkdtempSync(join(tmpdir(), 'hatter-kload-'));
  mkdirSync(join(sys, 'kernel/security/apparmor'), { recursive: true });
  writeFileSync(join(sys, 'kernel/security/apparmor/profiles'), profiles);
  return sys;
}

test('the shadowing learning profile is removed before apparmor_parser runs, by the name the kernel knows', () => {
  const sys = fakeSys('php-fpm (complain)\nphp-fpm//null-php-fpm//myblog (complain)\n');
  try {
    const calls: string[][] = [];
    const result = loadIntoKernel(['-r', '/etc/apparmor.d/php-fpm'], ['php-fpm', 'php-fpm//myblog'], {
      sys,
      runParser: (args) => {
        // the removal happened first
        assert.equal(readFileSync(join(sys, 'kernel/security/apparmor/.remove'), 'utf8'), 'php-fpm//myblog');
        calls.push([...args]);
        return { status: 0, output: '' };
      },
    });
    assert.equal(result.ok, true);
    assert.deepEqual(result.removed, [{ remove: 'php-fpm//myblog', learning: 'php-fpm//null-php-fpm//myblog' }]);
    assert.deepEqual(calls, [['-r', '/etc/apparmor.d/php-fpm']]);
  } finally { rmSync(sys, { recursive: true, force: true }); }
});

test('no securityfs: nothing removed, the parser still runs and its failure is reported', () => {
  const sys = mkdtempSync(join(tmpdir(), 'hatter-kload-'));
  try {
    assert.deepEqual(learningShadows(['php-fpm//myblog'], sys), []);
    const result = loadIntoKernel(['-r', 'x'], ['php-fpm//myblog'], { sys, runParser: () => ({ status: 1, output: 'AppArmor parser error' }) });
    assert.equal(result.ok, false);
    assert.deepEqual(result.removed, []);
    assert.equal(result.output, 'AppArmor parser error');
  } finally { rmSync(sys, { recursive: true, force: true }); }
});

test('a failed removal stops before the load and says which profile', () => {
  const sys = fakeSys('php-fpm//null-php-fpm//myblog (complain)\n');
  try {
    mkdirSync(join(sys, 'kernel/security/apparmor/.remove')); // writing to a directory fails
    let ran = false;
    const result = loadIntoKernel(['-r', 'x'], ['php-fpm//myblog'], { sys, runParser: () => { ran = true; return { status: 0, output: '' }; } });
    assert.equal(result.ok, false);
    assert.equal(ran, false);
    assert.match(result.output, /php-fpm\/\/null-php-fpm\/\/myblog/);
  } finally { rmSync(sys, { recursive: true, force: true }); }
});
