// The real-kernel serve checks (part of `npm run test:kernel`): in one boot of a stock Debian kernel with
// AppArmor, `hatter serve --backend apparmor` serves the embedded demo and the kernel confines it:
// bob's deliberately vulnerable /read handler cannot read alice's secret, every process runs in its
// hat, the denial reaches the kernel log and `hatter logs` reports it, and with bob's hat in complain
// mode the same read succeeds and is logged as ALLOWED. The demo runs with its PHP pages: each site's
// PHP-FPM master must be in the parent profile and its children in the site's hat, each page prints
// that hat, bob's PHP is DENIED alice's secret, and PHP-FPM causes no other denial.
//
// Serve runs in the guest (guest side: ./serve/guest-script.ts):
//   load-policy  `hatter serve --backend apparmor --load-policy` started by root (unconfined): serve
//                loads the policy itself (the parent profile can neither run apparmor_parser nor use
//                CAP_MAC_ADMIN, so --load-policy only makes sense before confinement); not run when
//                `hatter serve --help` lists no such option (the check then fails saying so);
//   enforce      the deployment docs/confinement.md describes, with the demo's own policy: loaded with
//                apparmor_parser -r first (aa-exec attaches only a loaded profile), then the supervisor
//                started under the parent profile with `aa-exec -p hatter-demo`;
//   extended     only when `enforce` could not start: the same with supervisorRules() added to the
//                parent profile (hats unchanged), so the workers' confinement is still checked;
//   complain     the extended policy with flags=(complain) on bob's hat, and a copy of hatter.yaml
//                pointing at it.
// Infrastructure problems (no qemu, no kernel package, boot failure, timeout) skip with one line; every
// wrong answer about confinement fails.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInVm, unavailableReason, type VmResult } from './harness/vm.js';
import { compiledRoot, repoRoot } from '../support/repo.js';
import { runCli } from '../support/cli.js';
import { concreteDemoPolicy } from '../../src/server/index.js';
import { serveGuestScript, SERVE_RUNS, type ServeRunName } from './serve/guest-script.js';

const unavailable = process.env.HATTER_SKIP_KERNEL ? 'skipped: HATTER_SKIP_KERNEL is set' : unavailableReason();
// HATTER_KERNEL_SERVE_REUSE=DIR re-checks a run kept with HATTER_KEEP_KERNEL_WORK=1 (no boot).
const reuse = process.env.HATTER_KERNEL_SERVE_REUSE;
const work = reuse ?? mkdtempSync(join(tmpdir(), 'hatter-kserve-'));
const demoDir = join(repoRoot, 'examples', 'hosting');
const aliceSecretFile = join(demoDir, 'alice', 'secret.txt');
const bobSecretFile = join(demoDir, 'bob', 'secret.txt');
const profile = 'hatter-demo';

let vm: VmResult | undefined;
const outcomes: { name: string; ok: boolean }[] = [];

/**
 * The demo policy with this checkout's paths: the text `hatter serve` writes for the demo, with each of
 * the three path variables resolved through symlinks, because the kernel checks the resolved path (a
 * build outside the checkout reaches node_modules through a symlink; concreteDemoPolicy keeps the link).
 */
function concretePolicyText(): string {
  const file = concreteDemoPolicy(join(demoDir, 'policy', 'hatter-demo'), demoDir);
  const text = readFileSync(file, 'utf8');
  rmSync(join(file, '..'), { recursive: true, force: true });
  return text.replace(/^(@\{HATTER_(?:DEMO|CODE|MODULES)\}=)(\S+)$/gm, (line, head: string, path: string) => (existsSync(path) ? `${head}${realpathSync(path)}` : line));
}

/**
 * What the supervisor needs under the parent profile beyond the demo policy's own rules (each one found
 * on the real kernel; see the report): it parses the policy and its includes, writes the demo's concrete
 * policy copy under /tmp, runs the launcher (docs/confinement.md lists `hatter-launch ix`), and reads
 * the test's copies of the configuration and policy.
 */
function supervisorRules(dir: string): string[] {
  return [
    '/etc/apparmor.d/** r,', '/sys/kernel/security/apparmor/{,**} r,', '/tmp/hatter-demo-policy-*/ rw,', '/tmp/hatter-demo-policy-*/* rw,',
    `${realpathSync(join(repoRoot, 'native', 'build'))}/hatter-launch ix,`, `${dir}/** r,`,
  ];
}

/** The parent profile with extra rules for the supervisor; the hats are left as they are. */
function withSupervisorRules(concrete: string, rules: readonly string[]): string {
  const parentRule = /^(\s*)change_profile -> hatter-demo\/\/\*,$/m;
  assert.match(concrete, parentRule, 'the demo policy has no change_profile rule to anchor the extra rules');
  return concrete.replace(parentRule, (line, indent: string) => [line, ...rules.map((rule) => `${indent}${rule}`)].join('\n'));
}

/** Bob's hat in complain mode. */
function withBobInComplainMode(policy: string): string {
  const bobHead = /^(\s*)\^bob\.localhost \{/m;
  assert.match(policy, bobHead, 'the demo policy has no ^bob.localhost hat');
  return policy.replace(bobHead, '$1^bob.localhost flags=(complain) {');
}

/** The demo's hatter.yaml (PHP pages included) with absolute site paths and the policy copy. */
function complainConfigText(policyFile: string): string {
  const text = readFileSync(join(demoDir, 'hatter.yaml'), 'utf8');
  assert.match(text, /file: policy\/hatter-demo/);
  return text
    .replace(/file: policy\/hatter-demo/, `file: ${policyFile}`)
    .replace(/(: )(alice|bob)\//g, `$1${demoDir}/$2/`);
}

interface RunResult {
  readonly started: string;
  readonly status?: StatusPage;
  readonly supervisorLabel: string;
  readonly supervisorPid: number;
  readonly processes: Map<number, { ppid: number; label: string; cmdline: string }>;
  readonly alice?: { code: string; body: string };
  readonly bob?: { code: string; body: string };
  /** The sites' PHP pages (/php/), which print their own label and try both secrets. */
  readonly alicePhp?: { code: string; body: string };
  readonly bobPhp?: { code: string; body: string };
  readonly err: string;
}

interface StatusPage {
  readonly pools?: { label: string; hat: string | null; workers: { pid: number; state: string }[] }[];
}

function readIf(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

function runResult(name: ServeRunName): RunResult {
  const r = join(work, 'results', name);
  let status: StatusPage | undefined;
  try { status = JSON.parse(readIf(join(r, 'status.json'))) as StatusPage; } catch { status = undefined; }
  const processes = new Map<number, { ppid: number; label: string; cmdline: string }>();
  for (const line of readIf(join(r, 'processes.tsv')).split('\n')) {
    const [pid, ppid, label, cmdline] = line.split('\t');
    if (pid && /^\d+$/.test(pid)) processes.set(Number(pid), { ppid: Number(ppid), label: label ?? '', cmdline: (cmdline ?? '').trim() });
  }
  const response = (who: string): { code: string; body: string } | undefined =>
    existsSync(join(r, `${who}.code`)) ? { code: readIf(join(r, `${who}.code`)).trim(), body: readIf(join(r, `${who}.body`)) } : undefined;
  const alice = response('alice');
  const bob = response('bob');
  const alicePhp = response('alice-php');
  const bobPhp = response('bob-php');
  return {
    started: readIf(join(r, 'started')).trim(),
    ...(status ? { status } : {}),
    supervisorLabel: readIf(join(r, 'supervisor-label')).replace(/\0/g, '').trim(),
    supervisorPid: Number(readIf(join(r, 'supervisor-pid')).trim()),
    processes,
    ...(alice ? { alice } : {}),
    ...(bob ? { bob } : {}),
    ...(alicePhp ? { alicePhp } : {}),
    ...(bobPhp ? { bobPhp } : {}),
    err: readIf(join(r, 'serve.err')).split('\n').slice(-15).join('\n'),
  };
}

/** What a run did, for assertion messages. */
function describeRun(name: ServeRunName, run: RunResult): string {
  return `${name}: started=${run.started || 'no'}; supervisor ${run.supervisorLabel || '?'}; serve stderr tail:\n${run.err}`;
}

interface LoggedEvent {
  type: string; operation?: string; profile?: string; hat?: string; name?: string; denied?: string; requested?: string; comm?: string; line: number;
}

/** The guest's kernel log read with `hatter logs --json`, with the line numbers of the run markers. */
async function kernelEvents(): Promise<{ events: LoggedEvent[]; markers: Map<string, number> }> {
  const file = join(work, 'dmesg.log');
  const markers = new Map<string, number>();
  readFileSync(file, 'utf8').split('\n').forEach((line, index) => {
    const match = /hatter-kserve: begin (\S+)/.exec(line);
    if (match) markers.set(match[1]!, index + 1);
  });
  const result = await runCli(['logs', '--json', file], { cwd: work });
  assert.notEqual(result.code, 2, `hatter logs could not read the kernel log: ${result.stderr}`);
  const events = result.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as LoggedEvent);
  return { events, markers };
}

/** Events logged between the start of run `name` and the next run. */
function eventsOfRun(all: { events: LoggedEvent[]; markers: Map<string, number> }, name: ServeRunName): LoggedEvent[] {
  const start = all.markers.get(name);
  if (start === undefined) return [];
  const later = [...all.markers.values()].filter((line) => line > start);
  const end = later.length ? Math.min(...later) : Infinity;
  return all.events.filter((e) => e.line > start && e.line < end);
}

function isBobReadingAliceSecret(e: LoggedEvent): boolean {
  return e.profile === profile && e.hat === 'bob.localhost' && e.operation === 'open' && e.name === aliceSecretFile && (e.denied ?? '').includes('r');
}

/** The demo's PHP pages each try the other site's secret: the only denials PHP may cause. */
function isPhpReadingOtherSecret(e: LoggedEvent): boolean {
  const other = e.hat === 'bob.localhost' ? aliceSecretFile : e.hat === 'alice.localhost' ? bobSecretFile : undefined;
  return e.profile === profile && e.operation === 'open' && e.name === other && e.denied === 'r';
}

const PHP_COMM = 'php-fpm8.2';

describe('hatter serve on a real AppArmor kernel', { skip: unavailable ?? false }, () => {
  const secret = readFileSync(aliceSecretFile, 'utf8');
  const bobSecret = readFileSync(bobSecretFile, 'utf8');

  before(async () => {
    if (reuse) {
      vm = { status: 'ok', exitCode: 0, stdout: readIf(join(work, 'stdout.log')), stderr: '', dmesg: readIf(join(work, 'dmesg.log')), kernel: 'reused', durationMs: 0 };
      return;
    }
    const concrete = concretePolicyText();
    for (const dir of ['enforce', 'extended', 'complain']) mkdirSync(join(work, dir), { recursive: true });
    writeFileSync(join(work, 'enforce', 'hatter-demo'), concrete);
    const extended = withSupervisorRules(concrete, supervisorRules(work));
    writeFileSync(join(work, 'extended', 'hatter-demo'), extended);
    const complainPolicy = join(work, 'complain', 'hatter-demo');
    writeFileSync(complainPolicy, withBobInComplainMode(extended));
    writeFileSync(join(work, 'complain', 'hatter.yaml'), complainConfigText(complainPolicy));
    const help = await runCli(['serve', '--help'], { cwd: work });
    const loadPolicySupported = help.stdout.includes('--load-policy');
    const script = serveGuestScript({ work, cli: join(compiledRoot, 'src', 'cli', 'bin.js'), demoDir, aliceSecretFile, loadPolicySupported });
    writeFileSync(join(work, 'guest.sh'), script);
    vm = await runInVm(script, { shares: [work], cwd: work, timeoutMs: 10 * 60_000 });
    writeFileSync(join(work, 'stdout.log'), vm.stdout);
    writeFileSync(join(work, 'dmesg.log'), vm.dmesg);
    process.stdout.write(`# serve VM: ${vm.status} (${vm.kernel}) in ${(vm.durationMs / 1000).toFixed(1)} s${vm.reason ? `: ${vm.reason}` : ''}\n`);
  });
  after(() => {
    if (!process.env.HATTER_KEEP_KERNEL_WORK && !reuse) rmSync(work, { recursive: true, force: true });
  });

  /** A serve check: skipped (never failed) when the VM did not run; its outcome counts in the summary. */
  function check(name: string, body: () => void | Promise<void>): void {
    test(name, async (t) => {
      if (!vm || vm.status !== 'ok') {
        t.skip(`skipped: the kernel VM did not run (${vm?.status ?? 'not started'}: ${vm?.reason ?? ''})`);
        return;
      }
      try {
        await body();
        outcomes.push({ name, ok: true });
      } catch (error) {
        outcomes.push({ name, ok: false });
        throw error;
      }
    });
  }

  check('the guest script ran to the end', () => {
    assert.match(vm!.stdout, /guest-done/, `guest stdout:\n${vm!.stdout}\nstderr:\n${vm!.stderr}`);
  });

  check('serve --backend apparmor --load-policy loads the demo policy itself and confines bob', () => {
    const run = runResult('load-policy');
    assert.equal(run.started, 'ready', describeRun('load-policy', run));
    assert.equal(run.alice?.code, '200', `alice's own read: ${JSON.stringify(run.alice)}`);
    assert.equal(run.alice?.body, secret);
    assert.equal(run.bob?.code, '403', `bob's read of alice's secret: ${JSON.stringify(run.bob)}`);
    assert.match(run.bob?.body ?? '', /EACCES/);
  });

  check("the supervisor starts under the demo policy's own parent profile (aa-exec -p hatter-demo)", () => {
    const run = runResult('enforce');
    assert.equal(run.started, 'ready', describeRun('enforce', run));
    assert.equal(run.supervisorLabel, `${profile} (enforce)`);
  });

  /**
   * The run that shows the workers' confinement: the demo's own policy when the supervisor could run
   * under it, else the same hats with the extra supervisor rules of supervisorRules().
   */
  function confinedRun(): ServeRunName {
    return runResult('enforce').started === 'ready' ? 'enforce' : 'extended';
  }

  check("under the parent profile, bob's /read cannot read alice's secret (EACCES) and alice's can", () => {
    const name = confinedRun();
    const run = runResult(name);
    assert.equal(run.started, 'ready', describeRun(name, run));
    assert.equal(run.supervisorLabel, `${profile} (enforce)`, 'the supervisor runs under the parent profile');
    assert.equal(run.alice?.code, '200', `alice's own read: ${JSON.stringify(run.alice)}`);
    assert.equal(run.alice?.body, secret);
    assert.equal(run.bob?.code, '403', `bob's read of alice's secret: ${JSON.stringify(run.bob)}`);
    assert.match(run.bob?.body ?? '', /EACCES/);
    assert.doesNotMatch(run.bob?.body ?? '', /s3cret/);
  });

  /** Every process of a run, by its /proc/<pid>/attr/current, against the pool it belongs to. */
  function checkLabels(name: ServeRunName, modes: Readonly<Record<string, string>>): void {
    const run = runResult(name);
    assert.equal(run.started, 'ready', describeRun(name, run));
    assert.ok(run.status?.pools, `no status page in run ${name}`);
    const wrong: string[] = [];
    const seen = new Set<string>();
    // The status page does not name the front's pid: it is the supervisor's child running server/front.js.
    const fronts = [...run.processes].filter(([, p]) => p.ppid === run.supervisorPid && /server\/front\.js\b/.test(p.cmdline));
    if (fronts.length !== 1) wrong.push(`expected one front process under supervisor ${run.supervisorPid}, found ${fronts.length}`);
    for (const [pid, p] of fronts) {
      if (p.label !== `${profile}//HANDLING_UNTRUSTED_INPUT (enforce)`) wrong.push(`front ${pid}: ${p.label}, expected ${profile}//HANDLING_UNTRUSTED_INPUT (enforce)`);
    }
    for (const pool of run.status.pools) {
      for (const worker of pool.workers) {
        if (worker.state !== 'ready') continue;
        const hat = pool.label.split('//')[1] ?? '';
        const expected = `${pool.label} (${modes[hat] ?? 'enforce'})`;
        const label = run.processes.get(worker.pid)?.label;
        if (label !== expected) wrong.push(`${pool.label} worker ${worker.pid}: ${label ?? 'no label read'}, expected ${expected}`);
        else seen.add(pool.label);
      }
    }
    for (const site of ['alice.localhost', 'bob.localhost']) {
      if (!seen.has(`${profile}//${site}`)) wrong.push(`no ready worker seen in ${profile}//${site}`);
    }
    const table = [...run.processes].filter(([pid, p]) => pid === run.supervisorPid || p.ppid === run.supervisorPid).map(([pid, p]) => `${pid} ${p.label} ${p.cmdline}`);
    assert.deepEqual(wrong, [], `supervisor and its children in the guest:\n${table.join('\n')}`);
  }

  check("every worker's /proc/<pid>/attr/current shows its hat, the front HANDLING_UNTRUSTED_INPUT", () => {
    checkLabels(confinedRun(), {});
  });

  check("the kernel logged bob's attempt as DENIED, and hatter logs reports profile, hat, operation and mask", async () => {
    const all = await kernelEvents();
    const denied = eventsOfRun(all, confinedRun()).filter((e) => e.type === 'DENIED' && isBobReadingAliceSecret(e));
    assert.ok(denied.length >= 1, `no DENIED open of ${aliceSecretFile} by ${profile}//bob.localhost among ${all.events.length} events; denials seen: ${JSON.stringify(all.events.filter((e) => e.type === 'DENIED').slice(0, 10))}`);
    assert.equal(denied[0]!.requested, 'r');
    assert.equal(denied[0]!.denied, 'r');
    const aliceDenied = all.events.filter((e) => e.type === 'DENIED' && e.hat === 'alice.localhost' && e.name === aliceSecretFile);
    assert.deepEqual(aliceDenied, [], "alice's own read was denied");
  });

  check("with bob's hat in complain mode the read succeeds and hatter logs reports it as ALLOWED", async () => {
    const run = runResult('complain');
    assert.equal(run.started, 'ready', describeRun('complain', run));
    assert.equal(run.bob?.code, '200', `bob's read in complain mode: ${JSON.stringify(run.bob)}`);
    assert.equal(run.bob?.body, secret);
    checkLabels('complain', { 'bob.localhost': 'complain' });
    const all = await kernelEvents();
    const allowed = eventsOfRun(all, 'complain').filter((e) => e.type === 'ALLOWED' && isBobReadingAliceSecret(e));
    assert.ok(allowed.length >= 1, `no ALLOWED open of ${aliceSecretFile} by ${profile}//bob.localhost; events of the run: ${JSON.stringify(eventsOfRun(all, 'complain').slice(0, 10))}`);
    // bob's PHP children are in the complain-mode hat too: its page reads alice's secret, logged as ALLOWED
    checkPhpLabels('complain', { 'bob.localhost': 'complain' });
    assert.ok((run.bobPhp?.body ?? '').includes(`other site's secret (alice/secret.txt): READ: ${secret.trim()}`), `bob's PHP in complain mode: ${JSON.stringify(run.bobPhp)}`);
    assert.ok(eventsOfRun(all, 'complain').some((e) => e.type === 'ALLOWED' && e.comm === PHP_COMM && isBobReadingAliceSecret(e)), `no ALLOWED open of ${aliceSecretFile} by bob's PHP`);
    const unexpected = eventsOfRun(all, 'complain').filter((e) => e.type === 'DENIED' && e.comm === PHP_COMM && !isPhpReadingOtherSecret(e));
    assert.deepEqual(unexpected, [], 'complain: unexpected DENIED lines from PHP-FPM');
  });

  /**
   * The PHP-FPM processes of a run: one master per site (its command line names its run directory,
   * named after the site) in the parent profile, and its children (`php-fpm: pool ...`) in the site's hat.
   */
  function checkPhpLabels(name: ServeRunName, modes: Readonly<Record<string, string>>): void {
    const run = runResult(name);
    assert.equal(run.started, 'ready', describeRun(name, run));
    const wrong: string[] = [];
    for (const site of ['alice.localhost', 'bob.localhost']) {
      const masters = [...run.processes].filter(([, p]) => p.cmdline.startsWith('php-fpm: master process') && p.cmdline.includes(`/${site}/php-fpm.conf`));
      if (masters.length !== 1) { wrong.push(`${site}: ${masters.length} PHP-FPM masters, expected 1`); continue; }
      const [masterPid, master] = masters[0]!;
      if (master.label !== `${profile} (enforce)`) wrong.push(`${site} master ${masterPid}: ${master.label}, expected ${profile} (enforce) (the parent profile)`);
      const children = [...run.processes].filter(([, p]) => p.ppid === masterPid && p.cmdline.startsWith('php-fpm: pool '));
      // the demo asks for two children per site
      if (children.length !== 2) wrong.push(`${site}: ${children.length} PHP-FPM children, expected 2`);
      const expected = `${profile}//${site} (${modes[site] ?? 'enforce'})`;
      for (const [pid, child] of children) if (child.label !== expected) wrong.push(`${site} child ${pid}: ${child.label}, expected ${expected}`);
    }
    const table = [...run.processes].filter(([, p]) => p.cmdline.startsWith('php-fpm')).map(([pid, p]) => `${pid} ${p.ppid} ${p.label} ${p.cmdline}`);
    assert.deepEqual(wrong, [], `PHP-FPM processes in the guest (${name}):\n${table.join('\n')}`);
  }

  /** Each site's /php/ page runs in its hat: it prints that label, reads its own secret and is denied the other's. */
  function checkPhpPages(name: ServeRunName): void {
    const run = runResult(name);
    assert.equal(run.started, 'ready', describeRun(name, run));
    const pages = [
      { site: 'alice.localhost', reply: run.alicePhp, own: secret, ownFile: 'alice/secret.txt', otherFile: 'bob/secret.txt', other: bobSecret },
      { site: 'bob.localhost', reply: run.bobPhp, own: bobSecret, ownFile: 'bob/secret.txt', otherFile: 'alice/secret.txt', other: secret },
    ];
    for (const page of pages) {
      const body = page.reply?.body ?? '';
      assert.equal(page.reply?.code, '200', `${name}: ${page.site}/php/: ${JSON.stringify(page.reply)}`);
      assert.match(body, new RegExp(`^AppArmor label: ${profile}//${page.site.replace('.', '\\.')} \\(enforce\\)$`, 'm'), `${name}: ${page.site}/php/:\n${body}`);
      assert.ok(body.includes(`own secret (${page.ownFile}): READ: ${page.own.trim()}\n`), `${name}: ${page.site}/php/ did not read its own secret:\n${body}`);
      assert.match(body, new RegExp(`^other site's secret \\(${page.otherFile.replace('.', '\\.')}\\): DENIED: .*Permission denied$`, 'm'), `${name}: ${page.site}/php/:\n${body}`);
      assert.ok(!body.includes(page.other.trim()), `${name}: ${page.site}/php/ shows the other site's secret`);
    }
  }

  /** The PHP runs: serve loading the policy itself (master started into the parent by the launcher) and the confined one. */
  function phpRuns(): ServeRunName[] {
    return ['load-policy', confinedRun()];
  }

  check("PHP-FPM: each site's master runs in the parent profile, every child in the site's hat", () => {
    for (const name of phpRuns()) checkPhpLabels(name, {});
  });

  check("PHP: each site's page prints its hat, reads its own secret and is denied the other site's", () => {
    for (const name of phpRuns()) checkPhpPages(name);
  });

  check("PHP: the kernel logged bob's PHP reading alice's secret as DENIED, and PHP caused no other denial", async () => {
    const all = await kernelEvents();
    for (const name of phpRuns()) {
      const events = eventsOfRun(all, name);
      const bobDenied = events.filter((e) => e.type === 'DENIED' && e.comm === PHP_COMM && isBobReadingAliceSecret(e));
      assert.ok(bobDenied.length >= 1, `${name}: no DENIED open of ${aliceSecretFile} by ${PHP_COMM} in ${profile}//bob.localhost`);
      const aliceOwn = events.filter((e) => e.type === 'DENIED' && e.hat === 'alice.localhost' && e.name === aliceSecretFile);
      assert.deepEqual(aliceOwn, [], `${name}: alice's own secret was denied to her`);
      const unexpected = events.filter((e) => e.type === 'DENIED' && e.comm === PHP_COMM && !isPhpReadingOtherSecret(e));
      assert.deepEqual(unexpected, [], `${name}: unexpected DENIED lines from PHP-FPM`);
    }
  });

  test('summary', (t) => {
    if (!vm || vm.status !== 'ok') { t.skip(`skipped: the kernel VM did not run (${vm?.status ?? 'not started'}: ${vm?.reason ?? ''})`); return; }
    const passed = outcomes.filter((o) => o.ok).length;
    t.diagnostic(`serve checks: ${passed} passed of ${outcomes.length} (workers checked in run ${confinedRun()}; kernel ${vm.kernel}, ${SERVE_RUNS.length} serve runs in one boot of ${(vm.durationMs / 1000).toFixed(0)} s)`);
  });
});
