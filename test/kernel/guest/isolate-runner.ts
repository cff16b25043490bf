// Runs INSIDE the kernel VM for test/kernel/isolate.test.ts. Two modes:
//   node isolate-runner.js prepare PLAN.json   (root, unconfined): creates the tenants' trees and the
//                                              files every access needs (witness files, exec copies).
//   node isolate-runner.js run PLAN.json PEERS RESULTS.json   (under the parent profile, aa-exec; PEERS
//     has one `HAT PID` line per process sitting in a hat, the receivers of signal accesses):
//     for each hat, change_hat into it with hatter's command bytes, perform its accesses with
//     synchronous calls on the main thread (the thread the hat confines), return to the parent, and
//     only then write the outcomes (a write inside the hat would itself be mediated).
import {
  chmodSync, closeSync, copyFileSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync,
  constants as fs,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { constants } from 'node:os';
import { changeHatCommand } from '../../../src/confine/change-hat.js';

/** One access performed inside a hat. `path2`: rename destination or new link name; `arg`: helper argument. */
export interface IsolateAccess {
  readonly id: number;
  readonly hat: string;
  readonly op: 'read' | 'read-dir' | 'write' | 'append' | 'create' | 'mkdir' | 'unlink' | 'rename' | 'link' | 'exec'
    | 'map-exec' | 'exec-helper' | 'change_profile' | 'signal';
  readonly path: string;
  readonly path2?: string;
  readonly arg?: string;
}

export interface IsolatePlan {
  readonly hats: readonly string[];
  readonly accesses: readonly IsolateAccess[];
  /** Created before the run, as root: directories, plain files, and copies of an executable. */
  readonly dirs: readonly string[];
  readonly files: readonly string[];
  readonly executables: readonly { readonly path: string; readonly from: string }[];
  /** Paths that must not exist when the run starts (the create/mkdir accesses make them). */
  readonly absent: readonly string[];
}

export interface IsolateOutcome { readonly id: number; readonly ok: boolean; readonly errno?: string; readonly label: string }

function errnoName(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { status?: number | null };
  // execFileSync: a spawn failure has an errno; a program that ran and failed has a status.
  if (typeof e.status === 'number') return `EXIT${e.status}`;
  const signal = (e as { signal?: string | null }).signal;
  if (typeof signal === 'string') return `KILLED-${signal}`;
  const number = typeof e.errno === 'number' ? Math.abs(e.errno) : undefined;
  return Object.entries(constants.errno).find(([, v]) => v === number)?.[0] ?? e.code ?? 'UNKNOWN';
}

function prepare(plan: IsolatePlan): void {
  for (const dir of plan.dirs) mkdirSync(dir, { recursive: true });
  for (const file of plan.files) { mkdirSync(dirname(file), { recursive: true }); writeFileSync(file, 'hatter isolate kernel test\n'); }
  for (const { path, from } of plan.executables) { mkdirSync(dirname(path), { recursive: true }); copyFileSync(from, path); chmodSync(path, 0o755); }
  for (const path of plan.absent) { mkdirSync(dirname(path), { recursive: true }); if (existsSync(path)) rmSync(path, { recursive: true }); }
}

/**
 * mmap(PROT_EXEC) of a file, from the hat's own thread: dlopen maps an ELF's code segment executable
 * before it looks at the file's flags, and then refuses a position-independent executable (the witness
 * is a copy of /usr/bin/true) without running any of it. That refusal means the mapping was allowed;
 * "failed to map segment" is the kernel's EACCES on the mapping, "cannot open" one on the open.
 */
function mapExec(path: string): void {
  try {
    process.dlopen({ exports: {} }, path);
  } catch (error) {
    const message = (error as Error).message;
    if (/position-independent executable/.test(message)) return;
    const denied = /Permission denied|failed to map segment/.test(message);
    throw Object.assign(new Error(message), { errno: denied ? -constants.errno.EACCES : undefined, code: denied ? 'EACCES' : 'DLOPEN' });
  }
}

function perform(access: IsolateAccess, peers: Readonly<Record<string, number>>): void {
  switch (access.op) {
    case 'read': closeSync(openSync(access.path, fs.O_RDONLY)); return;
    case 'read-dir': closeSync(openSync(access.path, fs.O_RDONLY | fs.O_DIRECTORY)); return;
    case 'write': closeSync(openSync(access.path, fs.O_WRONLY)); return;
    case 'append': closeSync(openSync(access.path, fs.O_WRONLY | fs.O_APPEND)); return;
    case 'create': closeSync(openSync(access.path, fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL, 0o644)); return;
    case 'mkdir': mkdirSync(access.path); return;
    case 'unlink': unlinkSync(access.path); return;
    case 'rename': renameSync(access.path, access.path2!); return;
    case 'link': linkSync(access.path, access.path2!); return;
    case 'exec': execFileSync(access.path, [], { stdio: 'ignore' }); return;
    case 'map-exec': mapExec(access.path); return;
    case 'exec-helper': execFileSync(access.path, [access.arg!], { stdio: 'ignore' }); return;
    // aa-exec runs in the hat (ix) and asks for the profile at its next exec (change_onexec): the
    // kernel decides with the hat's change_profile rules.
    case 'change_profile': execFileSync('/usr/bin/aa-exec', ['-p', access.path, '--', '/usr/bin/true'], { stdio: 'ignore' }); return;
    case 'signal': process.kill(peers[access.path]!, 'SIGWINCH'); return;
  }
}

function run(plan: IsolatePlan, peers: Readonly<Record<string, number>>): IsolateOutcome[] {
  const token = 0x1501a7e5eed00001n;
  const attr = '/proc/thread-self/attr/current';
  const results: IsolateOutcome[] = [];
  for (const hat of plan.hats) {
    const enter = changeHatCommand(token, hat);
    const leave = changeHatCommand(token, null);
    if (!Buffer.isBuffer(enter) || !Buffer.isBuffer(leave)) throw new Error('hatter refused the change_hat command');
    writeFileSync(attr, enter);
    const label = readFileSync(attr, 'utf8').replace(/\0/g, '').trim();
    const batch: IsolateOutcome[] = [];
    for (const access of plan.accesses) {
      if (access.hat !== hat) continue;
      try { perform(access, peers); batch.push({ id: access.id, ok: true, label }); } catch (error) {
        batch.push({ id: access.id, ok: false, errno: errnoName(error), label });
      }
    }
    writeFileSync(attr, leave);
    results.push(...batch);
  }
  return results;
}

const [mode, planFile, ...rest] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planFile!, 'utf8')) as IsolatePlan;
if (mode === 'prepare') prepare(plan);
else if (mode === 'run') {
  const [peersFile, resultsFile] = rest as [string, string];
  const peers: Record<string, number> = {};
  for (const line of readFileSync(peersFile, 'utf8').split('\n')) {
    const [hat, pid] = line.trim().split(/\s+/);
    if (hat && pid) peers[hat] = Number(pid);
  }
  const results = run(plan, peers);
  writeFileSync(resultsFile, JSON.stringify(results));
}
