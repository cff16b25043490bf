// What aa-status shows, read from securityfs and /proc under a root directory (so tests can give a fake
// tree), plus what aa-status cannot show: for each Apache worker and PHP-FPM pool worker, the hat it is
// in right now and whether that is the hat the configuration puts it in.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import type { ApacheConfig, FpmConfig } from '../web/index.js';
import { compilePattern, matches, type Automaton } from '../policy/aare/index.js';

export interface LoadedProfile {
  readonly name: string;
  readonly mode: string;
}

export interface ConfinedProcess {
  readonly pid: number;
  /** The executable (realpath of /proc/PID/exe), aa-status's key for processes. */
  readonly exe: string;
  /** The full label, `profile//hat` inside a hat; `unconfined` when not confined. */
  readonly label: string;
  readonly mode: string;
  /** The process title (/proc/PID/cmdline, NULs as spaces). */
  readonly command: string;
}

/** A process left unconfined although a loaded profile's attachment matches its executable. */
export interface UnconfinedProcess {
  readonly pid: number;
  readonly exe: string;
  /** The loaded profile whose attachment matches `exe` (it was loaded after the process started). */
  readonly profile: string;
  readonly command: string;
}

export type ApparmorState =
  | { readonly enabled: true; readonly profiles: LoadedProfile[]; readonly processes: ConfinedProcess[]; readonly unconfinedWithProfile: UnconfinedProcess[] }
  | { readonly enabled: false; readonly reason: string };

function readText(path: string): string | undefined {
  try { return readFileSync(path, 'utf8'); } catch { return undefined; }
}

/** `name (mode)` as in securityfs' profiles file and /proc/PID/attr/current; `unconfined` alone. */
export function parseLabel(text: string): { label: string; mode: string } {
  const trimmed = text.replace(/\0/g, '').trim();
  const m = /^(.*) \(([a-z_]+)\)$/.exec(trimmed);
  return m ? { label: m[1]!, mode: m[2]! } : { label: trimmed, mode: trimmed === 'unconfined' ? 'unconfined' : 'enforce' };
}

/** Loaded profiles and confined processes, read under `root` (default `/`). */
export function readApparmorState(root = '/'): ApparmorState {
  const at = (p: string): string => posix.join(root, p);
  const enabled = readText(at('/sys/module/apparmor/parameters/enabled'))?.trim();
  const profilesText = readText(at('/sys/kernel/security/apparmor/profiles'));
  if (enabled !== 'Y' || profilesText === undefined) {
    const reason = enabled === undefined ? 'the kernel has no AppArmor (/sys/module/apparmor is missing)'
      : enabled !== 'Y' ? 'AppArmor is built into the kernel but not enabled (apparmor=1 security=apparmor on the kernel command line)'
        : 'securityfs is not mounted or not readable (/sys/kernel/security/apparmor/profiles)';
    return { enabled: false, reason };
  }
  const profiles = profilesText.split('\n').filter((l) => l.trim() !== '').map((l) => {
    const { label, mode } = parseLabel(l);
    return { name: label, mode };
  }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const attachments = loadedAttachments(at, profiles);
  const processes: ConfinedProcess[] = [];
  const unconfinedWithProfile: UnconfinedProcess[] = [];
  let entries: string[] = [];
  try { entries = readdirSync(at('/proc')); } catch { entries = []; }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const dir = at(`/proc/${entry}`);
    const attr = readText(`${dir}/attr/apparmor/current`) ?? readText(`${dir}/attr/current`);
    if (attr === undefined) continue;
    const { label, mode } = parseLabel(attr);
    let exe = '';
    let exeKnown = true;
    try { exe = readlinkSync(`${dir}/exe`); } catch { exe = readText(`${dir}/comm`)?.trim() ?? ''; exeKnown = false; }
    const command = (readText(`${dir}/cmdline`) ?? '').replace(/\0+$/, '').replace(/\0/g, ' ');
    if (label === 'unconfined') {
      // Only a real executable path can be matched against an attachment (comm is a bare name).
      const profile = exeKnown ? attachments.find((a) => matches(a.automaton, exe))?.profile : undefined;
      if (profile !== undefined) unconfinedWithProfile.push({ pid: Number(entry), exe, profile, command });
      continue;
    }
    processes.push({ pid: Number(entry), exe, label, mode, command });
  }
  processes.sort((a, b) => a.pid - b.pid);
  unconfinedWithProfile.sort((a, b) => a.pid - b.pid);
  return { enabled: true, profiles, processes, unconfinedWithProfile };
}

/**
 * The attachments of the loaded top-level profiles, compiled: the kernel's own (policy/profiles/*\/attach,
 * read with each directory's `name`) when securityfs exposes them, else a path-named profile's name,
 * which is its attachment. Hats and profiles that attach to nothing (`<unknown>`) are left out.
 */
function loadedAttachments(at: (p: string) => string, profiles: readonly LoadedProfile[]): { profile: string; automaton: Automaton }[] {
  const byProfile = new Map<string, string>();
  const dir = at('/sys/kernel/security/apparmor/policy/profiles');
  let entries: string[] = [];
  try { entries = readdirSync(dir); } catch { entries = []; }
  for (const entry of entries) {
    const name = readText(posix.join(dir, entry, 'name'))?.trim();
    const attach = readText(posix.join(dir, entry, 'attach'))?.trim();
    if (name !== undefined && attach !== undefined) byProfile.set(name, attach);
  }
  const out: { profile: string; automaton: Automaton }[] = [];
  for (const { name } of profiles) {
    if (name.includes('//')) continue;
    const attach = byProfile.get(name) ?? (name.startsWith('/') ? name : undefined);
    if (attach === undefined || !attach.startsWith('/')) continue;
    const compiled = compilePattern(attach);
    if (compiled.ok) out.push({ profile: name, automaton: compiled.automaton });
  }
  return out;
}

/** aa-status --json's document: `{"version", "profiles": {name: mode}, "processes": {exe: [{profile, pid, status}]}}`. */
export function aaStatusJson(state: Extract<ApparmorState, { enabled: true }>): { version: string; profiles: Record<string, string>; processes: Record<string, { profile: string; pid: string; status: string }[]> } {
  const profiles: Record<string, string> = {};
  for (const p of state.profiles) profiles[p.name] = p.mode;
  const processes: Record<string, { profile: string; pid: string; status: string }[]> = {};
  for (const p of state.processes) (processes[p.exe] ??= []).push({ profile: p.label, pid: String(p.pid), status: p.mode });
  return { version: '2', profiles, processes };
}

export interface WorkerHat {
  readonly pid: number;
  readonly server: 'apache' | 'php-fpm';
  /** The pool of a PHP-FPM worker (from its process title); absent for the master and Apache. */
  readonly pool?: string;
  readonly label: string;
  /** What the configuration says this worker should be in (a label, or a set of them for Apache). */
  readonly expected: readonly string[];
  readonly matches: boolean;
  readonly note: string;
}

const APACHE_EXE = /\/(apache2|httpd)$/;
const FPM_EXE = /\/php-fpm[\d.]*$/;

/**
 * For each Apache and PHP-FPM process: the label it is in and whether the configuration puts it there.
 * Apache workers sit in the parent profile between requests and in a configured hat during one;
 * PHP-FPM pool workers stay in their pool's apparmor_hat.
 */
export function workerHats(processes: readonly ConfinedProcess[], config: { apache?: ApacheConfig; fpm?: readonly FpmConfig[]; apacheProfile?: string; fpmProfile?: string }): WorkerHat[] {
  const out: WorkerHat[] = [];
  const apacheHats = new Set<string>(['DEFAULT_URI', 'HANDLING_UNTRUSTED_INPUT']);
  for (const server of [config.apache?.main, ...(config.apache?.vhosts ?? [])]) {
    if (!server) continue;
    if (server.defaultHatName !== undefined) apacheHats.add(server.defaultHatName);
    if (server.serverName !== undefined) apacheHats.add(server.serverName);
    for (const s of server.sections) if (s.hatName !== undefined) apacheHats.add(s.hatName);
  }
  const pools = new Map<string, string | undefined>();
  for (const fpm of config.fpm ?? []) for (const p of fpm.pools) pools.set(p.name, p.apparmorHat);
  for (const p of processes) {
    if (APACHE_EXE.test(p.exe)) {
      const parent = config.apacheProfile ?? p.label.split('//')[0]!;
      const [profile, hat] = [p.label.split('//')[0]!, p.label.split('//').slice(1).join('//')];
      const expected = [parent, ...[...apacheHats].map((h) => `${parent}//${h}`)];
      const matches = profile === parent && (hat === '' || apacheHats.has(hat));
      out.push({
        pid: p.pid, server: 'apache', label: p.label, expected, matches,
        note: hat === '' ? 'between requests (the parent profile)' : matches ? `serving a request in hat ${hat}` : hat.startsWith('null-') ? `in a learning hat: no hat ${hat.slice(5)} is loaded` : `in a hat no vhost names (${hat})`,
      });
      continue;
    }
    if (FPM_EXE.test(p.exe) || /^php-fpm/.test(p.command)) {
      const pool = /^php-fpm: pool (\S+)/.exec(p.command)?.[1];
      const parent = config.fpmProfile ?? p.label.split('//')[0]!;
      if (pool === undefined) {
        out.push({ pid: p.pid, server: 'php-fpm', label: p.label, expected: [parent], matches: p.label === parent, note: 'the master process' });
        continue;
      }
      const hat = pools.get(pool);
      const expected = hat === undefined ? [parent] : [`${parent}//${hat}`];
      const matches = expected.includes(p.label);
      out.push({
        pid: p.pid, server: 'php-fpm', pool, label: p.label, expected, matches,
        note: !pools.has(pool) ? `pool ${pool} is not in the configuration read` : matches ? (hat === undefined ? 'the pool sets no apparmor_hat' : `in the pool's hat ${hat}`) : `the pool's apparmor_hat is ${hat ?? '(none)'}`,
      });
    }
  }
  return out;
}
