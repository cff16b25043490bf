// serve --backend landlock: the kernel's Landlock denials (audit records type 1423/1424, Linux 6.15+),
// attributed to hats through the supervisor's own pid map and appended to the denials log as
// `hatter logs --json` lines, which the console, hatter logs and hatter learn read unchanged.
// Sources: /dev/kmsg (the kernel writes audit records there when no auditd runs) or an audit log file.
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { eventToJson, LandlockAttribution, parseKmsgRecord, parseLine, type AuditEvent } from '../logs/index.js';
import { followFile } from '../logs-node/index.js';
import { EventCounter, eventKey } from '../record/index.js';

export interface DenialsOptions {
  /** '/dev/kmsg' or an audit log file (auditd's, or any file the reader takes). */
  readonly source: string;
  readonly denialsLog: string;
  /** Identical denials within this many ms are written once with `extra.count`. */
  readonly intervalMs: number;
  /** The supervisor's confined processes now: pid → label (empty until the server has started). */
  readonly confinedProcesses: () => ReadonlyMap<number, string>;
  readonly warn: (line: string) => void;
  /** Poll period of /dev/kmsg, ms (default 200). */
  readonly pollMs?: number;
}

export interface DenialsFollower {
  /** Denials written so far (after coalescing), and lines taken as Landlock records. */
  readonly stats: { written: number; records: number; rejected: number };
  stop(): void;
}

/** Records read from /dev/kmsg per poll at most: a flood cannot hold the supervisor's event loop. */
const MAX_RECORDS_PER_POLL = 2000;
/** pids remembered with their label after their process is gone (a domain outlives its creator). */
const MAX_REMEMBERED_PIDS = 65536;

/** Start following; throws (with the reason) when the source or the log cannot be opened. */
export function followLandlockDenials(options: DenialsOptions): DenialsFollower {
  const logFd = openSync(options.denialsLog, 'a', 0o600); // a log: appended to, never truncated
  const stats = { written: 0, records: 0, rejected: 0 };
  // pid → label of every confined process seen, so a domain whose creator has exited is still ours; a pid
  // seen with two labels (reused) attributes nothing: a wrong hat is worse than none.
  const seen = new Map<number, string | null>();
  const refresh = (): void => {
    for (const [pid, label] of options.confinedProcesses()) {
      const before = seen.get(pid);
      if (before === undefined) {
        if (seen.size >= MAX_REMEMBERED_PIDS) seen.delete(seen.keys().next().value!);
        seen.set(pid, label);
      } else if (before !== label) seen.set(pid, null);
    }
  };
  const attribution = new LandlockAttribution((pid) => {
    if (!seen.has(pid)) refresh();
    return seen.get(pid) ?? undefined;
  });
  const counter = new EventCounter({ intervalMs: options.intervalMs, cap: 10_000 });
  // A denial not seen in this interval is written at once (the console shows it within a second); its
  // repeats are counted and written once at the interval's end with `extra.count`, like serve --learn.
  const announced = new Set<string>();
  const write = (events: readonly AuditEvent[]): void => {
    if (events.length === 0) return;
    const text = events.map((e) => `${JSON.stringify(eventToJson(e))}\n`).join('');
    try {
      writeSync(logFd, text);
      stats.written += events.length;
    } catch (error) {
      options.warn(`hatter serve: cannot write the denials log ${options.denialsLog}: ${(error as Error).message}`);
    }
  };
  const flush = (): void => {
    refresh();
    announced.clear();
    write(counter.flush());
  };
  const emit = (attributed: readonly AuditEvent[]): void => {
    for (const event of attributed) {
      const key = eventKey(event);
      if (announced.has(key) || announced.size >= 10_000) counter.add(event);
      else {
        announced.add(key);
        write([{ ...event, extra: { ...event.extra, count: '1' } }]);
      }
    }
  };
  const take = (line: string): void => {
    const parsed = parseLine(line);
    let attributed: AuditEvent[];
    if (parsed.kind === 'related') attributed = attribution.addRelated(parsed);
    else if (parsed.kind === 'event' && parsed.event.landlock !== undefined) {
      stats.records++;
      attributed = attribution.add(parsed.event);
    } else return;
    emit(attributed);
  };
  const flushTimer = setInterval(flush, options.intervalMs);
  flushTimer.unref();
  // Workers denied while starting are attributed once the supervisor lists them.
  const refreshTimer = setInterval(() => { refresh(); emit(attribution.retry()); }, 500);
  refreshTimer.unref();

  let stopKmsg: (() => void) | undefined;
  const abort = new AbortController();
  if (options.source === '/dev/kmsg') stopKmsg = followKmsg(take, stats, options.pollMs ?? 200);
  else void followAuditFile(options.source, take, abort.signal).catch((error: Error) => options.warn(`hatter serve: --audit-log ${options.source}: ${error.message}`));

  return {
    stats,
    stop: () => {
      clearInterval(flushTimer);
      clearInterval(refreshTimer);
      stopKmsg?.();
      abort.abort();
      flush();
      closeSync(logFd);
    },
  };
}

/**
 * /dev/kmsg, from now on: what the ring buffer holds at the start is skipped (older runs' pids). Only
 * facility 0 (the kernel) is taken: anyone may write to /dev/kmsg, and such lines get facility 1 or more.
 */
function followKmsg(take: (line: string) => void, stats: { rejected: number }, pollMs: number): () => void {
  const fd = openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
  const buffer = Buffer.alloc(16 * 1024); // one record per read; the kernel's are at most 8 KiB
  const drain = (use: boolean): void => {
    for (let n = 0; n < MAX_RECORDS_PER_POLL || !use; n++) {
      let length: number;
      try {
        length = readSync(fd, buffer, 0, buffer.length, null);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') continue; // records were overwritten before we read them: go on with the next
        return; // EAGAIN: nothing more for now
      }
      if (length <= 0) return;
      if (!use) continue;
      const record = parseKmsgRecord(buffer.toString('utf8', 0, length));
      if (record === undefined) continue;
      if (record.facility !== 0) {
        if (record.message.includes('type=142')) stats.rejected++;
        continue;
      }
      take(record.message);
    }
  };
  drain(false);
  const timer = setInterval(() => drain(true), pollMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    closeSync(fd);
  };
}

async function followAuditFile(path: string, take: (line: string) => void, signal: AbortSignal): Promise<void> {
  let rest = '';
  for await (const chunk of followFile(path, { signal, fromEnd: true })) {
    const text = rest + chunk.toString('utf8');
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    if (rest.length > 64 * 1024) rest = '';
    for (const line of lines) take(line);
  }
}
