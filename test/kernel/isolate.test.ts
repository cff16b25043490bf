// Real kernel (one boot): what `isolation()` says about a generated multi-tenant policy is what AppArmor
// enforces. Six site hats under one parent, each with its own root and a common abstraction, plus
// planted leaks of every kind a guest can perform: a broad read glob, a writable, an executable and a readable-executable
// glob into other sites, a shared writable directory, a Px into a broad helper profile, a
// change_profile into another site's hat and a signal both sides allow. On the host, isolation()
// finds the flows; in the guest each witness is performed as the hat (the kernel must allow it), and
// for every pair reported isolated at least 200 accesses into the other site's area (read, write,
// append, create, mkdir, unlink, rename, link, exec, on files that exist), plus a signal and a
// change_profile into its hat, are performed (the kernel must deny each).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInVm, unavailableReason, type VmResult } from './harness/vm.js';
import type { IsolateAccess, IsolateOutcome, IsolatePlan } from './guest/isolate-runner.js';
import { compiledRoot, repoRoot } from '../support/repo.js';
import { compileText } from '../policy/eval/support.js';
import { decide, type CompiledPolicy } from '../../src/policy/eval/index.js';
import { isolation, type Flow, type IsolationResult } from '../../src/isolate/index.js';
import { tenantsFromFlags } from '../../src/web/index.js';

const unavailable = process.env.HATTER_SKIP_KERNEL ? 'skipped: HATTER_SKIP_KERNEL is set' : unavailableReason();
const PARENT = 'kiso';
const ROOT = '/srv/hatter-kiso';
const SHARED = '/srv/hatter-kiso-shared';
const HELPER = '/srv/hatter-kiso-bin/helper';
const SITES = Array.from({ length: 6 }, (_, i) => `site${i}`);
const ACCESSES_PER_PAIR = 200;

const work = realpathSync(mkdtempSync(join(tmpdir(), 'hatter-kiso-')));
const runtimeFile = join(work, 'kiso-runtime');
const policyFile = join(work, PARENT);

/** The common abstraction: what Node, aa-exec, cat and true need, nothing any site could write to share. */
const RUNTIME = `  /usr/** mrix,
  /etc/** r,
  /proc/** r,
  /sys/** r,
  /dev/null rw,
  /dev/{u,}random r,
  /proc/[0-9]*/{,task/[0-9]*/}attr/{apparmor/,}{current,exec} w,
  ${repoRoot}/** r,
`;

/** The leaks planted in each site's hat (beyond its own root). */
const LEAKS: Record<string, string[]> = {
  site0: [`${ROOT}/*/public/*.html r,`, `${ROOT}/site1/uploads/*.txt w,`, `${ROOT}/site2/cgi-bin/*.cgi ix,`],
  site1: [`${SHARED}/** rw,`, `${HELPER} Px,`],
  site2: [`${SHARED}/** rw,`, `change_profile -> ${PARENT}//site3,`],
  site3: [`signal (send) peer=${PARENT}//site4,`],
  site4: [`signal (receive) peer=${PARENT}//site3,`, `${ROOT}/site5/cgi-bin/*.cgi rix,`],
  site5: [],
};

function policyText(): string {
  const hats = SITES.map((site) => `  ^${site} {
    include "${runtimeFile}"
    ${ROOT}/${site}/ r,
    ${ROOT}/${site}/** rwk,
    ${ROOT}/${site}/cgi-bin/*.cgi ix,
${LEAKS[site]!.map((rule) => `    ${rule}\n`).join('')}  }
`).join('');
  return `abi <abi/3.0>,

profile ${PARENT} {
  include "${runtimeFile}"
  ${work}/** rw,
${hats}}

# The broad helper a site may Px into: it reads one other site's data.
profile ${PARENT}-helper ${HELPER} {
  include "${runtimeFile}"
  ${HELPER} mr,
  ${ROOT}/site5/data/*.txt r,
}
`;
}

/** The flows the planted leaks make, as from>to pairs (everything else must be isolated). */
const EXPECTED_FLOW_PAIRS = [
  ...SITES.slice(1).map((s) => `site0>${s}`), 'site1>site2', 'site2>site1', 'site1>site5', 'site2>site3', 'site3>site4', 'site4>site5',
].sort();

/** A site's tree: files, directories and an executable, all present before the run. */
const TREE = {
  dirs: ['', 'public/', 'public/img/', 'app/', 'data/', 'cgi-bin/', 'uploads/'],
  files: ['public/index.html', 'public/img/logo.png', 'app/config.php', 'data/db.txt', 'uploads/u.txt'],
  executable: 'cgi-bin/run.cgi',
};

interface Expectation { readonly access: IsolateAccess; readonly allow: boolean; readonly why: string }

/** Turn the analysis into accesses: each witness (allowed) and, per isolated pair, many denied ones. */
function planFrom(result: IsolationResult, compiled: CompiledPolicy): { plan: IsolatePlan; expectations: Map<number, Expectation>; notPerformed: Flow[] } {
  const accesses: IsolateAccess[] = [];
  const expectations = new Map<number, Expectation>();
  const dirs = new Set<string>();
  const files = new Set<string>();
  const executables = new Map<string, string>();
  const absent = new Set<string>();
  const notPerformed: Flow[] = [];
  const add = (hat: string, op: IsolateAccess['op'], path: string, allow: boolean, why: string, extra: Partial<IsolateAccess> = {}) => {
    const access: IsolateAccess = { id: accesses.length, hat, op, path, ...extra };
    accesses.push(access);
    expectations.set(access.id, { access, allow, why });
  };
  const hatOf = (label: string) => label.slice(label.lastIndexOf('//') + 2);
  for (const site of SITES) {
    for (const dir of TREE.dirs) dirs.add(`${ROOT}/${site}/${dir}`);
    for (const file of TREE.files) files.add(`${ROOT}/${site}/${file}`);
    executables.set(`${ROOT}/${site}/${TREE.executable}`, '/usr/bin/true');
  }
  executables.set(HELPER, '/usr/bin/cat');

  // Witnesses. Creating accesses come first in each hat, so a path created there can then be written.
  const witnessAccesses: Parameters<typeof add>[] = [];
  for (const flow of result.flows) {
    const hat = hatOf(flow.label);
    const why = `witness: ${flow.summary}`;
    const path = flow.witness;
    const isDir = path.endsWith('/');
    switch (flow.kind) {
      case 'read':
        if (isDir) dirs.add(path); else files.add(path);
        witnessAccesses.push([hat, isDir ? 'read-dir' : 'read', path, true, why]);
        break;
      case 'write':
        if (isDir) { notPerformed.push(flow); break; }
        files.add(path);
        witnessAccesses.push([hat, 'write', path, true, why]);
        break;
      case 'create':
        absent.add(path);
        witnessAccesses.unshift([hat, isDir ? 'mkdir' : 'create', path, true, why]);
        break;
      case 'exec':
        if (isDir) { notPerformed.push(flow); break; }
        executables.set(path, '/usr/bin/true');
        witnessAccesses.push([hat, 'exec', path, true, why]);
        break;
      case 'shared-path':
        files.add(path);
        witnessAccesses.push([hat, 'write', path, true, `${why} (the writer)`]);
        witnessAccesses.push([hatOf(flow.reader!), 'read', path, true, `${why} (the reader)`]);
        break;
      case 'transition': {
        // A one-step exec into a profile that reads the witness: run that program on it (the helper is cat).
        const step = /\((\S+) (\S+)\)$/.exec(flow.via?.[1] ?? '');
        if (flow.via?.length !== 2 || !step || step[2] !== HELPER || flow.access !== 'read' || isDir) { notPerformed.push(flow); break; }
        files.add(path);
        witnessAccesses.push([hat, 'exec-helper', HELPER, true, why, { arg: path }]);
        break;
      }
      case 'map-exec':
        // mmap needs a descriptor open for reading: a hat that may map a file executable but not read it
        // (an `ix` rule: ix implies m) can have it mapped only by the kernel, in the exec itself.
        if (isDir || !decide(compiled, flow.label, { class: 'file', path, permissions: 'r' }).allowed) { notPerformed.push(flow); break; }
        // The file is a copy of /usr/bin/true, as for an exec witness of the same path (the runner maps it with dlopen).
        executables.set(path, '/usr/bin/true');
        witnessAccesses.push([hat, 'map-exec', path, true, why]);
        break;
      case 'change_profile': witnessAccesses.push([hat, 'change_profile', path, true, why]); break;
      case 'signal': witnessAccesses.push([hat, 'signal', path, true, why]); break;
      default: notPerformed.push(flow); // lock, link, ptrace, unix: the planted leaks make none
    }
  }
  for (const args of witnessAccesses) add(...args);
  for (const path of absent) files.delete(path);

  // Isolated pairs: many accesses into the other site's existing tree, each of which must be denied.
  const flowPairs = new Set(result.flows.map((f) => `${f.from}>${f.to}`));
  // Every kind of access; exec (a fork of Node under emulation) one time in twenty, to keep the boot short.
  const ops = ['read', 'read-dir', 'write', 'append', 'create', 'mkdir', 'unlink', 'rename', 'link', 'exec',
    'read', 'write', 'append', 'create', 'unlink', 'rename', 'link', 'mkdir', 'read-dir', 'read'] as const;
  for (const a of SITES) {
    for (const b of SITES) {
      if (a === b || flowPairs.has(`${a}>${b}`)) continue;
      const why = `${a} is reported isolated from ${b}`;
      const area = `${ROOT}/${b}`;
      for (let i = 0; i < ACCESSES_PER_PAIR; i++) {
        const op = ops[i % ops.length]!;
        const round = Math.floor(i / ops.length);
        const file = `${area}/${TREE.files[round % TREE.files.length]!}`;
        const dir = `${area}/${TREE.dirs[round % TREE.dirs.length]!}`;
        const fresh = `${dir}new-${a}-${i}`;
        switch (op) {
          case 'read': case 'write': case 'append': case 'unlink': add(a, op, file, false, why); break;
          case 'read-dir': add(a, op, dir, false, why); break;
          case 'create': case 'mkdir': add(a, op, fresh, false, why); break;
          case 'rename': case 'link': add(a, op, file, false, why, { path2: fresh }); break;
          case 'exec': add(a, op, `${area}/${TREE.executable}`, false, why); break;
        }
      }
      add(a, 'signal', `${PARENT}//${b}`, false, why);
      add(a, 'change_profile', `${PARENT}//${b}`, false, why);
    }
  }
  const plan: IsolatePlan = {
    hats: SITES, accesses, dirs: [...dirs], files: [...files],
    executables: [...executables].map(([path, from]) => ({ path, from })), absent: [...absent],
  };
  return { plan, expectations, notPerformed };
}

const guestScript = (runner: string) => `set -u
W=${work}
apparmor_parser -r ${policyFile} > $W/load.out 2>&1; echo $? > $W/load.rc
node ${runner} prepare $W/plan.json > $W/prepare.out 2>&1; echo $? > $W/prepare.rc
: > $W/peers
for h in ${SITES.join(' ')}; do
  aa-exec -p ${PARENT}//$h -- /usr/bin/sleep 600 &
  echo "${PARENT}//$h $!" >> $W/peers
done
sleep 1
echo "hatter-kiso: begin" > /dev/kmsg
aa-exec -p ${PARENT} -- node ${runner} run $W/plan.json $W/peers $W/results.json > $W/run.out 2>&1; echo $? > $W/run.rc
echo "hatter-kiso: end" > /dev/kmsg
kill $(jobs -p) 2>/dev/null
`;

let vm: VmResult | undefined;
let skip: string | false = unavailable ?? false;
let analysed: ReturnType<typeof planFrom> | undefined;
let result: IsolationResult | undefined;
const read = (name: string): string => (existsSync(join(work, name)) ? readFileSync(join(work, name), 'utf8') : '');

before(async () => {
  writeFileSync(runtimeFile, RUNTIME);
  const text = policyText();
  writeFileSync(policyFile, text);
  // The in-memory reader has no abi files; the abi line changes nothing the analysis looks at.
  const compiled = compileText(text.replace(/^abi .*\n/, ''), { [runtimeFile]: RUNTIME });
  const model = tenantsFromFlags(SITES.map((s) => `${s}=${ROOT}/${s}`));
  result = isolation(compiled, model, { profile: PARENT });
  analysed = planFrom(result, compiled);
  writeFileSync(join(work, 'plan.json'), JSON.stringify(analysed.plan));
  if (skip) return;
  vm = await runInVm(guestScript(join(compiledRoot, 'test', 'kernel', 'guest', 'isolate-runner.js')), { shares: [work], cwd: repoRoot, timeoutMs: 170_000 });
  if (vm.status !== 'ok') skip = `${vm.status}: ${vm.reason ?? ''}`;
  else writeFileSync(join(work, 'dmesg'), vm.dmesg); // kept with HATTER_KEEP_KERNEL_WORK
}, { timeout: 180_000 });

after(() => {
  if (!process.env.HATTER_KEEP_KERNEL_WORK) rmSync(work, { recursive: true, force: true });
});

test('the analysis finds every planted leak, and only those', () => {
  const { flows, diagnostics } = result!;
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
  assert.deepEqual([...new Set(flows.map((f) => `${f.from}>${f.to}`))].sort(), EXPECTED_FLOW_PAIRS);
  const kinds = new Set(flows.map((f) => f.kind));
  for (const kind of ['read', 'write', 'create', 'exec', 'map-exec', 'shared-path', 'transition', 'change_profile', 'signal'] as const) {
    assert.ok(kinds.has(kind), `a planted ${kind} flow is found: ${flows.map((f) => f.summary).join('\n')}`);
  }
});

test('on AppArmor, every witness is allowed and every access across an isolated pair is denied', (t) => {
  if (skip) { t.skip(skip); return; }
  const { plan, expectations, notPerformed } = analysed!;
  assert.equal(read('load.rc').trim(), '0', `the policy loads: ${read('load.out')}`);
  assert.equal(read('prepare.rc').trim(), '0', read('prepare.out'));
  assert.equal(read('run.rc').trim(), '0', `the runner ran: ${read('run.out')}\n${vm!.stderr}`);
  const outcomes = JSON.parse(read('results.json')) as IsolateOutcome[];
  assert.equal(outcomes.length, plan.accesses.length, 'every access has an outcome');
  const mismatches: string[] = [];
  let allowed = 0;
  let denied = 0;
  const deniedPerPair = new Map<string, number>();
  for (const outcome of outcomes) {
    const { access, allow, why } = expectations.get(outcome.id)!;
    const hatLabel = `${PARENT}//${access.hat} (enforce)`;
    if (outcome.label !== hatLabel) { mismatches.push(`#${access.id} ran in ${outcome.label}, not ${hatLabel}`); continue; }
    // A denial is the kernel's EACCES/EPERM; aa-exec reports a refused change_onexec by its exit status.
    const refused = !outcome.ok && (outcome.errno === 'EACCES' || outcome.errno === 'EPERM' || (access.op === 'change_profile' && /^EXIT[1-9]/.test(outcome.errno ?? '')));
    const describe = `${access.hat} ${access.op} ${access.path}${access.path2 ? ` -> ${access.path2}` : ''}${access.arg ? ` ${access.arg}` : ''}`;
    // The kernel's own account of a refused witness: its audit lines naming the path or the helper's argument.
    const audit = () => vm!.dmesg.split('\n').filter((l) => l.includes('apparmor=') && [access.path, access.arg].some((p) => p !== undefined && l.includes(`"${p}"`))).slice(0, 3).join(' | ');
    if (allow && !outcome.ok) mismatches.push(`DENIED by the kernel (${outcome.errno}): ${describe}; ${why}; kernel log: ${audit() || 'nothing'}`);
    else if (!allow && !refused) mismatches.push(`${outcome.ok ? 'ALLOWED' : `failed with ${outcome.errno}, not denied,`} by the kernel: ${describe}; ${why}`);
    else if (allow) allowed++;
    else { denied++; const pair = why.replace(/ is reported isolated from /, '>'); deniedPerPair.set(pair, (deniedPerPair.get(pair) ?? 0) + 1); }
  }
  t.diagnostic(`kernel ${vm!.kernel}: ${result!.flows.length} flows; ${allowed} witness accesses allowed (${notPerformed.length} witnesses of kinds not performed here: ${[...new Set(notPerformed.map((f) => f.kind))].join(', ') || 'none'})`);
  t.diagnostic(`${deniedPerPair.size} isolated pairs; ${denied} accesses across them denied (at least ${Math.min(...deniedPerPair.values())} per pair); ${mismatches.length} mismatches; boot ${Math.round(vm!.durationMs / 1000)} s`);
  assert.deepEqual(mismatches, []);
  assert.equal(deniedPerPair.size, SITES.length * (SITES.length - 1) - EXPECTED_FLOW_PAIRS.length);
  for (const [pair, count] of deniedPerPair) assert.ok(count >= ACCESSES_PER_PAIR, `${pair}: ${count} denied accesses`);
  assert.ok(allowed >= result!.flows.length - notPerformed.length, 'every performable witness was performed');
});
