// The real-kernel suite (`npm run test:kernel`): boots a stock Debian kernel with AppArmor once, runs
// every guest-side check in that one boot, and compares what the kernel did with what hatter predicts.
// Infrastructure problems (no qemu, no kernel package, boot failure, timeout) skip with a one-line
// reason; only disagreements between hatter and the kernel fail.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInVm, unavailableReason, type VmResult } from './harness/vm.js';
import { generatePolicyCorpus, type CorpusProfile } from './policy-corpus.js';
import { capabilitiesFor, generateProbes, requestsFor, PROBE_ROOT, type ProbeSet } from './probes.js';
import { checkPolicy } from '../../src/policy/check/index.js';
import { compilePolicy, decide, type Decision } from '../../src/policy/eval/index.js';
import { nodeFileReader } from '../../src/policy-node/index.js';
import { parseLine, type AuditEvent } from '../../src/logs/index.js';
import { compiledRoot } from '../support/repo.js';
import { runCli } from '../support/cli.js';
import { resolveChangeHat, profileTreesFromPolicy, findProfile, type ProfileTree } from '../../src/web/index.js';

const unavailable = process.env.HATTER_SKIP_KERNEL ? 'skipped: HATTER_SKIP_KERNEL is set' : unavailableReason();
// HATTER_KERNEL_REUSE=DIR re-checks the results of an earlier run kept with HATTER_KEEP_KERNEL_WORK=1
// (no boot): for working on the host-side comparisons.
const reuse = process.env.HATTER_KERNEL_REUSE;
const work = reuse ?? mkdtempSync(join(tmpdir(), 'hatter-kernel-'));
const token = '1234abcd5678ef90';

// ---------------------------------------------------------------- change_hat scenarios ----------

/** Rules every test profile and hat needs so that Node itself can run under it. */
const nodeRuntime = [
  '/usr/** mrix,', '/etc/** r,', '/dev/** rw,', '/proc/** r,', '/sys/** r,',
  `${compiledRoot}/** r,`,
  '/proc/*/attr/{apparmor/,}current rw,', '/proc/*/task/*/attr/{apparmor/,}current rw,',
  'unix,', 'signal,',
].map((rule) => `    ${rule}`).join('\n');

const changeHatPolicy = `abi <abi/3.0>,
profile kh {
${nodeRuntime}
  ^a {
${nodeRuntime}
  }
  ^b {
${nodeRuntime}
  }
  profile notahat {
${nodeRuntime}
  }
}
profile kh-nohats {
${nodeRuntime}
}
profile kh-complain flags=(complain) {
${nodeRuntime}
  ^a {
${nodeRuntime}
  }
}
`;

interface Scenario {
  readonly name: string;
  readonly profile: string; // 'unconfined' runs without aa-exec
  readonly steps: readonly { readonly hats: readonly string[] | null; readonly token?: string }[];
  /** The kernel kills the task on a token mismatch: the process must die with SIGKILL. */
  readonly killed?: boolean;
}

const scenarios: readonly Scenario[] = [
  { name: 'first-existing-hat', profile: 'kh', steps: [{ hats: ['missing', 'a'] }] },
  { name: 'sibling-change', profile: 'kh', steps: [{ hats: ['a'] }, { hats: ['b'] }] },
  { name: 'child-not-a-hat', profile: 'kh', steps: [{ hats: ['notahat'] }] },
  { name: 'no-candidate-exists', profile: 'kh', steps: [{ hats: ['missing1', 'missing2'] }] },
  { name: 'profile-without-children', profile: 'kh-nohats', steps: [{ hats: ['x'] }] },
  { name: 'complain-learning-hat', profile: 'kh-complain', steps: [{ hats: ['missing', 'a'] }] },
  { name: 'complain-first-exists', profile: 'kh-complain', steps: [{ hats: ['a', 'missing'] }] },
  { name: 'unconfined', profile: 'unconfined', steps: [{ hats: ['a'] }] },
  { name: 'return-with-token', profile: 'kh', steps: [{ hats: ['a'] }, { hats: null }] },
  { name: 'return-with-wrong-token', profile: 'kh', steps: [{ hats: ['a'] }, { hats: null, token: 'ffffffffffffffff' }], killed: true },
  { name: 'sibling-with-wrong-token', profile: 'kh', steps: [{ hats: ['a'] }, { hats: ['b'], token: 'ffffffffffffffff' }], killed: true },
];

// ---------------------------------------------------------------- the one boot --------------------

let vm: VmResult | undefined;
let corpus: CorpusProfile[] = [];
const probeSet: ProbeSet = generateProbes(compiledRoot, work);

function guestScript(): string {
  const probe = join(compiledRoot, 'test', 'kernel', 'guest', 'change-hat-probe.js');
  const lines = [
    'set -u',
    `W=${work}`,
    'R=$W/results; mkdir -p $R',
    'echo "kernel $(uname -r); $(apparmor_parser --version | head -1)"',
    '# 1. the generated corpus: load each profile with apparmor_parser -r',
    'cd $W/corpus',
    'for f in kc-???; do if apparmor_parser -r "$f" >/dev/null 2>"$R/load-$f.err"; then echo "$f 1"; else echo "$f 0"; fi; done > $R/load.txt',
    'echo "corpus: $(grep -c " 1$" $R/load.txt) loaded, $(grep -c " 0$" $R/load.txt) refused"',
    '# 2. probe accesses in generated hats',
    `mkdir -p ${PROBE_ROOT}/bin ${['a/x', 'a/y', 'b/x', 'b/y', 'c/x', 'c/y'].map((d) => `${PROBE_ROOT}/${d}`).join(' ')}`,
    `mkdir -p ${PROBE_ROOT}/cap && : > ${PROBE_ROOT}/cap/protected && chmod 000 ${PROBE_ROOT}/cap/protected`,
    'xargs -a $W/probe-files touch',
    'while read -r f; do cp /usr/bin/true "$f"; done < $W/probe-executables',
    'apparmor_parser -r $W/probes.policy 2>$R/probes-load.err || echo "probe policy failed to load"',
    '# one process waiting in each hat, to receive the signal probes',
    `sep='{'; for h in ${probeSet.hats.join(' ')}; do aa-exec -p kp//$h -- sleep 600 & printf '%s"%s":%s' "$sep" "$h" "$!"; sep=','; done > $W/peers.json; echo '}' >> $W/peers.json`,
    `aa-exec -p kp -- node ${join(compiledRoot, 'test', 'kernel', 'guest', 'probe-runner.js')} $W/probes.json $R/probes.json $W/peers.json 2>$R/probes.err; echo $? > $R/probes.rc`,
    'echo "peer labels: $(for p in $(tr -c "0-9\n" " " < $W/peers.json); do cat /proc/$p/attr/current 2>/dev/null; echo; done | tr "\n" " ")"',
    'echo "probes: $(cat $R/probes.rc)"',
    '# 3. change_hat scenarios',
    'apparmor_parser -r $W/changehat.policy 2>$R/changehat-load.err || echo "change_hat policy failed to load"',
  ];
  for (const s of scenarios) {
    const plan = JSON.stringify({ token, steps: s.steps }).replace(/'/g, `'\\''`);
    const run = s.profile === 'unconfined' ? `node ${probe} '${plan}'` : `aa-exec -p ${s.profile} -- node ${probe} '${plan}'`;
    lines.push(`${run} > $R/ch-${s.name}.out 2>$R/ch-${s.name}.err; echo $? > $R/ch-${s.name}.rc`);
  }
  lines.push('echo guest-done');
  return `${lines.join('\n')}\n`;
}

describe('real AppArmor kernel', { skip: unavailable ?? false }, () => {
  before(async () => {
    corpus = generatePolicyCorpus();
    const corpusDir = join(work, 'corpus');
    mkdirSync(corpusDir, { recursive: true });
    for (const profile of corpus) {
      writeFileSync(join(corpusDir, profile.name), profile.text);
      for (const [file, text] of Object.entries(profile.includes)) writeFileSync(join(corpusDir, file), text);
    }
    writeFileSync(join(work, 'changehat.policy'), changeHatPolicy);
    writeFileSync(join(work, 'probes.policy'), probeSet.policy);
    writeFileSync(join(work, 'probes.json'), JSON.stringify({ probes: probeSet.probes, hats: probeSet.hats }));
    writeFileSync(join(work, 'probe-files'), probeSet.files.join('\n') + '\n');
    writeFileSync(join(work, 'probe-executables'), probeSet.executables.join('\n') + '\n');
    if (reuse) {
      vm = { status: 'ok', exitCode: 0, stdout: readFileSync(join(work, 'stdout.log'), 'utf8'), stderr: '', dmesg: readFileSync(join(work, 'dmesg.log'), 'utf8'), kernel: 'reused', durationMs: 0 };
      return;
    }
    vm = await runInVm(guestScript(), { shares: [work], cwd: work, timeoutMs: 20 * 60_000 });
    writeFileSync(join(work, 'stdout.log'), vm.stdout);
    process.stdout.write(`# kernel VM: ${vm.status} (${vm.kernel}) in ${(vm.durationMs / 1000).toFixed(1)} s${vm.reason ? `: ${vm.reason}` : ''}\n`);
    writeFileSync(join(work, 'dmesg.log'), vm.dmesg);
  });
  after(() => {
    if (!process.env.HATTER_KEEP_KERNEL_WORK && !reuse) rmSync(work, { recursive: true, force: true });
  });

  /** Skip (never fail) when the VM itself could not run. */
  function vmOrSkip(t: { skip: (reason: string) => void }): VmResult | undefined {
    if (!vm || vm.status !== 'ok') {
      t.skip(`skipped: the kernel VM did not run (${vm?.status ?? 'not started'}: ${vm?.reason ?? ''})`);
      return undefined;
    }
    return vm;
  }

  test('the guest ran every check', (t) => {
    const result = vmOrSkip(t);
    if (!result) return;
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /guest-done/);
  });

  test('generated policies load exactly when hatter check accepts them', async (t) => {
    if (!vmOrSkip(t)) return;
    const loaded = new Map(readFileSync(join(work, 'results', 'load.txt'), 'utf8').trim().split('\n')
      .map((line) => line.split(' ') as [string, string]).map(([name, ok]) => [name, ok === '1']));
    const corpusDir = join(work, 'corpus');
    const check = await runCli(['check', '--json', ...corpus.map((p) => join(corpusDir, p.name))], { cwd: corpusDir });
    assert.notEqual(check.code, 2, `hatter check could not run: ${check.stderr}`);
    const verdicts = new Map(check.stdout.trim().split('\n').map((line) => JSON.parse(line) as { file: string; ok: boolean })
      .map((v) => [v.file.replace(/^.*\//, ''), v.ok]));
    const disagreements: string[] = [];
    for (const profile of corpus) {
      const kernel = loaded.get(profile.name);
      const hatter = verdicts.get(profile.name);
      if (kernel !== hatter) {
        const reason = existsSync(join(work, 'results', `load-${profile.name}.err`))
          ? readFileSync(join(work, 'results', `load-${profile.name}.err`), 'utf8').split('\n').filter((l) => l && !l.startsWith('Cache')).join(' ') : '';
        disagreements.push(`${profile.name} (${profile.intent}): kernel ${kernel ? 'loaded' : 'refused'}, hatter ${hatter ? 'accepted' : 'rejected'} ${reason}`);
      }
    }
    const loadedCount = [...loaded.values()].filter(Boolean).length;
    t.diagnostic(`policy corpus: ${corpus.length} profiles, ${loadedCount} loaded, ${corpus.length - loadedCount} refused, ${disagreements.length} disagreements with hatter check`);
    assert.ok(corpus.length >= 300);
    assert.deepEqual(disagreements, []);
  });

  test("the kernel's allow/deny agrees with hatter's decide() on every probe, and its audit lines match", (t) => {
    if (!vmOrSkip(t)) return;
    const rc = readFileSync(join(work, 'results', 'probes.rc'), 'utf8').trim();
    assert.equal(rc, '0', `probe runner failed: ${readFileSync(join(work, 'results', 'probes.err'), 'utf8')}`);
    const checked = checkPolicy(join(work, 'probes.policy'), { reader: nodeFileReader(), workingDirectory: work });
    assert.ok(checked.ok, checked.diagnostics.map((d) => d.message).join('; '));
    const { compiled } = compilePolicy(checked.policy);
    const results = new Map((JSON.parse(readFileSync(join(work, 'results', 'probes.json'), 'utf8')) as { id: number; ok: boolean; errno?: string; label?: string }[]).map((r) => [r.id, r]));
    // Kernel audit lines, read with hatter's own log parser.
    const events: AuditEvent[] = [];
    for (const line of vm!.dmesg.split('\n')) {
      const record = parseLine(line);
      if (record.kind === 'event') events.push(record.event);
    }
    const denials = events.filter((e) => e.type === 'DENIED' && e.label?.path[0] === 'kp');
    const disagreements: string[] = [];
    const auditMismatches: string[] = [];
    let agreed = 0;
    let deniedCount = 0;
    let errors = 0;
    for (const probe of probeSet.probes) {
      const result = results.get(probe.id);
      if (!result) { disagreements.push(`probe ${probe.id}: no result`); continue; }
      if (result.label && !result.label.startsWith(`kp//${probe.hat} `)) { disagreements.push(`probe ${probe.id}: ran as ${result.label}, not in hat ${probe.hat}`); continue; }
      const decisions: Decision[] = requestsFor(probe).map((request) => decide(compiled, `kp//${probe.hat}`, request));
      let predicted = decisions.every((d) => d.allowed);
      const capabilities = capabilitiesFor(probe);
      if (capabilities) predicted &&= capabilities.some((name) => decide(compiled, `kp//${probe.hat}`, { class: 'capability', name }).allowed);
      if (probe.op === 'signal') {
        // Both ends: the sender needs send to the peer's label, the receiver receive from the sender's.
        predicted = decide(compiled, `kp//${probe.hat}`, { class: 'signal', access: ['send'], fields: { signal: probe.signal!, peer: `kp//${probe.peerHat}` } }).allowed
          && decide(compiled, `kp//${probe.peerHat}`, { class: 'signal', access: ['receive'], fields: { signal: probe.signal!, peer: `kp//${probe.hat}` } }).allowed;
      }
      const kernelAllowed = result.ok;
      if (!result.ok && result.errno !== 'EACCES' && result.errno !== 'EPERM') {
        errors++;
        disagreements.push(`probe ${probe.id} ${probe.op} ${probe.path}: unexpected ${result.errno}`);
        continue;
      }
      if (predicted !== kernelAllowed) {
        disagreements.push(`kp//${probe.hat} ${probe.op} ${probe.path}${probe.path2 ? ` -> ${probe.path2}` : ''}${probe.signal ? `${probe.signal} -> kp//${probe.peerHat}` : ''}: kernel ${kernelAllowed ? 'allowed' : 'denied'}, hatter ${predicted ? 'allows' : 'denies'}`);
        continue;
      }
      agreed++;
      if (!predicted) deniedCount++;
      // Single-permission operations: a logged denial must appear in the kernel log, a quiet one must not.
      if (!predicted && decisions.length === 1 && !capabilities && probe.op !== 'link' && probe.op !== 'exec') {
        const bit = decisions[0]!.bits[0]!;
        const logged = denials.filter((e) => e.label?.path[1] === probe.hat && e.object.name === probe.path);
        if (bit.log === 'denied' && logged.length === 0) auditMismatches.push(`${probe.op} ${probe.path} in ${probe.hat}: hatter says logged, no DENIED line`);
        if (bit.log === 'quiet' && logged.length > 0) auditMismatches.push(`${probe.op} ${probe.path} in ${probe.hat}: hatter says quiet, kernel logged ${logged[0]!.operation}`);
        // Policy `w` covers the kernel's write, create and delete bits (logged as w, c, d); `a` is logged as a or w.
        const kernelLetters: Record<string, string[]> = { w: ['w', 'c', 'd'], a: ['a', 'w'], r: ['r'], x: ['x'], l: ['l'], k: ['k'], m: ['m'] };
        if (bit.log === 'denied' && logged.length > 0 && !(logged[0]!.denied?.perms ?? []).some((p) => (kernelLetters[bit.bit] ?? [bit.bit]).some((l) => p.includes(l)))) {
          auditMismatches.push(`${probe.op} ${probe.path}: denied mask ${logged[0]!.denied?.raw} does not name ${bit.bit}`);
        }
      }
    }
    const byKind = (ops: string[]) => probeSet.probes.filter((p) => ops.includes(p.op)).length;
    t.diagnostic(`probe kinds: ${byKind(['read', 'write', 'append', 'create', 'stat', 'unlink', 'mkdir', 'rename', 'link', 'exec'])} file, ${byKind(['chown', 'read-protected', 'nice'])} capability, ${byKind(['signal'])} signal`);
    t.diagnostic(`probes: ${probeSet.probes.length} accesses in ${probeSet.hats.length} hats, ${agreed} agreed with the kernel (${deniedCount} denials), ${disagreements.length} disagreements, ${errors} unexpected errors; ${denials.length} kernel DENIED lines parsed, ${auditMismatches.length} audit mismatches`);
    assert.ok(probeSet.probes.length >= 1000);
    if (process.env.HATTER_KERNEL_DUMP) writeFileSync(process.env.HATTER_KERNEL_DUMP, [...disagreements, "=====", ...auditMismatches].join("\n"));
    assert.deepEqual(disagreements.slice(0, 20), []);
    assert.deepEqual(auditMismatches.slice(0, 20), []);
  });

  test("change_hat outcomes match hatter's kernel-like resolver", (t) => {
    if (!vmOrSkip(t)) return;
    const policyFile = join(work, 'changehat.policy');
    const { trees } = profileTreesFromPolicy(policyFile, { reader: nodeFileReader(), includeDirs: [] });
    const mismatches: string[] = [];
    let checked = 0;
    for (const s of scenarios) {
      const rc = Number(readFileSync(join(work, 'results', `ch-${s.name}.rc`), 'utf8'));
      const lines = readFileSync(join(work, 'results', `ch-${s.name}.out`), 'utf8').trim().split('\n').filter(Boolean)
        .map((l) => JSON.parse(l) as { step: number; ok?: boolean; errno?: string | null; label: string });
      if (s.killed) {
        checked++;
        // Killed on the mismatching step: SIGKILL (137) and no line for that step.
        if (rc !== 137) mismatches.push(`${s.name}: expected the kernel to kill the task (137), got exit ${rc}`);
        if (lines.some((l) => l.step === s.steps.length - 1)) mismatches.push(`${s.name}: the task survived a wrong token`);
        continue;
      }
      if (rc !== 0) { mismatches.push(`${s.name}: probe exited ${rc}: ${readFileSync(join(work, 'results', `ch-${s.name}.err`), 'utf8')}`); continue; }
      let current: ProfileTree | 'unconfined' = s.profile === 'unconfined' ? 'unconfined' : findProfile(trees, s.profile)!;
      let previous: ProfileTree | undefined;
      s.steps.forEach((step, index) => {
        const observed = lines.find((l) => l.step === index);
        if (!observed) { mismatches.push(`${s.name} step ${index}: no result`); return; }
        const label = observed.label.replace(/ \([^()]*\)$/, '');
        checked++;
        if (step.hats === null) {
          const expected = previous ?? current;
          if (!observed.ok || typeof expected === 'string' || label !== expected.name) {
            mismatches.push(`${s.name} step ${index}: return expected ${typeof expected === 'string' ? expected : expected.name}, kernel ${observed.errno ?? 'ok'} ${label}`);
          }
          current = expected;
          previous = undefined;
          return;
        }
        const parent = typeof current !== 'string' && current.isHat ? (previous ?? current) : undefined;
        const predicted = resolveChangeHat(current, parent, step.hats);
        if (predicted.outcome === 'error') {
          if (observed.ok || observed.errno !== predicted.errno) {
            mismatches.push(`${s.name} step ${index}: hatter predicts ${predicted.errno}, kernel ${observed.ok ? `entered ${label}` : observed.errno}`);
          }
          return;
        }
        if (!observed.ok || label !== predicted.label) {
          mismatches.push(`${s.name} step ${index}: hatter predicts ${predicted.label}, kernel ${observed.ok ? label : observed.errno}`);
        }
        if (typeof current !== 'string' && !current.isHat) previous = current;
        current = findProfile(trees, predicted.label) ?? { name: predicted.label, baseName: predicted.hat, isHat: true, mode: 'complain', children: [] };
      });
    }
    t.diagnostic(`change_hat: ${checked} steps in ${scenarios.length} scenarios compared with the kernel, ${mismatches.length} mismatches`);
    assert.deepEqual(mismatches, []);
  });
});
