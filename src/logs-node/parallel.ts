// Summarizing a large log file on every core: the file is cut into byte ranges at line boundaries where
// the audit serial changes (so no event's records are split between threads), each range is read and
// summarized by its own thread, and the states are merged in file order (mergeSummarizerStates), which
// gives exactly the summary one reader would have built. Used for regular files only; stdin and
// --follow read sequentially.
import { closeSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { PartMessage, PartResult, PartTask } from './part-protocol.js';
import { addStats, mergeSummarizerStates, newReadStats, type EventFilterSpec, type SkippedLine, type SummarizerState } from '../logs/index.js';

export interface FileSummary extends Omit<PartResult, 'state'> {
  readonly state: SummarizerState;
}

const AUDIT_ID = /audit\(\d+(?:\.\d+)?:(\d+)\)/;
/** How far past a cut point to look for a line where the serial changes. */
const SEARCH_WINDOW = 4 * 1024 * 1024;

/**
 * Byte offsets that cut the file into `parts` ranges. Each cut is at the start of a line whose audit
 * serial differs from the last serial before it; without such a line within SEARCH_WINDOW (a log with
 * no audit ids), there is no cut there.
 */
export function cutPoints(path: string, size: number, parts: number): number[] {
  const cuts: number[] = [];
  const fd = openSync(path, 'r');
  try {
    const window = Buffer.alloc(Math.min(SEARCH_WINDOW, size));
    for (let part = 1; part < parts; part++) {
      const target = Math.floor((size * part) / parts);
      if (target <= (cuts.at(-1) ?? 0)) continue;
      const length = readSync(fd, window, 0, window.length, target);
      const text = window.subarray(0, length).toString('latin1');
      let at = text.indexOf('\n');
      let previousSerial: string | undefined;
      while (at >= 0 && at + 1 < length) {
        const next = text.indexOf('\n', at + 1);
        if (next < 0) break; // the line is not whole in the window
        const lineText = text.slice(at + 1, next);
        const serial = AUDIT_ID.exec(lineText)?.[1];
        // Cut only in front of a record with a new serial: the reader releases the events it holds for
        // the previous serial there anyway, while a line without one (another program's, or garbage)
        // may sit between an AVC record and the SYSCALL record of the same event.
        if (serial !== undefined) {
          if (previousSerial !== undefined && serial !== previousSerial) {
            cuts.push(target + at + 1);
            break;
          }
          previousSerial = serial;
        }
        at = next;
      }
    }
  } finally {
    closeSync(fd);
  }
  return cuts;
}

/** Bytes and lines read since the last call, from any thread. */
export type ProgressCallback = (bytes: number, lines: number) => void;

function runPart(task: PartTask, onProgress: ProgressCallback | undefined): Promise<PartResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./part-thread.js', import.meta.url), { workerData: task });
    worker.on('message', (message: PartMessage) => {
      if ('progress' in message) onProgress?.(message.progress.bytes, message.progress.lines);
      else if (message.ok) resolve(message.result);
      else reject(Object.assign(new Error(message.message), { code: message.message }));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => { if (code !== 0) reject(new Error(`summary thread exited with code ${code}`)); });
  });
}

/**
 * The summary state of one file, read by `parts` threads; line numbers (in the state and the samples)
 * are the file's own. `cuts` overrides where the file is cut (tests).
 */
export async function summarizeFileInParts(
  path: string, size: number,
  options: {
    readonly file: string; readonly filter: EventFilterSpec; readonly floodPerSecond: number; readonly parts: number; readonly maxSamples: number;
    readonly cuts?: readonly number[];
    /** Called as the threads read (about once per megabyte each). */
    readonly onProgress?: ProgressCallback;
  },
): Promise<FileSummary> {
  const cuts = options.cuts ?? cutPoints(path, size, options.parts);
  const bounds = [0, ...cuts, size];
  const results = await Promise.all(bounds.slice(1).map((end, i) => runPart({
    path, start: bounds[i]!, end, file: options.file, filter: options.filter, floodPerSecond: options.floodPerSecond, maxSamples: options.maxSamples,
    progress: options.onProgress !== undefined,
  }, options.onProgress)));
  let state: SummarizerState | undefined;
  const stats = newReadStats();
  const samples: SkippedLine[] = [];
  let malformed = 0;
  let denied = false;
  for (const part of results) {
    const offset = stats.lines;
    state = state === undefined ? part.state : mergeSummarizerStates(state, part.state, offset);
    for (const sample of part.samples) if (samples.length < options.maxSamples) samples.push({ ...sample, line: sample.line + offset });
    malformed += part.malformed;
    denied ||= part.denied;
    addStats(stats, part.stats);
  }
  return { state: state!, stats, samples, malformed, denied };
}

