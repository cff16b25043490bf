// What the console shows and does, as one interface: the HTTP edge (server.ts) calls it and never
// reads a file itself. The CLI (src/cli/console.ts, and serve's admin listener) implements it with the
// same code as `hatter learn`, `hatter isolate`, `hatter logs --summary`, `hatter lint` and serve's
// status, so the console can never show or write something the commands would not.

/** One answer to a proposal group, as `hatter learn --answers` reads them. */
export interface ConsoleAnswer {
  readonly group: string;
  readonly action: 'accept' | 'ignore';
  readonly alternative?: number;
  readonly override?: boolean;
}

/** The outcome of a preview or an apply: the diff (preview) or the files written (apply), and messages. */
export interface ChangeOutcome {
  readonly ok: boolean;
  /** Unified diff of what would change (preview), or of what changed (apply). */
  readonly diff: string;
  /** Files written (apply only). */
  readonly written: readonly string[];
  /** What hatter said, line by line (diagnostics, backups, reload). */
  readonly messages: readonly string[];
}

/** Topics pushed to the page over Server-Sent Events when something changed. */
export type ConsoleTopic = 'denials' | 'sites' | 'policy';

export interface ConsoleServices {
  /** Sites with their hat, mode, pool, workers and confinement. */
  sites(): Promise<unknown>;
  /** The denial summary, grouped like `hatter logs --summary --json`. */
  denials(): Promise<unknown>;
  /** The proposals of `hatter learn --json`. */
  learn(): Promise<unknown>;
  /** The diff `hatter learn --answers --dry-run` would print for these answers. */
  preview(answers: readonly ConsoleAnswer[]): Promise<ChangeOutcome>;
  /** `hatter learn --answers --write`, then the reload (apparmor_parser -r, or a pool restart). */
  apply(answers: readonly ConsoleAnswer[]): Promise<ChangeOutcome>;
  /** The tenant matrix of `hatter isolate --json`. */
  isolation(): Promise<unknown>;
  /** The policy files (read-only), include chains and lint findings. */
  policy(): Promise<unknown>;
  /** Call `onChange` whenever a topic changed (a log grew, workers changed, the policy was written). Returns the unsubscribe. */
  watch(onChange: (topic: ConsoleTopic) => void): () => void;
}
