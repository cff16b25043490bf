// `hatter mode`: only the flags of the named profile, hat or child change; every other byte stays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { changedFlags, setModeAt } from '../../src/host/mode.js';
import { runCli } from '../support/cli.js';

const MAIN = `# Apache with sites
abi <abi/3.0>,
include <tunables/global>

profile apache2 /usr/sbin/apache2 flags=(attach_disconnected) {   # the parent
  include <abstractions/base>
  ^DEFAULT_URI flags=(complain, attach_disconnected) {
    /srv/** r,   # keep this comment
  }
  profile helper /usr/bin/helper {
    /usr/bin/helper mr,
  }
  include <apache2.d>
}
`;
const HAT = `# one site's hat
^shop {
  /srv/shop/** r,
}
`;

function scratch(): string {
  const prefix = mkdtempSync(join(tmpdir(), 'hatter-mode-'));
  mkdirSync(join(prefix, 'etc/apparmor.d/apache2.d'), { recursive: true });
  mkdirSync(join(prefix, 'etc/apparmor.d/tunables'), { recursive: true });
  mkdirSync(join(prefix, 'etc/apparmor.d/abstractions'), { recursive: true });
  mkdirSync(join(prefix, 'etc/apparmor.d/abi'), { recursive: true });
  writeFileSync(join(prefix, 'etc/apparmor.d/tunables/global'), '');
  writeFileSync(join(prefix, 'etc/apparmor.d/abstractions/base'), '');
  writeFileSync(join(prefix, 'etc/apparmor.d/abi/3.0'), '');
  writeFileSync(join(prefix, 'etc/apparmor.d/usr.sbin.apache2'), MAIN);
  writeFileSync(join(prefix, 'etc/apparmor.d/apache2.d/shop'), HAT);
  return prefix;
}

test('changedFlags: complain and enforce replace the one mode flag, audit adds audit', () => {
  assert.deepEqual(changedFlags(['attach_disconnected'], 'complain'), ['complain', 'attach_disconnected']);
  assert.deepEqual(changedFlags(['kill', 'attach_disconnected'], 'complain'), ['complain', 'attach_disconnected']);
  assert.deepEqual(changedFlags(['complain', 'attach_disconnected'], 'enforce'), ['attach_disconnected']);
  assert.deepEqual(changedFlags(['complain'], 'audit'), ['complain', 'audit']);
  assert.deepEqual(changedFlags(['audit'], 'audit'), ['audit']);
});

test('setModeAt edits only the flag list, keeping the list\'s own separator', () => {
  const at = MAIN.indexOf('^DEFAULT_URI');
  const r = setModeAt(MAIN, 'f', at, 'enforce');
  assert.ok('text' in r);
  assert.equal(r.text, MAIN.replace('flags=(complain, attach_disconnected)', 'flags=(attach_disconnected)'));
  const parent = setModeAt(MAIN, 'f', MAIN.indexOf('profile apache2'), 'complain');
  assert.ok('text' in parent);
  assert.equal(parent.text, MAIN.replace('flags=(attach_disconnected) {   #', 'flags=(complain,attach_disconnected) {   #'));
  const child = setModeAt(MAIN, 'f', MAIN.indexOf('profile helper'), 'complain');
  assert.ok('text' in child);
  assert.equal(child.text, MAIN.replace('profile helper /usr/bin/helper {', 'profile helper /usr/bin/helper flags=(complain) {'));
  const back = setModeAt(child.text, 'f', MAIN.indexOf('profile helper'), 'enforce');
  assert.ok('text' in back);
  assert.equal(back.text, MAIN);
});

test('complain then enforce gives back the file byte for byte (any hat, any spacing)', () => {
  fc.assert(fc.property(
    fc.constantFrom(' ', '  ', '\t'), fc.constantFrom('', '# c\n', '  # x {\n'), fc.subarray(['attach_disconnected', 'mediate_deleted', 'chroot_relative'] as const),
    (space, comment, extra) => {
      const flags = extra.length > 0 ? `${space}flags=(${extra.join(',')})` : '';
      const text = `${comment}profile p /bin/p {\n  ^h${flags}${space}{\n${comment}  }\n}\n`;
      const at = text.indexOf('^h');
      const complained = setModeAt(text, 'f', at, 'complain');
      assert.ok('text' in complained);
      assert.match(complained.text, /\^h\s*flags=\(complain/);
      assert.equal(complained.text.split('\n').filter((l, i) => l !== text.split('\n')[i]).length, 1, 'one line changes');
      const enforced = setModeAt(complained.text, 'f', at, 'enforce');
      assert.ok('text' in enforced);
      assert.equal(enforced.text, text);
    },
  ), { numRuns: 60 });
});

test('hatter mode on a hat in its own include file, and disable only for whole files', async () => {
  const prefix = scratch();
  try {
    const dir = join(prefix, 'etc/apparmor.d');
    const complain = await runCli(['mode', 'complain', 'apache2//shop', '--prefix', prefix]);
    assert.equal(complain.code, 0, complain.stderr);
    assert.match(complain.stdout, /apache2\/\/shop: \/etc\/apparmor.d\/apache2.d\/shop \(loaded through \/etc\/apparmor.d\/usr.sbin.apache2\)/);
    assert.equal(readFileSync(join(dir, 'apache2.d/shop'), 'utf8'), HAT.replace('^shop {', '^shop flags=(complain) {'));
    assert.equal(readFileSync(join(dir, 'usr.sbin.apache2'), 'utf8'), MAIN);
    const enforce = await runCli(['mode', 'enforce', 'apache2//shop', '/usr/sbin/apache2//DEFAULT_URI', 'apache2//helper', '--prefix', prefix, '--json']);
    assert.equal(enforce.code, 0, enforce.stderr);
    assert.deepEqual(JSON.parse(enforce.stdout).targets.map((t: { label: string }) => t.label), ['apache2//shop', '/usr/sbin/apache2//DEFAULT_URI', 'apache2//helper']);
    assert.equal(readFileSync(join(dir, 'apache2.d/shop'), 'utf8'), HAT);
    assert.equal(readFileSync(join(dir, 'usr.sbin.apache2'), 'utf8'), MAIN.replace('flags=(complain, attach_disconnected)', 'flags=(attach_disconnected)'));

    const hat = await runCli(['mode', 'disable', 'apache2//shop', '--prefix', prefix]);
    assert.equal(hat.code, 2);
    assert.match(hat.stderr, /only a whole policy file can be disabled \[mode\/cannot-disable-hat\]/);
    const disable = await runCli(['mode', 'disable', 'apache2', '--prefix', prefix]);
    assert.equal(disable.code, 0, disable.stderr);
    assert.equal(readlinkSync(join(dir, 'disable/usr.sbin.apache2')), '../usr.sbin.apache2');
    const enable = await runCli(['mode', 'enforce', 'apache2', '--prefix', prefix]);
    assert.equal(enable.code, 0, enable.stderr);
    assert.ok(!existsSync(join(dir, 'disable/usr.sbin.apache2')));

    const unknown = await runCli(['mode', 'complain', 'apache2//nosuch', '--prefix', prefix]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no profile, hat or child profile apache2\/\/nosuch .*\[mode\/no-such-profile\]/);
    const usage = await runCli(['mode', 'sleep', 'apache2']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /give a mode: complain, enforce, audit, disable/);
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
});
