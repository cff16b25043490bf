// The access log, written by the supervisor. A failed write (a full disk, /dev/full, a removed
// directory, a closed stdout) must never take the server down: the lines are dropped and counted, the
// failure is reported once, and the file is opened again a few seconds later.
import { close, closeSync, openSync, write } from 'node:fs';

export interface AccessLogStatus {
  readonly target: string;
  /** Lines lost to write failures or to a backlog beyond MAX_BACKLOG_BYTES. */
  readonly droppedLines: number;
  readonly lastError?: string;
}

/** Text waiting for the disk beyond this is dropped (a stalled disk must not grow the supervisor). */
const MAX_BACKLOG_BYTES = 16 * 1024 * 1024;
/** After a failure, the file is opened again on the first write this long after it. */
const RETRY_MS = 5_000;

export class AccessLog {
  private fd: number | undefined;
  private backlog: { text: string; lines: number }[] = [];
  private backlogBytes = 0;
  private writing = false;
  private failedAt: number | undefined;
  private droppedLines = 0;
  private lastError: string | undefined;
  private stdoutGuarded = false;

  /** target: 'stdout', 'off' or a file path. warn: one line per failure episode (not per lost line). */
  constructor(readonly target: string, private readonly warn: (line: string) => void) {
    if (target !== 'stdout' && target !== 'off') this.open();
  }

  write(lines: readonly string[]): void {
    if (this.target === 'off' || lines.length === 0) return;
    const text = lines.join('\n') + '\n';
    if (this.target === 'stdout') { this.writeStdout(text, lines.length); return; }
    if (this.fd === undefined && !this.reopen()) { this.droppedLines += lines.length; return; }
    if (this.backlogBytes + text.length > MAX_BACKLOG_BYTES) { this.droppedLines += lines.length; return; }
    this.backlog.push({ text, lines: lines.length });
    this.backlogBytes += text.length;
    this.pump();
  }

  status(): AccessLogStatus {
    return { target: this.target, droppedLines: this.droppedLines, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  close(): void {
    if (this.fd !== undefined && !this.writing) { try { closeSync(this.fd); } catch { /* already closed */ } }
    this.fd = undefined;
    this.failedAt = Number.POSITIVE_INFINITY;
  }

  private open(): boolean {
    try {
      this.fd = openSync(this.target, 'a', 0o640);
      if (this.failedAt !== undefined) this.warn(`hatter serve: access log ${this.target} writable again (${this.droppedLines} line(s) lost so far)`);
      this.failedAt = undefined;
      return true;
    } catch (error) {
      this.fail(error as NodeJS.ErrnoException, 'open');
      return false;
    }
  }

  private reopen(): boolean {
    if (this.failedAt !== undefined && Date.now() - this.failedAt < RETRY_MS) return false;
    return this.open();
  }

  private fail(error: NodeJS.ErrnoException, what: string): void {
    const first = this.failedAt === undefined;
    this.failedAt = Date.now();
    this.lastError = `${what}: ${error.code ?? error.message}`;
    if (first) this.warn(`hatter serve: cannot ${what} the access log ${this.target} (${error.code ?? error.message}); lines are dropped and counted, retrying every ${RETRY_MS / 1000} s`);
  }

  private pump(): void {
    if (this.writing || this.fd === undefined || this.backlog.length === 0) return;
    const batch = this.backlog;
    this.backlog = [];
    this.backlogBytes = 0;
    const lines = batch.reduce((sum, b) => sum + b.lines, 0);
    const buffer = Buffer.from(batch.map((b) => b.text).join(''));
    const fd = this.fd;
    this.writing = true;
    const writeFrom = (offset: number): void => {
      write(fd, buffer, offset, buffer.length - offset, null, (error, written) => {
        if (!error && offset + written < buffer.length) { writeFrom(offset + written); return; }
        this.writing = false;
        if (error) {
          this.droppedLines += lines;
          this.fail(error, 'write');
          // Close and open again later: a log rotated away or a disk that got room again.
          if (this.fd === fd) this.fd = undefined;
          close(fd, () => {});
          this.droppedLines += this.backlog.reduce((sum, b) => sum + b.lines, 0);
          this.backlog = [];
          this.backlogBytes = 0;
          return;
        }
        if (this.fd === undefined) close(fd, () => {});
        this.pump();
      });
    };
    writeFrom(0);
  }

  private writeStdout(text: string, lines: number): void {
    if (!this.stdoutGuarded) {
      // A closed stdout (EPIPE) is an 'error' event: unhandled, it would end the process.
      this.stdoutGuarded = true;
      process.stdout.on('error', (error: NodeJS.ErrnoException) => this.fail(error, 'write'));
    }
    if (this.failedAt !== undefined || process.stdout.writableLength > MAX_BACKLOG_BYTES) { this.droppedLines += lines; return; }
    process.stdout.write(text);
  }
}

/** Can the access log be opened for appending? undefined: yes; otherwise the errno code. */
export function accessLogProblem(target: string): string | undefined {
  if (target === 'stdout' || target === 'off') return undefined;
  try {
    closeSync(openSync(target, 'a', 0o640));
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  }
}
