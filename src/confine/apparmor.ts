// Backend `apparmor`: workers enter `<profile>//<hat>` at execve through the launcher writing
// `exec <label>` to attr/exec; the supervisor reads each worker's label back and refuses a wrong one.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { access, readFile, readdir } from 'node:fs/promises';
import { labelOf, requestDiagnostic, startedProgram, type BackendAvailability, type ConfinementBackend, type ConfinementRequest, type PreparedConfinement } from './backend.js';
import { findLauncher, intendedFds, launcherArgs, type LaunchPlan } from './launcher.js';
import type { Diagnostic } from '../policy/index.js';
import { grantedCapabilities } from './capabilities.js';
import { readHatRules } from './hat-rules.js';

/** Where the kernel interfaces are; tests point these at a fake tree. */
export interface AppArmorRoots {
  readonly sys: string;
  readonly proc: string;
}

export interface AppArmorBackendOptions {
  readonly roots?: AppArmorRoots;
  readonly launcher?: string;
  /** Load or replace the policy with `apparmor_parser -r` in prepare (hatter serve --load-policy). */
  readonly loadPolicy?: boolean;
  /** Runs apparmor_parser; injectable for tests. */
  readonly runParser?: (args: readonly string[]) => { status: number | null; stderr: string };
}

export interface AppArmorPrepared extends PreparedConfinement {
  readonly backend: 'apparmor';
  readonly launcher: string;
  readonly plan: LaunchPlan;
}

/** A task's label as read from attr/current: `label (mode)` or `unconfined`. Mode split at the last ` (`. */
export function parseCurrentLabel(text: string): { label: string; mode: string | null } {
  const line = text.replace(/\0/g, '').replace(/\n$/, '').trim();
  const at = line.lastIndexOf(' (');
  if (at > 0 && line.endsWith(')')) return { label: line.slice(0, at), mode: line.slice(at + 2, -1) };
  return { label: line, mode: null };
}

/** Loaded profile names from the `profiles` file (`name (mode)` lines). */
export function parseProfilesList(text: string): Map<string, string> {
  const profiles = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const { label, mode } = parseCurrentLabel(line);
    profiles.set(label, mode ?? '');
  }
  return profiles;
}

/** The exact bytes `aa_change_onexec(label)` writes (the launcher writes the same with -A). */
export function onexecCommand(label: string, stack = false): string {
  return `${stack ? 'stack' : 'exec'} ${label}`;
}

function defaultRunParser(args: readonly string[]): { status: number | null; stderr: string } {
  const result = spawnSync('apparmor_parser', [...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stderr: result.error ? result.error.message : result.stderr };
}

export class AppArmorBackend implements ConfinementBackend {
  readonly name = 'apparmor' as const;
  private readonly roots: AppArmorRoots;
  private readonly launcher: string | undefined;
  private readonly loadPolicy: boolean;
  private readonly runParser: (args: readonly string[]) => { status: number | null; stderr: string };
  private profilesCache: Map<string, string> | undefined;
  /** `apparmor_parser -r` arguments and policy bytes already loaded: one load per policy text, not per hat. */
  private readonly loaded = new Set<string>();

  constructor(options: AppArmorBackendOptions = {}) {
    this.roots = options.roots ?? { sys: '/sys', proc: '/proc' };
    this.launcher = options.launcher ?? findLauncher();
    this.loadPolicy = options.loadPolicy ?? false;
    this.runParser = options.runParser ?? defaultRunParser;
  }

  private get securityDir(): string {
    return `${this.roots.sys}/kernel/security/apparmor`;
  }

  async probe(): Promise<BackendAvailability> {
    const details: Record<string, unknown> = {};
    let enabled: string;
    try {
      enabled = (await readFile(`${this.roots.sys}/module/apparmor/parameters/enabled`, 'utf8')).trim();
    } catch {
      return { available: false, reason: 'the kernel has no AppArmor (/sys/module/apparmor/parameters/enabled is missing)', details };
    }
    details.enabled = enabled;
    if (enabled !== 'Y') return { available: false, reason: `AppArmor is disabled (parameters/enabled reads ${JSON.stringify(enabled)})`, details };
    try {
      await access(this.securityDir);
    } catch {
      return { available: false, reason: `${this.securityDir} is missing: securityfs is not mounted (mount -t securityfs securityfs /sys/kernel/security)`, details };
    }
    let current: string;
    try {
      current = await readFile(`${this.roots.proc}/self/attr/apparmor/current`, 'utf8');
    } catch (error) {
      return { available: false, reason: `cannot read ${this.roots.proc}/self/attr/apparmor/current (${(error as NodeJS.ErrnoException).code ?? 'error'}): AppArmor is not the active LSM`, details };
    }
    const self = parseCurrentLabel(current);
    details.supervisorLabel = self.label;
    details.supervisorMode = self.mode;
    try {
      const domain = await readdir(`${this.securityDir}/features/domain`);
      details.domainFeatures = domain.sort();
    } catch {
      // old kernels have no features directory; change_onexec has existed since 2.6.36
    }
    if (!this.launcher) return { available: false, reason: 'the launcher native/build/hatter-launch is not built (run `node scripts/build-native.mjs`)', details };
    details.launcher = this.launcher;
    return { available: true, reason: `AppArmor enabled; supervisor label ${self.label}${self.mode ? ` (${self.mode})` : ''}`, details };
  }

  /** Loaded profiles (cached; refreshed after hatter loads policy). */
  async loadedProfiles(refresh = false): Promise<Map<string, string>> {
    if (this.profilesCache && !refresh) return this.profilesCache;
    let profiles: Map<string, string>;
    try {
      profiles = parseProfilesList(await readFile(`${this.securityDir}/profiles`, 'utf8'));
    } catch {
      profiles = new Map();
      // The policy directory tree: policy/profiles/<entry>/{name,mode}, children under <entry>/profiles/.
      const walk = async (dir: string, depth: number): Promise<void> => {
        let entries: string[];
        try {
          entries = await readdir(dir);
        } catch {
          return; // no policy interface at all: nothing loaded
        }
        for (const entry of entries) {
          const name = (await readFile(`${dir}/${entry}/name`, 'utf8').catch(() => '')).trim();
          const mode = (await readFile(`${dir}/${entry}/mode`, 'utf8').catch(() => '')).trim();
          if (name) profiles.set(name, mode);
          if (depth < 8) await walk(`${dir}/${entry}/profiles`, depth + 1);
        }
      };
      await walk(`${this.securityDir}/policy/profiles`, 0);
    }
    this.profilesCache = profiles;
    return profiles;
  }

  async prepare(request: ConfinementRequest): Promise<{ prepared?: AppArmorPrepared; diagnostics: readonly Diagnostic[] }> {
    const label = labelOf(request);
    const file = request.policyFile ?? '<request>';
    const availability = await this.probe();
    if (!availability.available || !this.launcher) {
      return { diagnostics: [requestDiagnostic(file, 'confine/apparmor-unavailable', `cannot confine ${label} with AppArmor: ${availability.reason}`)] };
    }
    const diagnostics: Diagnostic[] = [];
    if (this.loadPolicy) {
      if (!request.policyFile) {
        return { diagnostics: [requestDiagnostic(file, 'confine/no-policy-file', `--load-policy needs a policy file for ${label}`)] };
      }
      const args = ['-r', ...(request.includeDirs ?? []).flatMap((dir) => ['-I', dir]), request.policyFile];
      const text = await readFile(request.policyFile, 'utf8').catch(() => undefined);
      const key = `${args.join('\0')}\0${text ?? `unread ${Date.now()}`}`;
      if (!this.loaded.has(key)) {
        const result = this.runParser(args);
        if (result.status !== 0) {
          return { diagnostics: [requestDiagnostic(request.policyFile, 'confine/policy-load-failed', `apparmor_parser ${args.join(' ')} failed: ${result.stderr.trim() || `exit ${result.status}`}`)] };
        }
        if (text !== undefined) this.loaded.add(key);
        await this.loadedProfiles(true);
      }
    }
    const profiles = await this.loadedProfiles();
    for (const name of request.hat === null ? [request.profile] : [request.profile, label]) {
      if (!profiles.has(name)) {
        return {
          diagnostics: [requestDiagnostic(file, 'confine/profile-not-loaded', `AppArmor profile ${name} is not loaded in the kernel`, 'error', 'load the policy with `apparmor_parser -r FILE` or start hatter serve with --load-policy')],
        };
      }
    }
    const mode = profiles.get(label);
    const warnings: string[] = [];
    if (mode === 'complain') warnings.push(`${label}: AppArmor profile is in complain mode: denials are logged, not enforced`);
    const supervisor = availability.details.supervisorLabel;
    if (supervisor !== request.profile) {
      warnings.push(`${label}: the supervisor runs as ${String(supervisor)}, not ${request.profile}; run it under the parent profile (systemd AppArmorProfile=${request.profile})`);
    }
    // Defence in depth: the launcher also keeps only the hat's capabilities, so a worker holds none that
    // the kernel would refuse anyway. Without the policy text they cannot be known: keep none.
    let capabilities = grantedCapabilities([], request.runtime.capabilities);
    if (request.policyFile) {
      const read = readHatRules(request.policyFile, request.profile, request.hat, { ...(request.includeDirs ? { includeDirs: request.includeDirs } : {}) });
      if (read.rules) capabilities = grantedCapabilities(read.rules.others, request.runtime.capabilities);
      else warnings.push(`${label}: cannot read the hat's capability rules (${read.diagnostics[0]?.message ?? 'unknown error'}); the launcher keeps no capability`);
    } else {
      warnings.push(`${label}: no policy file: the launcher keeps no capability (AppArmor still enforces the loaded hat)`);
    }
    const plan: LaunchPlan = {
      apparmor: { label, attrRoot: `${this.roots.proc}/self` },
      capabilities: capabilities.numbers,
      // no_new_privs would make the kernel refuse the exec transition into the hat
      noNewPrivs: false,
      ...(request.uid !== undefined ? { uid: request.uid } : {}),
      ...(request.gid !== undefined ? { gid: request.gid } : {}),
    };
    return {
      prepared: {
        backend: 'apparmor',
        label,
        launcher: this.launcher,
        plan,
        summary: { backend: 'apparmor', label, mode: mode ?? null, supervisor: supervisor ?? null, capabilities: capabilities.names, uid: request.uid ?? null, gid: request.gid ?? null },
        warnings,
      },
      diagnostics,
    };
  }

  spawn(prepared: PreparedConfinement, command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
    if (prepared.backend !== 'apparmor' || !('plan' in prepared)) throw new Error(`backend apparmor cannot spawn a ${prepared.backend} confinement`);
    const apparmor = prepared as AppArmorPrepared;
    const plan: LaunchPlan = { ...apparmor.plan, keepFds: intendedFds(options.stdio) };
    return spawn(apparmor.launcher, [...launcherArgs(plan), '--', command, ...args], options);
  }

  async verify(prepared: PreparedConfinement, pid: number): Promise<{ readonly ok: boolean; readonly detail: string }> {
    const launcher = 'launcher' in prepared ? (prepared as AppArmorPrepared).launcher : undefined;
    const readLabel = (): Promise<string> => readFile(`${this.roots.proc}/${pid}/attr/apparmor/current`, 'utf8').catch(() => readFile(`${this.roots.proc}/${pid}/attr/current`, 'utf8'));
    const verdict = (text: string): { readonly ok: boolean; readonly detail: string } => {
      const { label, mode } = parseCurrentLabel(text);
      const runs = `process ${pid} runs as ${label}${mode ? ` (${mode})` : ''}`;
      return label === prepared.label ? { ok: true, detail: runs } : { ok: false, detail: `${runs}, expected ${prepared.label}: refusing it` };
    };
    try {
      const first = verdict(await readLabel());
      if (first.ok) return first;
      // Still a fork of this process or still in the launcher (the label changes at execve): wait for
      // it to get past both, then judge the label it has then (the one read above may be from before).
      // A process whose executable /proc does not show is judged on its label at once.
      const exe = await startedProgram(this.roots.proc, pid, launcher).catch(() => '');
      if (exe === undefined) return { ok: false, detail: `process ${pid} is still in the launcher (or not yet started) after 500 ms` };
      return verdict(await readLabel());
    } catch (error) {
      return { ok: false, detail: `cannot read the label of process ${pid}: ${(error as Error).message}` };
    }
  }
}
