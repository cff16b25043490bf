// Backend `landlock`: the hat's rules as a Landlock ruleset, applied by the launcher before execve.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { labelOf, requestDiagnostic, startedProgram, type BackendAvailability, type ConfinementBackend, type ConfinementRequest, type PreparedConfinement } from './backend.js';
import { findLauncher, intendedFds, launcherArgs, probeLandlock, resolveCommand, type LandlockPathRule, type LaunchPlan } from './launcher.js';
import { planLandlock, type LandlockTranslation } from './landlock-plan.js';
import type { WideningEntry } from './widening.js';
import type { Diagnostic } from '../policy/index.js';
import { socketGrantName } from './sockets.js';
import { capabilitySetsBeyond } from './capabilities.js';

export interface LandlockPrepared extends PreparedConfinement {
  readonly backend: 'landlock';
  readonly launcher: string;
  readonly plan: LaunchPlan;
  readonly translation: LandlockTranslation;
}

export interface LandlockBackendOptions {
  /** Path of the launcher; default: findLauncher(). */
  readonly launcher?: string;
  readonly procRoot?: string;
}

/** Startup lines: one headline per pool, then each widening that names a path (global gaps once in the headline). */
export function wideningWarnings(label: string, widening: readonly WideningEntry[], policyFile?: string): string[] {
  if (widening.length === 0) return [];
  const global = new Set(['metadata', 'unix', 'network', 'signal']);
  const kinds = [...new Set(widening.filter((w) => global.has(w.kind)).map((w) => w.kind))];
  const explain = policyFile ? ` (details: hatter confine explain --policy ${policyFile} --backend landlock ${label})` : '';
  return [
    `${label}: Landlock grants more than the hat in ${widening.length} ways${kinds.length ? `, including ${kinds.join(', ')} (never mediated by Landlock)` : ''}${explain}`,
    ...widening.filter((w) => !global.has(w.kind)).map((w) => `${label}: Landlock widening [${w.kind}]: ${w.summary}`),
  ];
}

/** Startup lines for hat rules granted less than they say (a worker may then fail where AppArmor would not). */
export function narrowingWarnings(label: string, narrowing: readonly WideningEntry[]): string[] {
  return narrowing.map((n) => `${label}: Landlock narrowing [${n.kind}]: ${n.summary}${n.source ? ` (${n.source})` : ''}`);
}

export class LandlockBackend implements ConfinementBackend {
  readonly name = 'landlock' as const;
  private readonly launcher: string | undefined;
  private readonly procRoot: string;

  constructor(options: LandlockBackendOptions = {}) {
    this.launcher = options.launcher ?? findLauncher();
    this.procRoot = options.procRoot ?? '/proc';
  }

  async probe(): Promise<BackendAvailability> {
    if (process.platform !== 'linux') return { available: false, reason: 'Landlock exists only on Linux', details: {} };
    if (!this.launcher) {
      return { available: false, reason: 'the launcher native/build/hatter-launch is not built (run `node scripts/build-native.mjs`; needs a C compiler)', details: {} };
    }
    const probe = probeLandlock(this.launcher);
    if ('error' in probe) return { available: false, reason: `the launcher failed to probe Landlock: ${probe.error}`, details: { launcher: this.launcher } };
    if (probe.abi < 1) return { available: false, reason: 'the kernel has no Landlock (ABI 0: not built in, or not in the lsm= list)', details: { launcher: this.launcher, abi: 0 } };
    return { available: true, reason: `Landlock ABI ${probe.abi}`, details: { launcher: this.launcher, abi: probe.abi, errata: probe.errata } };
  }

  async prepare(request: ConfinementRequest): Promise<{ prepared?: LandlockPrepared; diagnostics: readonly Diagnostic[] }> {
    const availability = await this.probe();
    const label = labelOf(request);
    if (!availability.available || !this.launcher) {
      return { diagnostics: [requestDiagnostic(request.policyFile ?? '<request>', 'confine/landlock-unavailable', `cannot confine ${label} with Landlock: ${availability.reason}`)] };
    }
    const abi = availability.details.abi as number;
    const { translation, diagnostics } = await planLandlock(request, abi);
    if (!translation) return { diagnostics };
    const plan: LaunchPlan = {
      landlock: { paths: translation.paths, network: translation.network, scoped: translation.scoped, ...(translation.ownProc ? { ownProc: translation.ownProc } : {}) },
      capabilities: translation.capabilities.numbers,
      ...(translation.sockets.all ? {} : { sockets: translation.sockets.grants }),
      ...(request.uid !== undefined ? { uid: request.uid } : {}),
      ...(request.gid !== undefined ? { gid: request.gid } : {}),
    };
    const warnings = [...wideningWarnings(label, translation.widening, request.policyFile), ...narrowingWarnings(label, translation.narrowing)];
    return {
      prepared: {
        backend: 'landlock',
        label,
        launcher: this.launcher,
        plan,
        translation,
        summary: {
          backend: 'landlock',
          abi,
          errata: availability.details.errata ?? 0,
          pathRules: translation.paths.length,
          network: translation.network
            ? `tcp restricted: bind [${translation.network.bind.join(', ')}], connect [${translation.network.connect.join(', ')}]`
            : abi >= 4 ? 'tcp not restricted: the hat allows TCP' : `tcp not restricted: Landlock ABI ${abi} has no network rules`,
          scoped: translation.scoped,
          capabilities: translation.capabilities.names,
          sockets: translation.sockets.all ? 'all (the hat allows every socket)' : translation.sockets.grants.map(socketGrantName),
          uid: request.uid ?? null,
          gid: request.gid ?? null,
          widening: translation.widening.map((w) => w.summary),
          narrowing: translation.narrowing.map((w) => w.summary),
          ownProc: translation.ownProc ?? null,
        },
        warnings,
      },
      diagnostics,
    };
  }

  spawn(prepared: PreparedConfinement, command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
    if (prepared.backend !== 'landlock' || !('plan' in prepared)) throw new Error(`backend landlock cannot spawn a ${prepared.backend} confinement`);
    const landlock = prepared as LandlockPrepared;
    const env = options.env ?? process.env;
    const cwd = typeof options.cwd === 'string' ? options.cwd : options.cwd ? options.cwd.pathname : process.cwd();
    const resolved = resolveCommand(command, env, cwd);
    // Unresolvable: let the launcher's execvp report it (exit 125 after the sandbox is in place).
    const executable = resolved ?? command;
    const extra: LandlockPathRule[] = resolved ? [{ path: resolved, read: true, write: false, exec: true }] : [];
    const plan: LaunchPlan = {
      ...landlock.plan,
      landlock: { ...landlock.plan.landlock!, paths: [...landlock.plan.landlock!.paths, ...extra] },
      keepFds: intendedFds(options.stdio),
    };
    return spawn(landlock.launcher, [...launcherArgs(plan), '--', executable, ...args], options);
  }

  async verify(prepared: PreparedConfinement, pid: number): Promise<{ readonly ok: boolean; readonly detail: string }> {
    if (prepared.backend !== 'landlock' || !('launcher' in prepared)) return { ok: false, detail: `not a Landlock confinement (${prepared.backend})` };
    const launcher = (prepared as LandlockPrepared).launcher;
    // The launcher exits 125 when any step fails, so a process that is past execve with no_new_privs set
    // went through landlock_restrict_self. no_new_privs is never cleared; its status is read only once
    // the process is past the launcher (startedProgram), so it is never the fork's or the launcher's.
    let exe: string | undefined;
    let status: string;
    try {
      exe = await startedProgram(this.procRoot, pid, launcher);
      if (exe === undefined) return { ok: false, detail: `process ${pid} is still in the launcher (or not yet started) after 500 ms` };
      status = await readFile(`${this.procRoot}/${pid}/status`, 'utf8');
    } catch (error) {
      return { ok: false, detail: `cannot inspect process ${pid}: ${(error as Error).message}` };
    }
    const nnp = /^NoNewPrivs:\s*(\d)/m.exec(status)?.[1];
    if (nnp !== '1') return { ok: false, detail: `process ${pid} runs ${exe} without no_new_privs: it did not pass the launcher` };
    const kept = (prepared as Partial<LandlockPrepared>).plan?.capabilities;
    const beyond = kept ? capabilitySetsBeyond(status, kept, process.getuid?.() === 0) : [];
    if (beyond.length) return { ok: false, detail: `process ${pid} runs ${exe} with capabilities its hat does not grant (${beyond.join(', ')})` };
    return { ok: true, detail: `process ${pid} runs ${exe} inside a Landlock domain (launched by ${launcher}, no_new_privs set)` };
  }
}
