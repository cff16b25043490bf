// What the parallel summary (parallel.ts) and one of its threads (part-thread.ts) send each other; in a
// file of its own so that neither imports the other.
import type { EventFilterSpec, ReadStats, SkippedLine, SummarizerState } from '../logs/index.js';

/** What one thread (part-thread.ts) reads. */
export interface PartTask {
  readonly path: string;
  /** Byte range [start, end). */
  readonly start: number;
  readonly end: number;
  readonly file: string;
  readonly filter: EventFilterSpec;
  readonly floodPerSecond: number;
  readonly maxSamples: number;
  /** Post { progress } after each chunk read. */
  readonly progress: boolean;
}

export interface PartResult {
  readonly state: SummarizerState;
  readonly stats: ReadStats;
  /** The first malformed lines (line numbers within the part). */
  readonly samples: readonly SkippedLine[];
  readonly malformed: number;
  /** A DENIED or KILLED event was among those kept. */
  readonly denied: boolean;
}

/** What a part thread posts: progress while it reads, then its result or its error. */
export type PartMessage =
  | { readonly progress: { readonly bytes: number; readonly lines: number } }
  | { readonly ok: true; readonly result: PartResult }
  | { readonly ok: false; readonly message: string };

