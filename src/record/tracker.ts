// strace records → the AuditEvents `hatter logs` produces for complain-mode lines, so `hatter learn`
// reads a recording exactly like an audit log. Keeps the process tree (who forked whom, each process's
// label, cwd and executable) and the fds that name directories and sockets, and resolves every path the
// way AppArmor sees it. Pure except for the host's view of the file system (RecordHost), which tests replace.
import { parseLabel, type AuditEvent, type EventObject, type EventType, type NetworkTuple } from '../logs/index.js';
import { vocabulary } from '../policy/index.js';
import { fdArgument, flagSet, stringArgument, type StraceCall, type StraceRecord, type TraceDiagnostic } from './strace-line.js';
import { joinPath, procSelf } from './paths.js';
import { UNCONFINED_LABEL, type ExecTransitions } from './transitions.js';

/** What the recorder asks the file system at record time (symlinks resolve to what the kernel would see). */
export interface RecordHost {
  /** The canonical path of an existing file (symlinks and `..` resolved), or undefined when it is missing. */
  realpath(path: string): string | undefined;
  isDirectory(path: string): boolean;
  /** The interpreter a script's `#!` line names (the file's first bytes), or undefined for any other file. */
  interpreter?(path: string): string | undefined;
}

/** The interpreter of a `#!` line as the kernel reads it: the first word after `#!`, up to the line's end. */
export function interpreterOf(head: string): string | undefined {
  if (!head.startsWith('#!')) return undefined;
  const line = head.slice(2).split('\n', 1)[0]!;
  const word = line.trim().split(/[ \t]/, 1)[0];
  return word && word.startsWith('/') ? word : undefined;
}

export interface TrackerOptions {
  /** Label of the traced program's first process (`profile` or `profile//hat`). */
  readonly label: string;
  /** Its working directory at start. */
  readonly cwd: string;
  readonly host: RecordHost;
  /** Where an exec leads (a Px/Cx target, or unconfined): the process takes that label, as under the kernel. */
  readonly transitions?: ExecTransitions;
  /** The uid the program runs as (chown to another uid needs CAP_CHOWN). */
  readonly uid?: number;
  /** The trace file, for provenance in events. */
  readonly file?: string;
}

interface ProcessState {
  label: string;
  cwd: string;
  exe?: string;
  readonly parent?: number;
  /** fd → what -yy said it is (a path, or `TCP:[...]`, `UNIX-STREAM:[...]`). */
  readonly fds: Map<number, string>;
}

/** How the call ended, as learn should weigh it. */
type Outcome = { readonly type: EventType; readonly error?: number; readonly errno?: string };

const ERRNO_NUMBERS: Readonly<Record<string, number>> = { EPERM: 1, ENOENT: 2, EACCES: 13, EEXIST: 17, ENOTDIR: 20, EISDIR: 21, ELOOP: 40, ECONNREFUSED: 111, EADDRINUSE: 98 };

/** Buffered records of processes whose parent's fork has not returned yet (strace prints the child first). */
const MAX_WAITING = 10_000;

export class EventTracker {
  private readonly processes = new Map<number, ProcessState>();
  private readonly waiting = new Map<number, StraceRecord[]>();
  private waitingCount = 0;
  private root: number | undefined;
  /** The first process's own execve (of the recorded program) is how it enters the profile, not a need of it. */
  private startingExec = true;
  readonly diagnostics: TraceDiagnostic[] = [];

  constructor(private readonly options: TrackerOptions) {}

  /** The events one record produces (none for most: process bookkeeping, signals received). */
  push(record: StraceRecord): AuditEvent[] {
    if (this.root === undefined) {
      this.root = record.pid;
      this.processes.set(record.pid, { label: this.options.label, cwd: this.options.cwd, fds: new Map() });
    }
    const process = this.processes.get(record.pid);
    if (!process) {
      // A child whose fork has not returned in its parent yet: wait for it (bounded), else guess the root.
      if (this.waitingCount < MAX_WAITING) {
        const list = this.waiting.get(record.pid) ?? [];
        list.push(record);
        this.waiting.set(record.pid, list);
        this.waitingCount++;
        return [];
      }
      this.adopt(record.pid, this.root);
      return this.push(record);
    }
    const events = record.kind === 'call' ? this.call(record.pid, process, record) : [];
    if (record.kind === 'exit') this.processes.delete(record.pid);
    // A process that left confinement (ux) is not mediated: the kernel would log nothing of it.
    return events.length && process.label === UNCONFINED_LABEL ? events.filter((event) => event.label?.text !== UNCONFINED_LABEL) : events;
  }

  /** At the end: processes still waiting for their parent are attributed to the first process. */
  finish(): AuditEvent[] {
    const events: AuditEvent[] = [];
    for (const pid of [...this.waiting.keys()]) {
      if (this.root !== undefined) this.adopt(pid, this.root);
      events.push(...this.release(pid));
    }
    return events;
  }

  /** Label a pid currently has (for signals' peers); undefined when it is not one of ours. */
  labelOf(pid: number): string | undefined {
    return this.processes.get(pid)?.label;
  }

  private adopt(pid: number, parent: number | undefined): void {
    const from = parent === undefined ? undefined : this.processes.get(parent);
    this.processes.set(pid, {
      label: from?.label ?? this.options.label,
      cwd: from?.cwd ?? this.options.cwd,
      ...(from?.exe ? { exe: from.exe } : {}),
      ...(parent !== undefined ? { parent } : {}),
      fds: new Map(from?.fds ?? []),
    });
  }

  private release(pid: number): AuditEvent[] {
    const list = this.waiting.get(pid);
    if (!list) return [];
    this.waiting.delete(pid);
    this.waitingCount -= list.length;
    return list.flatMap((record) => this.push(record));
  }

  private call(pid: number, process: ProcessState, call: StraceCall): AuditEvent[] {
    const { name, args, result } = call;
    // Every AT_FDCWD</path> tells the cwd; every fd argument tells what the fd is.
    for (const arg of args) {
      const fd = fdArgument(arg);
      if (fd?.annotation === undefined) continue;
      if (fd.fd === -100) process.cwd = fd.annotation;
      else process.fds.set(fd.fd, fd.annotation);
    }
    const ok = result.errno === undefined;
    switch (name) {
      case 'clone': case 'clone3': case 'fork': case 'vfork': {
        if (!ok || result.value === undefined || result.value <= 0) return [];
        if (/CLONE_THREAD/.test(args.join(','))) {
          // A thread shares the process: same state object.
          this.processes.set(result.value, process);
          return this.release(result.value);
        }
        this.adopt(result.value, pid);
        return this.release(result.value);
      }
      case 'chdir': {
        const path = this.resolve(process, -100, stringArgument(args[0])?.value, true);
        if (ok && path) process.cwd = path;
        return [];
      }
      case 'fchdir': {
        const fd = fdArgument(args[0]);
        if (ok && fd?.annotation?.startsWith('/')) process.cwd = fd.annotation;
        return [];
      }
      case 'open': case 'creat': return this.open(pid, process, call, -100, args[0], name === 'creat' ? 'O_WRONLY|O_CREAT|O_TRUNC' : args[1]);
      case 'openat': case 'openat2': return this.open(pid, process, call, fdArgument(args[0])?.fd ?? -100, args[1], name === 'openat2' ? /flags=([^,}]+)/.exec(args[2] ?? '')?.[1] : args[2]);
      case 'execve': case 'execveat': return this.exec(pid, process, call);
      case 'unlink': return this.file(pid, process, call, 'unlink', 'd', -100, args[0], false);
      case 'unlinkat': return this.file(pid, process, call, /AT_REMOVEDIR/.test(args[2] ?? '') ? 'rmdir' : 'unlink', 'd', dirfd(args[0]), args[1], false, /AT_REMOVEDIR/.test(args[2] ?? ''));
      case 'rmdir': return this.file(pid, process, call, 'rmdir', 'd', -100, args[0], false, true);
      case 'mkdir': return this.file(pid, process, call, 'mkdir', 'c', -100, args[0], false, true);
      case 'mkdirat': return this.file(pid, process, call, 'mkdir', 'c', dirfd(args[0]), args[1], false, true);
      case 'truncate': return this.file(pid, process, call, 'truncate', 'w', -100, args[0], true);
      case 'chmod': return this.file(pid, process, call, 'chmod', 'w', -100, args[0], true);
      case 'fchmodat': return this.file(pid, process, call, 'chmod', 'w', dirfd(args[0]), args[1], true);
      case 'chown': case 'lchown': return [...this.file(pid, process, call, 'chown', 'w', -100, args[0], name === 'chown'), ...this.chownCapability(pid, process, call, args[1])];
      case 'fchownat': return [...this.file(pid, process, call, 'chown', 'w', dirfd(args[0]), args[1], !/AT_SYMLINK_NOFOLLOW/.test(args[4] ?? '')), ...this.chownCapability(pid, process, call, args[2])];
      case 'fchown': return this.chownCapability(pid, process, call, args[1]);
      case 'rename': return this.rename(pid, process, call, -100, args[0], -100, args[1]);
      case 'renameat': case 'renameat2': return this.rename(pid, process, call, dirfd(args[0]), args[1], dirfd(args[2]), args[3]);
      case 'link': return this.link(pid, process, call, -100, args[0], -100, args[1]);
      case 'linkat': return this.link(pid, process, call, dirfd(args[0]), args[1], dirfd(args[2]), args[3]);
      case 'symlink': return this.symlink(pid, process, call, args[0], -100, args[1]);
      case 'symlinkat': return this.symlink(pid, process, call, args[0], dirfd(args[1]), args[2]);
      case 'socket': {
        if (ok && result.value !== undefined && result.annotation) process.fds.set(result.value, result.annotation);
        return [];
      }
      case 'connect': case 'bind': return this.socketCall(pid, process, call);
      case 'listen': return this.socketCall(pid, process, call);
      case 'kill': case 'tkill': return this.signal(pid, process, call, args[0], args[1]);
      case 'tgkill': return this.signal(pid, process, call, args[0], args[2]);
      case 'close': {
        const fd = fdArgument(args[0]);
        if (fd) process.fds.delete(fd.fd);
        return [];
      }
      default: return [];
    }
  }

  // ---------- paths ----------

  /**
   * The path AppArmor would see for (dirfd, path): absolute, `.`/`..` and symlinks resolved. `follow`:
   * whether the last component is followed (open, exec, chmod) or named itself (unlink, rename, symlink).
   */
  private resolve(process: ProcessState, dirFd: number, path: string | undefined, follow: boolean): string | undefined {
    if (path === undefined) return undefined;
    const base = path.startsWith('/') ? '/' : dirFd === -100 ? process.cwd : process.fds.get(dirFd);
    if (base === undefined || !base.startsWith('/')) return undefined;
    const joined = joinPath(base, path);
    const host = this.options.host;
    // The host's /proc/self is hatter's, not the traced process's: keep the name, procSelf() maps it.
    if (/^\/proc\/(self|thread-self)(\/|$)/.test(joined)) return joined;
    if (follow) {
      const real = host.realpath(joined);
      if (real !== undefined) return real;
    }
    if (joined === '/') return '/';
    const slash = joined.lastIndexOf('/');
    const parent = joined.slice(0, slash) || '/';
    const realParent = host.realpath(parent) ?? parent;
    return joinPath(realParent, joined.slice(slash + 1));
  }

  private open(pid: number, process: ProcessState, call: StraceCall, dirFd: number, pathArg: string | undefined, flagsArg: string | undefined): AuditEvent[] {
    const flags = flagSet(flagsArg);
    const path = stringArgument(pathArg);
    if (path?.truncated) this.diagnostics.push({ line: call.line, code: 'record/truncated-string', message: `${call.name}: path longer than strace's -s limit; left out` });
    if (!path || path.truncated) return [];
    const ok = call.result.errno === undefined;
    if (ok && call.result.value !== undefined && call.result.annotation !== undefined) process.fds.set(call.result.value, call.result.annotation);
    // O_PATH opens are not mediated by AppArmor (nor Landlock): only the later use of the fd is.
    if (flags.has('O_PATH')) return [];
    const write = flags.has('O_WRONLY') || flags.has('O_RDWR');
    let mask = '';
    if (!flags.has('O_WRONLY')) mask += 'r';
    if (write || flags.has('O_TRUNC')) mask += flags.has('O_APPEND') && !flags.has('O_TRUNC') ? 'a' : 'w';
    if (flags.has('O_CREAT') || flags.has('O_TMPFILE')) mask += 'c';
    // The fd's -yy annotation is the kernel's own name for what was opened: trust it over our resolution.
    let resolved = ok && call.result.annotation?.startsWith('/') ? call.result.annotation : this.resolve(process, dirFd, path.value, !flags.has('O_NOFOLLOW'));
    if (resolved === undefined) return [];
    const directory = flags.has('O_DIRECTORY') || (ok && this.options.host.isDirectory(resolved));
    if (directory && !resolved.endsWith('/')) resolved += '/';
    return [this.event(pid, process, call, 'open', 'file', { name: procSelf(resolved, pid) }, mask, outcomeOf(call, flags.has('O_CREAT')))];
  }

  private exec(pid: number, process: ProcessState, call: StraceCall): AuditEvent[] {
    const at = call.name === 'execveat';
    const path = stringArgument(call.args[at ? 1 : 0]);
    if (!path) return [];
    const binary = this.resolve(process, at ? dirfd(call.args[0]) : -100, path.value, true);
    if (binary === undefined) return [];
    if (this.startingExec && pid === this.root) {
      if (call.result.errno === undefined) { this.startingExec = false; process.exe = binary; }
      return [];
    }
    const outcome = outcomeOf(call, false);
    // A missing candidate on $PATH is the shell's search, not a need.
    if (outcome.errno === 'ENOENT') return [];
    const events = [this.event(pid, process, call, 'exec', 'file', { name: binary }, 'x', outcome)];
    if (call.result.errno === undefined) {
      process.exe = binary;
      const child = this.options.transitions?.(process.label, binary);
      if (child !== undefined) {
        process.label = child;
        events[0] = { ...events[0]!, object: { ...events[0]!.object, target: child } };
      }
      process.fds.clear();
      // A script: the kernel opens its interpreter for execution too (AppArmor and Landlock both check
      // it), but strace shows only the script's execve. Name the interpreter as a second exec.
      const interpreter = this.options.host.interpreter?.(binary);
      const resolved = interpreter === undefined ? undefined : this.options.host.realpath(interpreter);
      if (resolved !== undefined) events.push(this.event(pid, process, call, 'exec', 'file', { name: resolved }, 'x', outcome));
    }
    return events;
  }

  private file(pid: number, process: ProcessState, call: StraceCall, operation: string, mask: string, dirFd: number, pathArg: string | undefined, follow: boolean, directory = false): AuditEvent[] {
    const path = stringArgument(pathArg);
    if (!path || path.truncated) return [];
    let resolved = this.resolve(process, dirFd, path.value, follow);
    if (resolved === undefined) return [];
    if (directory && !resolved.endsWith('/')) resolved += '/';
    return [this.event(pid, process, call, operation, 'file', { name: procSelf(resolved, pid) }, mask, outcomeOf(call, operation === 'mkdir'))];
  }

  private rename(pid: number, process: ProcessState, call: StraceCall, fromFd: number, fromArg: string | undefined, toFd: number, toArg: string | undefined): AuditEvent[] {
    const from = this.resolve(process, fromFd, stringArgument(fromArg)?.value, false);
    const to = this.resolve(process, toFd, stringArgument(toArg)?.value, false);
    if (from === undefined || to === undefined) return [];
    const outcome = outcomeOf(call, false);
    // AppArmor checks the source for read, write and delete, the destination for write and create.
    return [
      this.event(pid, process, call, 'rename_src', 'file', { name: from, target: to }, 'rwd', outcome),
      this.event(pid, process, call, 'rename_dest', 'file', { name: to }, 'wc', outcome),
    ];
  }

  private link(pid: number, process: ProcessState, call: StraceCall, fromFd: number, fromArg: string | undefined, toFd: number, toArg: string | undefined): AuditEvent[] {
    const existing = this.resolve(process, fromFd, stringArgument(fromArg)?.value, false);
    const created = this.resolve(process, toFd, stringArgument(toArg)?.value, false);
    if (existing === undefined || created === undefined) return [];
    return [this.event(pid, process, call, 'link', 'file', { name: created, target: existing }, 'l', outcomeOf(call, true))];
  }

  private symlink(pid: number, process: ProcessState, call: StraceCall, targetArg: string | undefined, dirFd: number, pathArg: string | undefined): AuditEvent[] {
    const created = this.resolve(process, dirFd, stringArgument(pathArg)?.value, false);
    const target = stringArgument(targetArg)?.value;
    if (created === undefined) return [];
    return [this.event(pid, process, call, 'symlink', 'file', { name: created, ...(target !== undefined ? { target } : {}) }, 'c', outcomeOf(call, true))];
  }

  // ---------- capabilities, sockets, signals ----------

  private chownCapability(pid: number, process: ProcessState, call: StraceCall, uidArg: string | undefined): AuditEvent[] {
    const uid = Number(uidArg);
    if (!Number.isInteger(uid) || uid === -1 || this.options.uid === undefined || uid === this.options.uid) return [];
    return [this.capability(pid, process, call, 'chown')];
  }

  private capability(pid: number, process: ProcessState, call: StraceCall, name: string): AuditEvent {
    const number = vocabulary.CAPABILITIES.indexOf(name);
    return this.event(pid, process, call, 'capable', 'cap', { capability: name, ...(number >= 0 ? { capabilityNumber: number } : {}) }, undefined, outcomeOf(call, false));
  }

  private socketCall(pid: number, process: ProcessState, call: StraceCall): AuditEvent[] {
    const fd = fdArgument(call.args[0]);
    const described = fd?.annotation ?? (fd ? process.fds.get(fd.fd) : undefined);
    const address = call.args[1] ?? '';
    const family = /sa_family=AF_([A-Z0-9]+)/.exec(address)?.[1]?.toLowerCase() ?? familyOf(described);
    if (family === undefined) return [];
    const sockType = sockTypeOf(described);
    const network: { -readonly [K in keyof NetworkTuple]: NetworkTuple[K] } = { family: family === 'local' ? 'unix' : family };
    if (sockType) network.sockType = sockType;
    const protocol = described?.startsWith('TCP') ? 'tcp' : described?.startsWith('UDP') ? 'udp' : undefined;
    if (protocol) network.protocol = protocol;
    const port = Number(/sin6?_port=htons\((\d+)\)/.exec(address)?.[1]);
    const ip = /inet_(?:addr|pton)\((?:AF_INET6, )?"([^"]*)"/.exec(address)?.[1];
    const unixPath = stringArgument(/sun_path=("(?:[^"\\]|\\.)*")/.exec(address)?.[1])?.value;
    const outgoing = call.name === 'connect';
    if (Number.isInteger(port)) { if (outgoing) network.foreignPort = port; else network.localPort = port; }
    if (ip !== undefined) { if (outgoing) network.foreignAddr = ip; else network.localAddr = ip; }
    const events: AuditEvent[] = [];
    const outcome = outcomeOf(call, false);
    if (network.family === 'unix' && unixPath !== undefined && unixPath !== '') {
      const abstract = address.includes('sun_path=@');
      network.addr = abstract ? `@${unixPath}` : unixPath;
      if (outgoing && !abstract) {
        // Connecting to a pathname socket is a write to the socket file for AppArmor's file rules.
        const path = this.resolve(process, -100, unixPath, true);
        if (path !== undefined) events.push(this.event(pid, process, call, 'connect', 'file', { name: path }, 'w', outcome));
      }
    } else if (network.family === 'unix' && /sun_path=@"/.test(address)) {
      network.addr = `@${stringArgument(/sun_path=@("(?:[^"\\]|\\.)*")/.exec(address)?.[1])?.value ?? ''}`;
    }
    events.push(this.event(pid, process, call, call.name, 'net', { network }, call.name === 'listen' ? 'listen' : call.name, outcome));
    if (call.name === 'bind' && Number.isInteger(port) && port > 0 && port < 1024 && (network.family === 'inet' || network.family === 'inet6')) {
      events.push(this.capability(pid, process, call, 'net_bind_service'));
    }
    return events;
  }

  private signal(pid: number, process: ProcessState, call: StraceCall, targetArg: string | undefined, signalArg: string | undefined): AuditEvent[] {
    const target = Number(targetArg);
    const signal = signalArg === undefined ? undefined : signalArg === '0' ? undefined : signalArg.replace(/^SIG/, '').toLowerCase();
    // kill(pid, 0) probes for existence; AppArmor does not mediate it as a signal.
    if (signal === undefined || !Number.isInteger(target)) return [];
    const peer = target > 0 ? this.labelOf(target) ?? 'unconfined' : process.label;
    return [this.event(pid, process, call, 'signal', 'signal', { signal, peer, ...(target > 0 ? { peerPid: target } : {}) }, 'send', outcomeOf(call, false))];
  }

  private event(pid: number, process: ProcessState, call: StraceCall, operation: string, klass: string, object: EventObject, mask: string | undefined, outcome: Outcome): AuditEvent {
    const perms = mask === undefined ? undefined : { raw: mask, perms: klass === 'file' ? [...mask] : mask.split(' ') };
    const epoch = Math.floor(call.time);
    return {
      type: outcome.type,
      operation,
      class: klass,
      classInferred: false,
      label: parseLabel(process.label),
      object,
      ...(perms ? { requested: perms, denied: perms } : {}),
      pid,
      ...(process.parent !== undefined ? { parent: process.parent } : {}),
      ...(process.exe !== undefined ? { exe: process.exe, comm: process.exe.slice(process.exe.lastIndexOf('/') + 1).slice(0, 15) } : {}),
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      info: outcome.errno === undefined ? 'recorded' : `recorded: failed with ${outcome.errno}`,
      time: { epoch, millis: Math.round((call.time - epoch) * 1000) % 1000, serial: 0 },
      extra: { outcome: outcome.type === 'HINT' ? 'missing' : outcome.errno === undefined ? 'succeeded' : 'failed', ...(outcome.errno ? { errno: outcome.errno } : {}) },
      source: 'record',
      line: call.line,
      ...(this.options.file !== undefined ? { file: this.options.file } : {}),
    };
  }
}

/**
 * Succeeded → ALLOWED (what complain mode logs). Failed with EACCES/EPERM → ALLOWED with the error: the
 * program wanted it. A missing file opened without O_CREAT → HINT: at most a suggestion (library and
 * configuration probing), never a rule by default.
 */
function outcomeOf(call: StraceCall, creates: boolean): Outcome {
  const errno = call.result.errno;
  if (errno === undefined) return { type: 'ALLOWED' };
  const error = ERRNO_NUMBERS[errno];
  const optional = !creates && (errno === 'ENOENT' || errno === 'ENOTDIR' || errno === 'ELOOP');
  return { type: optional ? 'HINT' : 'ALLOWED', errno, ...(error !== undefined ? { error } : {}) };
}

function dirfd(arg: string | undefined): number {
  return fdArgument(arg)?.fd ?? -100;
}

function familyOf(described: string | undefined): string | undefined {
  if (!described) return undefined;
  if (described.startsWith('UNIX')) return 'unix';
  if (/^(TCP|UDP)v6/.test(described)) return 'inet6';
  if (/^(TCP|UDP)/.test(described)) return 'inet';
  if (described.startsWith('NETLINK')) return 'netlink';
  return undefined;
}

function sockTypeOf(described: string | undefined): string | undefined {
  if (!described) return undefined;
  if (described.startsWith('TCP') || described.startsWith('UNIX-STREAM')) return 'stream';
  if (described.startsWith('UDP') || described.startsWith('UNIX-DGRAM')) return 'dgram';
  if (described.startsWith('UNIX-SEQPACKET')) return 'seqpacket';
  return undefined;
}
