// One recording: trace files in a private temporary directory, followed while the programs run, events
// counted per interval and written as JSON lines (the `hatter logs --json` schema). Shared by
// `hatter record` (one program) and `hatter serve --learn` (every worker of every pool).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventToJson, type AuditEvent } from '../logs/index.js';
import { DEFAULT_COUNTER_OPTIONS, EventCounter, type CounterOptions } from './counter.js';
import { nodeRecordHost, type Recorder, type TraceFollower } from './strace.js';
import type { TraceDiagnostic } from './strace-line.js';
import type { RecordHost } from './tracker.js';
import type { ExecTransitions } from './transitions.js';

export interface RecordingOutput {
  write(text: string): void;
}

export interface SessionOptions {
  readonly counter?: CounterOptions;
  readonly host?: RecordHost;
  /** Where execs lead (Px/Cx targets), for every observed program unless observe() names its own. */
  readonly transitions?: ExecTransitions;
  /** How often trace files are read (ms, default 200). */
  readonly pollMs?: number;
  readonly uid?: number;
}

export class RecordingSession {
  readonly directory = mkdtempSync(join(tmpdir(), 'hatter-record-'));
  private readonly followers = new Set<TraceFollower>();
  private readonly counter: EventCounter;
  private pollTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private traces = 0;
  /** Events seen (before counting) and lines written. */
  seen = 0;
  written = 0;
  readonly diagnostics: TraceDiagnostic[] = [];

  constructor(readonly recorder: Recorder, private readonly output: RecordingOutput, private readonly options: SessionOptions = {}) {
    this.counter = new EventCounter(options.counter ?? DEFAULT_COUNTER_OPTIONS);
    this.pollTimer = setInterval(() => this.poll(), options.pollMs ?? 200);
    this.flushTimer = setInterval(() => this.flush(), this.counter.options.intervalMs);
    this.pollTimer.unref();
    this.flushTimer.unref();
  }

  get dropped(): number {
    return this.counter.dropped;
  }

  /**
   * The command line that runs `command args` observed, its events labelled `label` (and, after an exec
   * that changes profile, the target's label); and its follower.
   */
  observe(command: string, args: readonly string[], label: string, cwd: string, options: { detach?: boolean; transitions?: ExecTransitions } = {}): { command: string; args: string[]; follower: TraceFollower } {
    const traceFile = join(this.directory, `trace-${++this.traces}.txt`);
    const transitions = options.transitions ?? this.options.transitions;
    const follower = this.recorder.follow(traceFile, {
      label, cwd, host: this.options.host ?? nodeRecordHost,
      ...(transitions ? { transitions } : {}),
      ...(this.options.uid !== undefined ? { uid: this.options.uid } : {}),
    }, (events) => this.take(events));
    this.followers.add(follower);
    return { ...this.recorder.wrap(command, args, traceFile, { detach: options.detach ?? false }), follower };
  }

  /** The observed program ended: read the rest of its trace and stop following it. */
  ended(follower: TraceFollower): void {
    if (!this.followers.delete(follower)) return;
    follower.finish();
    this.diagnostics.push(...follower.diagnostics.splice(0));
  }

  /** Read every trace, write the counted events, remove the trace files. */
  stop(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.pollTimer = this.flushTimer = undefined;
    for (const follower of [...this.followers]) this.ended(follower);
    this.flush();
    rmSync(this.directory, { recursive: true, force: true });
  }

  private poll(): void {
    for (const follower of this.followers) follower.poll();
  }

  private take(events: readonly AuditEvent[]): void {
    this.seen += events.length;
    for (const event of events) this.counter.add(event);
  }

  private flush(): void {
    const events = this.counter.flush();
    if (!events.length) return;
    this.written += events.length;
    this.output.write(events.map((event) => `${JSON.stringify(eventToJson(event))}\n`).join(''));
  }
}
