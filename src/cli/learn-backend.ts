// `hatter serve --learn`: a confinement backend that confines nothing and records everything. Every pool
// worker (and a PHP-FPM master) starts under strace (-D: the spawned pid is the program itself, so the
// server's signals, exit codes and checks reach it); each trace is followed and its events, labelled
// with the pool's profile//hat, go through one counted session into the learn log.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { NoneBackend } from '../confine/index.js';
import type { BackendAvailability, ConfinementBackend, ConfinementRequest, PreparedConfinement } from '../confine/index.js';
import type { Diagnostic } from '../policy/index.js';
import type { RecordingSession } from '../record/index.js';

export const LEARNING_WARNING = 'LEARNING: workers run UNCONFINED under strace; what they do is recorded for hatter learn';

export class LearningBackend implements ConfinementBackend {
  readonly name = 'none' as const;
  readonly observes = true;
  private readonly none = new NoneBackend();

  constructor(private readonly session: RecordingSession, readonly learnLog: string) {}

  probe(): Promise<BackendAvailability> {
    return Promise.resolve({ available: true, reason: `learning (records every pool with strace into ${this.learnLog}; no confinement)`, details: {} });
  }

  async prepare(request: ConfinementRequest): Promise<{ prepared?: PreparedConfinement; diagnostics: readonly Diagnostic[] }> {
    const result = await this.none.prepare(request);
    if (!result.prepared) return result;
    const label = result.prepared.label;
    return {
      prepared: { ...result.prepared, summary: { ...result.prepared.summary, learning: true, learnLog: this.learnLog }, warnings: [`${label}: ${LEARNING_WARNING} (${this.learnLog})`] },
      diagnostics: result.diagnostics,
    };
  }

  spawn(prepared: PreparedConfinement, command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
    // The front is hatter's own code parsing requests, not a site's: it is not what a hat is learned from.
    if ((options.env as Record<string, string | undefined> | undefined)?.['HATTER_ROLE'] === 'front') return this.none.spawn(prepared, command, args, options);
    const observed = this.session.observe(command, args, prepared.label, typeof options.cwd === 'string' ? options.cwd : process.cwd(), true);
    const child = spawn(observed.command, observed.args, options);
    // strace (detached) writes the end of the trace just after the program exits.
    child.once('exit', () => { setTimeout(() => this.session.ended(observed.follower), 500).unref(); });
    return child;
  }

  verify(prepared: PreparedConfinement, pid: number): Promise<{ readonly ok: boolean; readonly detail: string }> {
    void prepared; void pid;
    return Promise.resolve({ ok: true, detail: 'unconfined, recorded (serve --learn)' });
  }
}
