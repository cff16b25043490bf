// Probe accesses for the real-kernel suite: a profile with hats whose file rules are generated, and
// about 1,200 accesses (read, write, append, create, stat, unlink, mkdir, rename, link, exec) that a
// guest-side runner performs inside each hat. hatter's evaluator predicts each outcome; the kernel
// decides it; the test compares the two and checks the kernel's audit lines with hatter's log reader.
import fc from 'fast-check';

export type ProbeOp = 'read' | 'write' | 'append' | 'create' | 'stat' | 'unlink' | 'mkdir' | 'rename' | 'link' | 'exec'
  | 'chown' | 'read-protected' | 'nice' | 'signal';

export interface Probe {
  readonly id: number;
  readonly hat: string;
  readonly op: ProbeOp;
  /** The object (for rename and link: the source/existing file). */
  readonly path: string;
  /** rename destination or new link name. */
  readonly path2?: string;
  /** signal probes: the signal name and the hat of the receiving process. */
  readonly signal?: string;
  readonly peerHat?: string;
}

export interface ProbeSet {
  readonly policy: string;
  readonly probes: readonly Probe[];
  /** Files to create before the run (as root, so the probing root task owns them). */
  readonly files: readonly string[];
  /** Copies of /usr/bin/true to create, for exec probes. */
  readonly executables: readonly string[];
  readonly hats: readonly string[];
}

export const PROBE_ROOT = '/tmp/kp';
const dirs = ['a/x', 'a/y', 'b/x', 'b/y', 'c/x', 'c/y'];
const patterns = [
  '/tmp/kp/a/**', '/tmp/kp/a/x/*', '/tmp/kp/*/y/**', '/tmp/kp/b/{x,y}/p1*', '/tmp/kp/c/**', '/tmp/kp/**', '/tmp/kp/{a,c}/x/p[0-4]*',
  '/tmp/kp/b/**', '/tmp/kp/*/*/', '/tmp/kp/*/*/p*', '/tmp/kp/*/x/p?', '/tmp/kp/c/y/p2*', '/tmp/kp/{,a/}x/**',
];
const perms = ['r', 'w', 'rw', 'a', 'ra', 'l', 'rl', 'rwl', 'k', 'rk'];
const prefixes = ['', '', '', 'deny ', 'audit ', 'owner ', 'audit deny ', 'other '];

const ruleArb = fc.tuple(fc.constantFrom(...prefixes), fc.constantFrom(...patterns), fc.constantFrom(...perms))
  .map(([prefix, pattern, perm]) => `${prefix}${pattern} ${perm},`);
const capabilityRules = ['capability chown,', 'capability dac_read_search,', 'capability dac_override,', 'deny capability dac_override,',
  'capability sys_nice,', 'audit capability chown,', 'deny capability sys_nice,', 'capability fowner,'];
const signals = ['winch', 'cont', 'urg'];
const signalRules = ['signal (send) set=(winch) peer=kp//*,', 'signal (send) peer=kp//h[01],', 'signal (receive) peer=kp//*,',
  'signal (receive) set=(winch, urg) peer=kp//h2,', 'signal (send, receive) set=(cont),', 'deny signal (send) set=(urg),', 'signal (send) set=(urg) peer=kp//h3,'];
const hatArb = fc.record({
  capabilities: fc.subarray(capabilityRules, { maxLength: 4 }),
  signals: fc.subarray(signalRules, { minLength: 1, maxLength: 4 }),
  rules: fc.array(ruleArb, { minLength: 3, maxLength: 9 }),
  exec: fc.constantFrom('/tmp/kp/bin/* ix,', '/tmp/kp/bin/t1* ix,', '', 'deny /tmp/kp/bin/t2* x,\n    /tmp/kp/bin/* ix,'),
  link: fc.constantFrom('', 'link subset /tmp/kp/*/x/** -> /tmp/kp/**,', 'link /tmp/kp/a/** -> /tmp/kp/a/**,'),
});

/** Rules every hat needs so that Node can keep running in it (none touch /tmp/kp or name a signal). */
export function runtimeRules(compiledRoot: string, work: string, indent: string, withSignals = true): string {
  return ['/usr/** mrix,', '/etc/** r,', '/dev/** rw,', '/proc/** r,', '/sys/** r,', `${compiledRoot}/** r,`, `${work}/** r,`,
    '/proc/*/attr/{apparmor/,}current rw,', '/proc/*/task/*/attr/{apparmor/,}current rw,', 'unix,', 'network,',
    // Capability probes need the file half allowed, so that only the capability decides.
    '/tmp/kp/cap/** rw,', ...(withSignals ? ['signal,'] : [])]
    .map((r) => `${indent}${r}`).join('\n');
}

export function generateProbes(compiledRoot: string, work: string, seed = 7): ProbeSet {
  const hats = fc.sample(hatArb, { numRuns: 4, seed });
  const hatNames = hats.map((_, i) => `h${i}`);
  const policy = [
    'abi <abi/3.0>,',
    'profile kp {',
    runtimeRules(compiledRoot, work, '  '),
    `  ${work}/** rw,`,
    ...hats.flatMap((hat, i) => [
      `  ^h${i} {`,
      runtimeRules(compiledRoot, work, '    ', false),
      ...hat.rules.map((r) => `    ${r}`),
      ...hat.capabilities.map((r) => `    ${r}`),
      ...hat.signals.map((r) => `    ${r}`),
      ...(hat.exec ? [`    ${hat.exec}`] : []),
      ...(hat.link ? [`    ${hat.link}`] : []),
      '  }',
    ]),
    '}',
    '',
  ].join('\n');

  const probes: Probe[] = [];
  const files: string[] = [];
  const executables: string[] = [];
  let id = 0;
  const next = () => id++;
  const ops: ProbeOp[] = ['read', 'write', 'append', 'create', 'stat', 'unlink', 'mkdir', 'rename', 'link', 'exec'];
  for (const hat of hatNames) {
    for (const dir of dirs) {
      for (const op of ops) {
        // Several files per (dir, op) with names p0.., so p[0-4]*, p1*, p? and p2* patterns all bite.
        for (let k = 0; k < 5; k++) {
          const n = next();
          const name = `p${k}${op === 'create' || op === 'mkdir' ? 'n' : ''}-${n}`;
          const path = `${PROBE_ROOT}/${dir}/${name}`;
          if (op === 'exec') {
            const exe = `${PROBE_ROOT}/bin/t${k}-${n}`;
            executables.push(exe);
            probes.push({ id: n, hat, op, path: exe });
            continue;
          }
          if (op === 'create' || op === 'mkdir') { probes.push({ id: n, hat, op, path: op === 'mkdir' ? `${path}/` : path }); continue; }
          files.push(path);
          if (op === 'rename' || op === 'link') {
            const other = dirs[(dirs.indexOf(dir) + k + 1) % dirs.length]!;
            probes.push({ id: n, hat, op, path, path2: `${PROBE_ROOT}/${other}/p${(k + 1) % 5}d-${n}` });
          } else {
            probes.push({ id: n, hat, op, path });
          }
        }
      }
    }
  }
  // Capabilities: as root, chown needs CAP_CHOWN; reading a mode-000 file needs CAP_DAC_READ_SEARCH or
  // CAP_DAC_OVERRIDE; lowering the nice value needs CAP_SYS_NICE. The files live in /tmp/kp/cap,
  // where every hat may read and write, so only the capability rules decide.
  for (const hat of hatNames) {
    for (let k = 0; k < 6; k++) {
      const n = next();
      files.push(`${PROBE_ROOT}/cap/c${n}`);
      probes.push({ id: n, hat, op: 'chown', path: `${PROBE_ROOT}/cap/c${n}` });
      const m = next();
      probes.push({ id: m, hat, op: 'read-protected', path: `${PROBE_ROOT}/cap/protected` });
      if (k < 3) probes.push({ id: next(), hat, op: 'nice', path: '' }); // nice stays within -20
    }
    // Signals to a process in every other hat (and the same one): both ends must allow.
    for (const peerHat of hatNames) {
      for (const signal of signals) probes.push({ id: next(), hat, op: 'signal', path: '', signal, peerHat });
    }
  }
  return { policy, probes, files, executables, hats: hatNames };
}

/** Capabilities an operation needs (any one of them suffices). */
export function capabilitiesFor(probe: Probe): string[] | undefined {
  switch (probe.op) {
    case 'chown': return ['chown'];
    case 'read-protected': return ['dac_read_search', 'dac_override'];
    case 'nice': return ['sys_nice'];
    default: return undefined;
  }
}

/** The file permissions each operation needs, as hatter requests (AppArmor's kernel mapping). */
export function requestsFor(probe: Probe): ({ class: 'file'; path: string; permissions: string; owner: boolean } | { class: 'link'; path: string; target: string; owner: boolean })[] {
  switch (probe.op) {
    // The kernel grants getattr to every confined task (aa_compute_fperms adds AA_MAY_GETATTR), so
    // stat needs no rule: observed on 6.1 in this suite.
    case 'stat': return [];
    case 'read': return [{ class: 'file', path: probe.path, permissions: 'r', owner: true }];
    case 'write': case 'create': case 'unlink': case 'mkdir': return [{ class: 'file', path: probe.path, permissions: 'w', owner: true }];
    case 'append': return [{ class: 'file', path: probe.path, permissions: 'a', owner: true }];
    case 'exec': return [{ class: 'file', path: probe.path, permissions: 'x', owner: true }];
    case 'rename': return [{ class: 'file', path: probe.path, permissions: 'rw', owner: true }, { class: 'file', path: probe.path2!, permissions: 'w', owner: true }];
    case 'link': return [{ class: 'link', path: probe.path2!, target: probe.path, owner: true }];
    case 'chown': return [{ class: 'file', path: probe.path, permissions: 'w', owner: true }];
    case 'read-protected': return [{ class: 'file', path: probe.path, permissions: 'r', owner: true }];
    case 'nice': case 'signal': return [];
  }
}
