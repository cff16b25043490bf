// The host commands on a real AppArmor kernel (one boot): `hatter status --json` agrees with
// `aa-status --json` on profiles and modes and shows a process inside a hat with its hat; `hatter mode
// complain` then `enforce` on a hat changes what the kernel reports and leaves the policy file identical
// except for the flags (and identical to the original after the round trip).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInVm, unavailableReason, type VmResult } from './harness/vm.js';
import { cliMain, repoRoot } from '../support/repo.js';

const unavailable = process.env.HATTER_SKIP_KERNEL ? 'skipped: HATTER_SKIP_KERNEL is set' : unavailableReason();
const work = mkdtempSync(join(tmpdir(), 'hatter-khost-'));
const bin = cliMain.replace(/main\.js$/, 'bin.js');

const POLICY = `abi <abi/3.0>,
include <tunables/global>

# hatter's host test: this comment, the spacing and the child must survive mode changes
profile hatter-host-test /usr/bin/hatter-host-test-nothing flags=(attach_disconnected) {
  include <abstractions/base>
  /usr/bin/sleep mrix,

  ^site {   # the site's hat
    include <abstractions/base>
    /usr/bin/sleep mrix,
  }

  profile child {
    include <abstractions/base>
  }
}
`;

const SCRIPT = `
W=${work}
cat > /etc/apparmor.d/hatter-host-test <<'HATTER_POLICY'
${POLICY}HATTER_POLICY
apparmor_parser -r /etc/apparmor.d/hatter-host-test > $W/load.out 2>&1; echo $? > $W/load.rc
sh -c 'printf "exec hatter-host-test//site" > /proc/self/attr/exec && exec /usr/bin/sleep 300' &
SLEEPER=$!
sleep 1
echo $SLEEPER > $W/sleeper.pid
node ${bin} status --json > $W/hatter-status.json 2> $W/hatter-status.err; echo $? > $W/hatter-status.rc
aa-status --json > $W/aa-status.json 2> $W/aa-status.err; echo $? > $W/aa-status.rc
node ${bin} mode complain hatter-host-test//site > $W/complain.out 2>&1; echo $? > $W/complain.rc
cp /etc/apparmor.d/hatter-host-test $W/after-complain
cat /sys/kernel/security/apparmor/profiles > $W/profiles-complain
node ${bin} mode enforce hatter-host-test//site > $W/enforce.out 2>&1; echo $? > $W/enforce.rc
cp /etc/apparmor.d/hatter-host-test $W/after-enforce
cat /sys/kernel/security/apparmor/profiles > $W/profiles-enforce
kill $SLEEPER
`;

let vm: VmResult | undefined;
const read = (name: string): string => (existsSync(join(work, name)) ? readFileSync(join(work, name), 'utf8') : '');
let skip: string | false = unavailable ?? false;

before(async () => {
  if (skip) return;
  vm = await runInVm(SCRIPT, { shares: [work], cwd: repoRoot, timeoutMs: 170_000 });
  if (vm.status !== 'ok') skip = `${vm.status}: ${vm.reason ?? ''}`;
}, { timeout: 180_000 });

after(() => {
  if (!process.env.HATTER_KEEP_KERNEL_WORK) rmSync(work, { recursive: true, force: true });
});

test('hatter status --json agrees with aa-status --json and shows the process in its hat', (t) => {
  if (skip) { t.skip(skip); return; }
  assert.equal(read('load.rc').trim(), '0', read('load.out'));
  const ours = JSON.parse(read('hatter-status.json'));
  assert.equal(read('aa-status.rc').trim(), '0', read('aa-status.err'));
  const theirs = JSON.parse(read('aa-status.json'));
  assert.deepEqual(ours.profiles, theirs.profiles);
  assert.equal(ours.profiles['hatter-host-test//site'], 'enforce');
  assert.equal(ours.profiles['hatter-host-test//child'], 'enforce');
  const pid = read('sleeper.pid').trim();
  const sleeper = Object.values(ours.processes as Record<string, { profile: string; pid: string; status: string }[]>).flat().find((p) => p.pid === pid);
  assert.deepEqual(sleeper, { profile: 'hatter-host-test//site', pid, status: 'enforce' });
  const theirSleeper = Object.values(theirs.processes as Record<string, { profile: string; pid: string; status: string }[]>).flat().find((p) => p.pid === pid);
  assert.deepEqual(theirSleeper, sleeper);
});

test('hatter mode complain then enforce on a hat: the kernel reports each mode; only the flags change', (t) => {
  if (skip) { t.skip(skip); return; }
  assert.equal(read('complain.rc').trim(), '0', read('complain.out'));
  assert.match(read('complain.out'), /reloaded: \/etc\/apparmor.d\/hatter-host-test/);
  assert.equal(read('after-complain'), POLICY.replace('^site {   #', '^site flags=(complain) {   #'));
  assert.match(read('profiles-complain'), /^hatter-host-test\/\/site \(complain\)$/m);
  assert.match(read('profiles-complain'), /^hatter-host-test \(enforce\)$/m);
  assert.equal(read('enforce.rc').trim(), '0', read('enforce.out'));
  assert.equal(read('after-enforce'), POLICY);
  assert.match(read('profiles-enforce'), /^hatter-host-test\/\/site \(enforce\)$/m);
});
