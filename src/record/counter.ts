// Bounded cost: a busy site repeats the same few accesses thousands of times. Identical events (same
// label, operation, object, mask and outcome) are counted within an interval and written once with the
// count (`extra.count`); at most `cap` distinct events are kept per interval, the rest only counted.
import type { AuditEvent } from '../logs/index.js';

export interface CounterOptions {
  /** Milliseconds between flushes (default 10 s). */
  readonly intervalMs: number;
  /** Distinct events kept per interval (default 10,000); more are dropped and counted in `dropped`. */
  readonly cap: number;
}

export const DEFAULT_COUNTER_OPTIONS: CounterOptions = { intervalMs: 10_000, cap: 10_000 };

/** What makes two events "the same" for learning: not the pid, time or trace line. */
export function eventKey(event: AuditEvent): string {
  const o = event.object;
  const n = o.network;
  return JSON.stringify([
    event.type, event.label?.text, event.operation, event.class, o.name, o.target, o.capability, o.signal, o.peer,
    n?.family, n?.sockType, n?.protocol, n?.addr, n?.foreignAddr, n?.foreignPort, n?.localAddr, n?.localPort,
    event.requested?.raw, event.extra?.['errno'],
  ]);
}

export class EventCounter {
  private readonly pending = new Map<string, { event: AuditEvent; count: number }>();
  /** Events dropped since the start because an interval already held `cap` distinct ones. */
  dropped = 0;

  constructor(readonly options: CounterOptions = DEFAULT_COUNTER_OPTIONS) {}

  add(event: AuditEvent): void {
    const key = eventKey(event);
    const seen = this.pending.get(key);
    if (seen) { seen.count++; return; }
    if (this.pending.size >= this.options.cap) { this.dropped++; return; }
    this.pending.set(key, { event, count: 1 });
  }

  /** The interval's events, each once, in first-seen order, with `extra.count`; the interval starts over. */
  flush(): AuditEvent[] {
    const out = [...this.pending.values()].map(({ event, count }) => ({ ...event, extra: { ...event.extra, count: String(count) } }));
    this.pending.clear();
    return out;
  }
}
