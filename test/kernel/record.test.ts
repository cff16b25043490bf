// Real kernel (one short boot): a profile learned by `hatter learn --apply --write` from a recording made
// on this host (no AppArmor here), loaded in enforce mode on a stock AppArmor kernel, runs the same
// workload with zero DENIED lines; and it is really enforced: a file the workload never touched is denied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInVm, unavailableReason } from './harness/vm.js';
import { findStrace } from '../../src/record/index.js';
import { runCli } from '../support/cli.js';

const PROFILE = 'hatter-record-test';
const unavailable = process.env.HATTER_SKIP_KERNEL ? 'skipped: HATTER_SKIP_KERNEL is set'
  : !findStrace(process.env['PATH']) ? 'skipped: strace is not installed' : unavailableReason();

/** The workload: a shell script that reads, appends, creates, renames, removes, lists and execs. */
function workloadScript(dir: string): string {
  return [
    '#!/bin/sh',
    `cd ${dir}`,
    'cat data.txt > /dev/null',
    'echo line >> log.txt',
    'mkdir made',
    'echo new > new.txt',
    'mv new.txt renamed.txt',
    'rm renamed.txt',
    'ls sub > /dev/null',
    'cat /proc/self/status > /dev/null',
    '',
  ].join('\n');
}

/** Put the directory back as the workload expects it (run unconfined before each run). */
function resetCommand(dir: string): string {
  return `rm -rf ${dir}/made ${dir}/new.txt ${dir}/renamed.txt; : > ${dir}/log.txt`;
}

test('a profile learned from a host recording runs the workload on AppArmor with zero DENIED', { skip: unavailable ?? false, timeout: 4 * 60_000 }, async (t) => {
  const work = realpathSync(mkdtempSync(join(tmpdir(), 'hatter-krecord-')));
  try {
    const site = join(work, 'site');
    mkdirSync(join(site, 'sub'), { recursive: true });
    writeFileSync(join(site, 'data.txt'), 'data\n');
    writeFileSync(join(site, 'sub', 'a.txt'), 'a\n');
    writeFileSync(join(site, 'unlearned.txt'), 'never read by the workload\n');
    const script = join(work, 'work.sh');
    writeFileSync(script, workloadScript(site), { mode: 0o755 });

    const { execSync } = await import('node:child_process');
    execSync(resetCommand(site), { shell: '/bin/sh' });
    const events = join(work, 'events.jsonl');
    const recorded = await runCli(['record', '--profile', PROFILE, '--out', events, '--', '/bin/sh', script], { cwd: work });
    assert.equal(recorded.code, 0, recorded.stderr);
    // An empty profile (the loader's libraries come from abstractions/base: its mmaps are not recorded);
    // everything else is what hatter learn proposes from the recording, its preferred alternatives.
    const profileFile = join(work, PROFILE);
    writeFileSync(profileFile, ['abi <abi/3.0>,', 'include <tunables/global>', `profile ${PROFILE} {`, '  include <abstractions/base>', '}', ''].join('\n'));
    const learned = await runCli(['learn', events, '--policy', profileFile, '--tenant', `${PROFILE}=${site}`, '--apply', '--write'], { cwd: work });
    assert.equal(learned.code, 0, learned.stderr + learned.stdout);
    const profile = readFileSync(profileFile, 'utf8');
    assert.ok(profile.includes(`${site}/log.txt`) || profile.includes(`${site}/`), `the learned profile has the workload's files:\n${profile}`);

    const guest = [
      'set -u',
      `apparmor_parser -r ${profileFile} || { echo LOAD-FAILED; exit 3; }`,
      `grep -q '^${PROFILE} (enforce)' /sys/kernel/security/apparmor/profiles || { echo NOT-ENFORCED; exit 4; }`,
      resetCommand(site),
      'echo "hatter-krecord: begin workload" > /dev/kmsg',
      `aa-exec -p ${PROFILE} -- /bin/sh ${script}; echo "workload=$?"`,
      'echo "hatter-krecord: begin unlearned" > /dev/kmsg',
      `aa-exec -p ${PROFILE} -- /bin/cat ${site}/unlearned.txt > /dev/null 2>&1; echo "unlearned=$?"`,
      'echo "hatter-krecord: end" > /dev/kmsg',
    ].join('\n');
    const vm = await runInVm(guest, { shares: [work], cwd: work, timeoutMs: 3 * 60_000 });
    if (vm.status !== 'ok') { t.skip(`VM ${vm.status}: ${vm.reason ?? ''}`); return; }
    assert.match(vm.stdout, /workload=0/, `${vm.stdout}\n${vm.stderr}`);
    const lines = vm.dmesg.split('\n');
    const at = (marker: string): number => lines.findIndex((l) => l.includes(`hatter-krecord: ${marker}`));
    const denied = (from: number, to: number): string[] => lines.slice(from, to).filter((l) => l.includes('apparmor="DENIED"') && l.includes(PROFILE));
    assert.ok(at('begin workload') >= 0 && at('end') > at('begin workload'), 'the guest ran the workload');
    assert.deepEqual(denied(at('begin workload'), at('begin unlearned')), [], 'the learned profile lets the workload run');
    const refused = denied(at('begin unlearned'), at('end'));
    assert.match(vm.stdout, /unlearned=1/, 'a file the workload never read is refused');
    assert.ok(refused.some((l) => l.includes(`${site}/unlearned.txt`)), `the refusal is logged:\n${refused.join('\n')}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
