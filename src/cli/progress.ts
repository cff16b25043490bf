// Progress on long work: one line on a terminal's stderr, redrawn at most four times a second and erased
// when the work ends or before anything else is written to stderr. Nothing at all when stderr is not a
// terminal, so scripts and log files see only results and diagnostics.
import type { CliIo } from './io.js';

const REDRAW_MS = 250;
const ERASE_LINE = '\r\x1b[K';

export class Progress {
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private readonly enabled: boolean;

  constructor(private readonly io: CliIo, wanted: boolean, private readonly now: () => number = Date.now) {
    this.enabled = wanted && io.stderrIsTTY;
  }

  /** Draw `text` (a function, so that nothing is formatted between redraws). */
  show(text: () => string): void {
    if (!this.enabled) return;
    const t = this.now();
    if (t - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = t;
    this.io.stderr.write(`${ERASE_LINE}${text()}`);
    this.drawn = true;
  }

  /** Write to stderr without mixing into the progress line. */
  warn(text: string): void {
    this.clear();
    this.io.stderr.write(text);
  }

  /** Erase the progress line, if one is shown. */
  clear(): void {
    if (!this.drawn) return;
    this.io.stderr.write(ERASE_LINE);
    this.drawn = false;
  }
}

const MIB = 1024 * 1024;

/** `audit.log: 47% of 254 MiB, 480,000 lines`, or without a known size `stdin: 120 MiB, 480,000 lines`. */
export function readingProgress(name: string, bytes: number, total: number, lines: number): string {
  const count = `${lines.toLocaleString('en-US')} line${lines === 1 ? '' : 's'}`;
  if (total > 0) return `reading ${name}: ${Math.min(100, Math.floor((bytes / total) * 100))}% of ${Math.max(1, Math.round(total / MIB))} MiB, ${count}`;
  return `reading ${name}: ${Math.round(bytes / MIB)} MiB, ${count}`;
}
