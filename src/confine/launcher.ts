// The native restrict-then-exec helper (native/hatter-launch.c): where it is, what it reports, and the
// argument vector that asks it for a given confinement.
import { spawnSync, type SpawnOptions } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readSync, realpathSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { capabilityMask } from './capabilities.js';
import { socketGrantText, type SocketGrant } from './sockets.js';

export const LAUNCHER_SETUP_FAILURE = 125;

/** One Landlock grant: everything beneath `path` (or the file itself) gets these rights. */
export interface LandlockPathRule {
  readonly path: string;
  readonly read: boolean;
  readonly write: boolean;
  readonly exec: boolean;
}

/** Everything the launcher needs to confine one worker. */
export interface LaunchPlan {
  readonly landlock?: {
    readonly paths: readonly LandlockPathRule[];
    /** Handle TCP: only the listed ports may be bound / connected to. */
    readonly network?: { readonly bind: readonly number[]; readonly connect: readonly number[] };
    /** Scope abstract unix sockets and signals to the domain. */
    readonly scoped: boolean;
    /** Rights (r, w, x letters) beneath the worker's own /proc/<pid>, which /proc/self resolves to. */
    readonly ownProc?: readonly string[];
  };
  /** Keep exactly these capabilities (kernel numbers) in every set; absent: leave them as they are. */
  readonly capabilities?: readonly number[];
  /** Allow only these sockets (seccomp filter); absent: no filter. */
  readonly sockets?: readonly SocketGrant[];
  readonly apparmor?: { readonly label: string; readonly stack?: boolean; readonly attrRoot?: string };
  readonly keepFds?: readonly number[];
  /**
   * Set no_new_privs before execve (default true). Landlock requires it; an AppArmor hat transition
   * must not have it (the kernel refuses exec transitions that are not subsets under NNP).
   */
  readonly noNewPrivs?: boolean;
  readonly uid?: number;
  readonly gid?: number;
}

/** The launcher's argument vector (everything before `--`). */
export function launcherArgs(plan: LaunchPlan): string[] {
  const args: string[] = [];
  if (plan.apparmor) {
    args.push('-A', plan.apparmor.label);
    if (plan.apparmor.stack) args.push('-S');
    if (plan.apparmor.attrRoot) args.push('-T', plan.apparmor.attrRoot);
  }
  if (plan.landlock) {
    args.push('-L');
    for (const rule of plan.landlock.paths) {
      if (rule.exec) args.push('-x', rule.path);
      else if (rule.read) args.push('-r', rule.path);
      if (rule.write) args.push('-w', rule.path);
    }
    if (plan.landlock.network) {
      args.push('-N');
      for (const port of plan.landlock.network.bind) args.push('-b', String(port));
      for (const port of plan.landlock.network.connect) args.push('-c', String(port));
    }
    if (plan.landlock.scoped) args.push('-s');
    for (const entry of plan.landlock.ownProc ?? []) args.push('-P', entry);
  }
  if (plan.capabilities) args.push('-C', capabilityMask(plan.capabilities));
  if (plan.sockets) {
    args.push('-Y');
    for (const grant of plan.sockets) args.push('-F', socketGrantText(grant));
  }
  for (const fd of plan.keepFds ?? []) args.push('-k', String(fd));
  if (plan.noNewPrivs === false) args.push('-n');
  if (plan.gid !== undefined) args.push('-g', String(plan.gid));
  if (plan.uid !== undefined) args.push('-u', String(plan.uid));
  return args;
}

/**
 * Descriptors the caller hands the worker on purpose (stdio entries from index 3 on, other than 'ipc',
 * which the launcher keeps through NODE_CHANNEL_FD, and 'ignore'): the launcher must keep them open.
 * Everything else the supervisor happens to hold is closed at the worker's execve.
 */
export function intendedFds(stdio: SpawnOptions['stdio']): number[] {
  if (!Array.isArray(stdio)) return [];
  const keep: number[] = [];
  stdio.forEach((entry, fd) => {
    if (fd < 3 || entry === 'ipc' || entry === 'ignore' || entry === null || entry === undefined) return;
    keep.push(fd);
  });
  return keep;
}

/** Where the built launcher is: $HATTER_LAUNCHER, else native/build/hatter-launch above this module or the cwd. */
export function findLauncher(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string | undefined {
  if (env.HATTER_LAUNCHER) return isExecutable(env.HATTER_LAUNCHER) ? resolve(env.HATTER_LAUNCHER) : undefined;
  for (const start of [dirname(fileURLToPath(import.meta.url)), cwd]) {
    let dir = start;
    for (;;) {
      const candidate = join(dir, 'native', 'build', 'hatter-launch');
      if (isExecutable(candidate)) return candidate;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface LandlockProbe {
  readonly abi: number;
  readonly errata: number;
}

const probeCache = new Map<string, LandlockProbe | { error: string }>();

/** Ask the launcher which Landlock ABI the kernel offers (0: none). Cached per launcher path. */
export function probeLandlock(launcher: string): LandlockProbe | { error: string } {
  const cached = probeCache.get(launcher);
  if (cached) return cached;
  const result = spawnSync(launcher, ['--probe'], { encoding: 'utf8', timeout: 5000 });
  let answer: LandlockProbe | { error: string };
  const match = /^landlock-abi (\d+) errata (\d+)$/m.exec(result.stdout ?? '');
  if (result.status === 0 && match) answer = { abi: Number(match[1]), errata: Number(match[2]) };
  else answer = { error: result.error?.message ?? (result.stderr || `exit ${result.status}`).trim() };
  probeCache.set(launcher, answer);
  return answer;
}

/**
 * The kernel audit's switch, asked through the launcher (AUDIT_GET over netlink, which Node cannot open):
 * true on (or locked on), false off, undefined when it cannot be asked (not root, no launcher). Never changes it.
 */
export function kernelAuditEnabled(launcher: string | undefined): boolean | undefined {
  if (launcher === undefined) return undefined;
  const result = spawnSync(launcher, ['--audit-status'], { encoding: 'utf8', timeout: 5000 });
  const match = /^audit-enabled (\d+)$/m.exec(result.stdout ?? '');
  return result.status === 0 && match ? match[1] !== '0' : undefined;
}

/**
 * Resolve a command the way execvp would, then realpath it, outside any sandbox: the confined side needs
 * EXECUTE on the real file, and a path found now cannot be swapped through a PATH entry later.
 */
export function resolveCommand(command: string, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string | undefined {
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : resolve(cwd, command)]
    : (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const candidate of candidates) {
    if (existsSync(candidate) && isExecutable(candidate)) {
      try {
        return realpathSync(candidate);
      } catch {
        // vanished between the checks; try the next
      }
    }
  }
  return undefined;
}

/**
 * What a Node worker needs beyond its hat under Landlock (confinement-backends.md §b): EXECUTE on the
 * binary and its ELF interpreter only (the kernel checks EXECUTE at execve; shared libraries are mapped
 * after a plain open, which needs read), read on the libraries, the loader cache, OpenSSL's config
 * (Debian's Node aborts without it), /dev/null and the NODE_EXTRA_CA_CERTS file when set. Add the worker's own
 * script and the site's files separately.
 */
export function nodeRuntimeNeeds(env: NodeJS.ProcessEnv = process.env, executable: string = process.execPath): { read: string[]; write: string[]; exec: string[] } {
  const binary = realpathOr(executable);
  const interpreter = elfInterpreter(binary);
  // /dev/null: libuv opens it (else /) for its EMFILE reserve descriptor on every listen/accept.
  const read = ['/etc/ld.so.cache', '/etc/ssl/openssl.cnf', '/dev/null', '/usr/lib', '/usr/lib64', '/usr/lib32', '/usr/local/lib'].filter((path) => existsSync(path));
  if (env.NODE_EXTRA_CA_CERTS) read.push(env.NODE_EXTRA_CA_CERTS);
  const exec = [binary, ...(interpreter ? [realpathOr(interpreter)] : ['/usr/lib', '/usr/lib64'].filter((path) => existsSync(path)))];
  return { read: [...new Set(read)], write: [], exec: [...new Set(exec)] };
}

/** The PT_INTERP path of an ELF executable (the dynamic loader), or undefined (static, not ELF, unreadable). */
export function elfInterpreter(path: string): string | undefined {
  let header: Buffer;
  try {
    const fd = openSync(path, 'r');
    try {
      header = Buffer.alloc(65536);
      const n = readSync(fd, header, 0, header.length, 0);
      header = header.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (header.length < 64 || header.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = header[4] === 2;
  const little = header[5] === 1;
  const u16 = (at: number) => (little ? header.readUInt16LE(at) : header.readUInt16BE(at));
  const u32 = (at: number) => (little ? header.readUInt32LE(at) : header.readUInt32BE(at));
  const word = (at: number) => (is64 ? Number(little ? header.readBigUInt64LE(at) : header.readBigUInt64BE(at)) : u32(at));
  const phoff = word(is64 ? 0x20 : 0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + phentsize > header.length) return undefined;
    if (u32(at) !== 3) continue; // PT_INTERP
    const offset = word(at + (is64 ? 8 : 4));
    const size = word(at + (is64 ? 32 : 16));
    if (offset + size > header.length || size < 2) return undefined;
    return header.subarray(offset, offset + size).toString('latin1').replace(/\0.*$/s, '');
  }
  return undefined;
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
