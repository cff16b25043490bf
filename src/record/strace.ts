// The strace recorder: the fixed command line hatter runs strace with, and a follower that reads the
// trace file as it grows and turns it into events. The process and file system edge of src/record.
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { AuditEvent } from '../logs/index.js';
import { parseStraceLine, StraceAssembler, type TraceDiagnostic } from './strace-line.js';
import { EventTracker, interpreterOf, type RecordHost, type TrackerOptions } from './tracker.js';

/**
 * The system calls the recorder asks strace for: what AppArmor mediates, plus the bookkeeping that makes
 * paths and labels right (fork/clone for the tree, chdir for the cwd, socket for socket types).
 */
export const TRACED_SYSCALLS: readonly string[] = [
  'open', 'openat', 'openat2', 'creat', 'execve', 'execveat', 'unlink', 'unlinkat', 'rename', 'renameat', 'renameat2',
  'mkdir', 'mkdirat', 'rmdir', 'link', 'linkat', 'symlink', 'symlinkat', 'truncate', 'chmod', 'fchmodat', 'chown', 'lchown',
  'fchown', 'fchownat', 'chdir', 'fchdir', 'clone', 'clone3', 'fork', 'vfork', 'socket', 'connect', 'bind', 'listen',
  'kill', 'tkill', 'tgkill',
];

/** A way of observing a program that yields hatter's events. strace is the baseline; others may follow. */
export interface Recorder {
  readonly name: string;
  /**
   * The command line that runs `command args` observed, writing the raw trace to `traceFile`. `detach`:
   * the observer runs as a grandchild, so the spawned pid is the program itself (signals, exit status
   * and /proc checks reach it directly), as serve's workers need.
   */
  wrap(command: string, args: readonly string[], traceFile: string, options?: { readonly detach?: boolean }): { readonly command: string; readonly args: string[] };
  /** Follow `traceFile` as it grows; `sink` gets the events. */
  follow(traceFile: string, tracker: TrackerOptions, sink: (events: AuditEvent[]) => void): TraceFollower;
}

export class StraceRecorder implements Recorder {
  readonly name = 'strace';
  constructor(readonly strace: string) {}

  wrap(command: string, args: readonly string[], traceFile: string, options: { readonly detach?: boolean } = {}): { command: string; args: string[] } {
    return { command: this.strace, args: [...straceArguments(traceFile, options.detach === true), '--', command, ...args] };
  }

  follow(traceFile: string, tracker: TrackerOptions, sink: (events: AuditEvent[]) => void): TraceFollower {
    return new TraceFollower(traceFile, new EventTracker(tracker), sink);
  }
}

/**
 * strace's fixed arguments: follow forks (-f), epoch timestamps (-ttt: events carry a date), fds decoded
 * with their paths and socket addresses (-yy), no attach/exit chatter (-qq), no signal lines, paths up to
 * PATH_MAX (-s 4096), filtering in the kernel (--seccomp-bpf).
 */
export function straceArguments(traceFile: string, detach: boolean): string[] {
  return [
    '-f', '-ttt', '-yy', '-qq', '--seccomp-bpf', '-s', '4096', '-e', 'signal=none',
    '-e', `trace=${TRACED_SYSCALLS.join(',')}`, '-o', traceFile, ...(detach ? ['-D'] : []),
  ];
}

/** The strace executable on PATH, or undefined. */
export function findStrace(path: string | undefined): string | undefined {
  return findExecutable('strace', path);
}

/** `name` on PATH (or `name` itself when it has a slash), resolved; undefined when missing or not executable. */
export function findExecutable(name: string, path: string | undefined, cwd = process.cwd()): string | undefined {
  const candidates = name.includes('/') ? [name.startsWith('/') ? name : join(cwd, name)] : (path ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      const stat = statSync(candidate);
      if (stat.isFile() && (stat.mode & 0o111) !== 0) return candidate;
    } catch {
      // not there: try the next
    }
  }
  return undefined;
}

/** The real file system, asked at record time. */
export const nodeRecordHost: RecordHost = {
  realpath(path: string): string | undefined {
    try {
      return realpathSync(path);
    } catch {
      return undefined;
    }
  },
  isDirectory(path: string): boolean {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  },
  interpreter(path: string): string | undefined {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      const head = Buffer.alloc(256);
      return interpreterOf(head.subarray(0, readSync(fd, head, 0, head.length, 0)).toString('latin1'));
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  },
};

const CHUNK = 1 << 16;

/** Reads a growing trace file from where it left off; lines become events as soon as they are complete. */
export class TraceFollower {
  private offset = 0;
  private partial = '';
  private lineNumber = 0;
  private readonly assembler = new StraceAssembler();
  private readonly decoder = new TextDecoder('utf-8');
  readonly diagnostics: TraceDiagnostic[] = [];

  constructor(readonly file: string, private readonly tracker: EventTracker, private readonly sink: (events: AuditEvent[]) => void) {}

  /** Read whatever was appended since the last call. */
  poll(): void {
    if (!existsSync(this.file)) return;
    const fd = openSync(this.file, 'r');
    try {
      const buffer = Buffer.allocUnsafe(CHUNK);
      for (;;) {
        const read = readSync(fd, buffer, 0, CHUNK, this.offset);
        if (read <= 0) break;
        this.offset += read;
        this.consume(this.decoder.decode(buffer.subarray(0, read), { stream: true }));
      }
    } finally {
      closeSync(fd);
    }
  }

  /** The last read, a final line without newline, and processes still waiting for their parent. */
  finish(): void {
    this.poll();
    if (this.partial !== '') { const tail = this.handle(this.partial); this.partial = ''; if (tail.length) this.sink(tail); }
    const events = this.tracker.finish();
    if (events.length) this.sink(events);
    this.diagnostics.push(...this.tracker.diagnostics.splice(0));
  }

  private consume(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    const events: AuditEvent[] = [];
    for (const line of lines) events.push(...this.handle(line));
    if (events.length) this.sink(events);
  }

  private handle(text: string): AuditEvent[] {
    this.lineNumber++;
    const record = this.assembler.push(parseStraceLine(text, this.lineNumber));
    if (record === undefined) return [];
    if ('message' in record) { this.diagnostics.push(record); return []; }
    return this.tracker.push(record);
  }
}

/**
 * Send `signal` to the programs strace (pid `tracer`) runs. strace itself ignores SIGINT and SIGTERM
 * while it runs a command, and a program started from a background shell may ignore SIGINT, so a stop
 * escalates: the signal, then SIGTERM after 2 s, then SIGKILL after 5 s, until `done` says it ended.
 */
export function stopTraced(tracer: number, signal: NodeJS.Signals, done: () => boolean): void {
  const send = (sig: NodeJS.Signals): void => {
    if (done()) return;
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${tracer}/task/${tracer}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return;
    }
    for (const child of children) {
      try { process.kill(child, sig); } catch { /* already gone */ }
    }
  };
  send(signal);
  setTimeout(() => send('SIGTERM'), 2000).unref();
  setTimeout(() => send('SIGKILL'), 5000).unref();
}
