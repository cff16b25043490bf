// `hatter serve --learn`: a confinement backend that confines nothing and records everything. Every pool
// worker (and a PHP-FPM master) starts under strace (-D: the spawned pid is the program itself, so the
// server's signals, exit codes and checks reach it); each trace is followed and its events, labelled
// with the pool's profile//hat, go through one counted session into the learn log. A process that execs a
// program the policy sends to another profile (Px/Cx) is labelled with that profile from then on.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { NoneBackend } from '../confine/index.js';
import type { BackendAvailability, ConfinementBackend, ConfinementRequest, PreparedConfinement } from '../confine/index.js';
import type { Diagnostic } from '../policy/index.js';
import { compilePolicy } from '../policy/eval/index.js';
import { loadPolicy } from '../policy/load/index.js';
import { nodeFileReader } from '../policy-node/index.js';
import { policyTransitions, type ExecTransitions, type RecordingSession } from '../record/index.js';

export const LEARNING_WARNING = 'LEARNING: workers run UNCONFINED under strace; what they do is recorded for hatter learn';

export class LearningBackend implements ConfinementBackend {
  readonly name = 'none' as const;
  readonly observes = true;
  private readonly none = new NoneBackend();
  /** Exec transitions per policy file and modification time (every pool shares one policy; a reload may change it). */
  private readonly transitions = new Map<string, ExecTransitions | undefined>();
  private readonly transitionsOf = new WeakMap<PreparedConfinement, ExecTransitions>();

  constructor(private readonly session: RecordingSession, readonly learnLog: string) {}

  probe(): Promise<BackendAvailability> {
    return Promise.resolve({ available: true, reason: `learning (records every pool with strace into ${this.learnLog}; no confinement)`, details: {} });
  }

  async prepare(request: ConfinementRequest): Promise<{ prepared?: PreparedConfinement; diagnostics: readonly Diagnostic[] }> {
    const result = await this.none.prepare(request);
    if (!result.prepared) return result;
    const label = result.prepared.label;
    const prepared: PreparedConfinement = { ...result.prepared, summary: { ...result.prepared.summary, learning: true, learnLog: this.learnLog }, warnings: [`${label}: ${LEARNING_WARNING} (${this.learnLog})`] };
    const transitions = request.policyFile === undefined ? undefined : this.policyTransitions(request.policyFile, request.includeDirs);
    if (transitions) this.transitionsOf.set(prepared, transitions);
    const unfollowed: Diagnostic[] = request.policyFile !== undefined && !transitions
      ? [{ file: request.policyFile, line: 1, col: 1, severity: 'warning', code: 'record/no-transitions', message: `${label}: the policy does not load (hatter check says why): helpers run with Px/Cx are recorded under the hat` }]
      : [];
    return { prepared, diagnostics: [...result.diagnostics, ...unfollowed] };
  }

  spawn(prepared: PreparedConfinement, command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
    // The front is hatter's own code parsing requests, not a site's: it is not what a hat is learned from.
    if ((options.env as Record<string, string | undefined> | undefined)?.['HATTER_ROLE'] === 'front') return this.none.spawn(prepared, command, args, options);
    const transitions = this.transitionsOf.get(prepared);
    const observed = this.session.observe(command, args, prepared.label, typeof options.cwd === 'string' ? options.cwd : process.cwd(), { detach: true, ...(transitions ? { transitions } : {}) });
    const child = spawn(observed.command, observed.args, options);
    // strace (detached) writes the end of the trace just after the program exits.
    child.once('exit', () => { setTimeout(() => this.session.ended(observed.follower), 500).unref(); });
    return child;
  }

  verify(prepared: PreparedConfinement, pid: number): Promise<{ readonly ok: boolean; readonly detail: string }> {
    void prepared; void pid;
    return Promise.resolve({ ok: true, detail: 'unconfined, recorded (serve --learn)' });
  }

  /**
   * The policy's exec transitions; undefined when it does not load and compile cleanly (then recording
   * keeps every process in its pool's hat, and prepare() warns).
   */
  private policyTransitions(file: string, includeDirs: readonly string[] | undefined): ExecTransitions | undefined {
    let modified = 0;
    try { modified = statSync(file).mtimeMs; } catch { /* unreadable: loadPolicy says so */ }
    const key = `${file}\0${modified}\0${(includeDirs ?? []).join('\0')}`;
    if (this.transitions.has(key)) return this.transitions.get(key);
    const loaded = loadPolicy(file, nodeFileReader(), { workingDirectory: dirname(resolve(file)), ...(includeDirs ? { includePaths: includeDirs } : {}) });
    const compiled = loaded.ok ? compilePolicy(loaded.resolved) : undefined;
    const transitions = compiled && !compiled.diagnostics.some((d) => d.severity === 'error') ? policyTransitions(compiled.compiled) : undefined;
    this.transitions.set(key, transitions);
    return transitions;
  }
}
