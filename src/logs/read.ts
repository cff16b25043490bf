// Streaming: bytes in large chunks → lines split on the newline byte → parsed records → events, with
// AVC/SYSCALL records of one audit event merged by serial. Memory is bounded by one chunk, one partial
// line (at most MAX_LINE_LENGTH; longer lines are dropped while reading) and a small correlation window.
import { parseRange, recordFrom } from './event.js';
import { LineMemo, MEMO_LEARN, MEMO_NONE } from './memo.js';
import type { AuditEvent, ParsedRecord, SkipReason, SkippedLine, SourceFormat } from './model.js';
import { MAX_LINE_LENGTH, RawRecord, scanRecord } from './scan.js';

export interface ReadStats {
  /** Physical lines read. */
  lines: number;
  events: number;
  /** Non-AppArmor records merged into an event (SYSCALL, PROCTITLE, ...). */
  related: number;
  /** Lines that gave no event, by reason. */
  skipped: Partial<Record<SkipReason, number>>;
  /** Lines with invalid UTF-8, read with U+FFFD in place of the bad bytes (not skipped). */
  invalidUtf8: number;
}

export function newReadStats(): ReadStats {
  return { lines: 0, events: 0, related: 0, skipped: {}, invalidUtf8: 0 };
}

export interface ReadOptions {
  /** File name recorded on each event for provenance. */
  readonly file?: string;
  /** Counters, updated as lines are read. */
  readonly stats?: ReadStats;
  /** Called for each skipped line (malformed, not AppArmor, ...). */
  readonly onSkip?: (skipped: SkippedLine) => void;
  /** Emit every event as soon as its chunk is read (follow mode) instead of waiting for the next chunk's records. */
  readonly immediate?: boolean;
  /** Recognize repeated lines without parsing them again (memo.ts); default true. False: parse every line. */
  readonly memo?: boolean;
  /**
   * Hand each event to the sink as soon as it is read, in order (push() and end() then return nothing),
   * and let the sink take the lines the memo recognizes without their events being built. The sink
   * gets no exe from a later SYSCALL record (the summary does not use it); the counters are the same.
   */
  readonly sink?: EventSink;
}

/**
 * A consumer that takes events as they are read (ReadOptions.sink). A tag that event() returns for an
 * event the line memo repeated from a template is attached to that template: each later line of it goes
 * to repeat() instead, with the values that differ from line to line. So the tag must depend only on
 * what every repeat of the template shares (not on the time, line, pid, fsuid, ouid or source).
 */
export interface EventSink {
  /** An event; returns a tag (≥ 0) for the memo to keep, or -1. */
  event(event: AuditEvent): number;
  /** A line that repeats `template` (whose repeat got `tag`): its time (ms since the epoch), line number and owner flag. */
  repeat(tag: number, template: AuditEvent, ms: number, line: number, owner: boolean | undefined): void;
}

export type ByteSource = AsyncIterable<Uint8Array | string> | NodeJS.ReadableStream;

const LF = 10;
const CR = 13;

/**
 * Split a byte stream into lines and hand each run of complete lines to `onLines` as bytes[start, end)
 * (the newline after the last one excluded; no decoding here). Lines longer than MAX_LINE_LENGTH are
 * reported through `onOverlong` without being buffered.
 */
export class LineSplitter {
  private carry: Buffer | undefined;
  private discarding = false;

  constructor(
    private readonly onLines: (bytes: Buffer, start: number, end: number) => void,
    private readonly onOverlong: () => void,
  ) {}

  push(chunk: Uint8Array | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const last = bytes.lastIndexOf(LF);
    if (last < 0) {
      this.accumulate(bytes);
      return;
    }
    let start = 0;
    if (this.discarding) {
      // finish dropping the overlong line
      start = bytes.indexOf(LF) + 1;
      this.discarding = false;
      this.onOverlong();
      if (start > last) {
        this.carry = undefined;
        this.accumulate(bytes.subarray(last + 1));
        return;
      }
    }
    if (this.carry) {
      // only the line in progress is joined (copying the whole chunk behind it cost a tenth of the read)
      const first = bytes.indexOf(LF, start);
      const joined = Buffer.concat([this.carry, bytes.subarray(start, first)]);
      this.carry = undefined;
      this.onLines(joined, 0, joined.length);
      start = first + 1;
      if (start <= last) this.onLines(bytes, start, last);
    } else {
      this.onLines(bytes, start, last);
    }
    if (last + 1 < bytes.length) this.accumulate(bytes.subarray(last + 1));
  }

  /** End of input: the last line without a newline. */
  end(): void {
    if (this.discarding) {
      this.discarding = false;
      this.onOverlong();
    } else if (this.carry && this.carry.length) {
      this.onLines(this.carry, 0, this.carry.length);
    }
    this.carry = undefined;
  }

  /** Bytes of the line in progress (for callers that need to know the reader is mid-line). */
  get pending(): number {
    return this.carry?.length ?? 0;
  }

  private accumulate(bytes: Buffer): void {
    if (this.discarding) return;
    const length = (this.carry?.length ?? 0) + bytes.length;
    if (length > MAX_LINE_LENGTH) {
      this.carry = undefined;
      this.discarding = true;
      return;
    }
    // copy: the source may reuse its buffer
    this.carry = this.carry ? Buffer.concat([this.carry, bytes]) : Buffer.from(bytes);
  }
}

/**
 * The text of the line bytes[start, end). Audit logs are nearly always ASCII, and for ASCII latin1 gives
 * the same string as UTF-8, several times cheaper.
 */
function decodeLine(bytes: Buffer, start: number, end: number, ascii: boolean): string {
  return bytes.toString(ascii ? 'latin1' : 'utf8', start, end);
}

/**
 * The engine behind readEvents: feed it chunks, collect events. Exposed so follow mode and benchmarks
 * can drive it without an async iterator per event.
 *
 * Correlation: auditd writes the records of one event (AVC, SYSCALL, PROCTITLE, EOE) together under one
 * serial, so the events of the current serial are held until a record with another serial arrives; a
 * SYSCALL record in between lends them its exe. Order is kept (an event that is not held, from another
 * source or without a serial, releases the held ones first); at most one serial's events are held.
 */
export class EventReader {
  readonly stats: ReadStats;
  private lineNumber = 0;
  private out: AuditEvent[] = [];
  private held: AuditEvent[] = [];
  private heldSerial = 0;
  /** Events held under heldSerial (with a sink: handed on at once, only counted). */
  private heldCount = 0;
  private readonly sink: EventSink | undefined;
  private readonly splitter: LineSplitter;
  private readonly memo: LineMemo | undefined;
  /** The scan buffer for lines the memo learns from. */
  private readonly scratch = new RawRecord();

  constructor(private readonly options: ReadOptions = {}) {
    this.stats = options.stats ?? newReadStats();
    this.splitter = new LineSplitter((bytes, start, end) => this.lines(bytes, start, end), () => this.overlong());
    this.memo = options.memo === false ? undefined : new LineMemo();
    this.sink = options.sink;
  }

  /** Lines the memo recognized (each one not parsed again); 0 without the memo. */
  get memoHits(): number {
    return this.memo?.hits ?? 0;
  }

  /** Feed a chunk; returns the events completed so far (the array is handed over, not reused). */
  push(chunk: Uint8Array | string): AuditEvent[] {
    this.splitter.push(chunk);
    if (this.options.immediate === true) this.release();
    return this.take();
  }

  /** End of input: everything still held. */
  end(): AuditEvent[] {
    this.splitter.end();
    this.release();
    return this.take();
  }

  /** Release held events (follow mode calls this when input goes quiet). */
  flush(): AuditEvent[] {
    this.release();
    return this.take();
  }

  private take(): AuditEvent[] {
    const events = this.out;
    this.out = [];
    return events;
  }

  private release(): void {
    this.heldCount = 0;
    this.heldSerial = 0;
    if (this.held.length === 0) return;
    for (const event of this.held) this.out.push(event);
    this.held = [];
  }

  private overlong(): void {
    this.lineNumber++;
    this.stats.lines++;
    this.skipped({ kind: 'skip', reason: 'line-too-long', line: this.lineNumber, message: `line longer than ${MAX_LINE_LENGTH} bytes` });
  }

  private lines(bytes: Buffer, from: number, to: number): void {
    // Whether the run is ASCII, and the next NUL in it (advanced as lines pass it: one search per NUL).
    const allAscii = isAscii(bytes, from, to);
    let nul = bytes.indexOf(0, from);
    const memo = this.memo;
    let start = from;
    for (;;) {
      let end = bytes.indexOf(LF, start);
      if (end < 0 || end > to) end = to;
      let stop = end;
      if (stop > start && bytes[stop - 1] === CR) stop--;
      const lineNumber = ++this.lineNumber;
      this.stats.lines++;
      const entry = memo === undefined ? MEMO_NONE : memo.match(bytes, start, stop);
      if (entry < 0 || !this.fromMemo(memo!, entry, lineNumber)) {
        if (nul >= 0 && nul < start) nul = bytes.indexOf(0, start);
        const hasNul = nul >= 0 && nul < stop;
        const ascii = allAscii || isAscii(bytes, start, stop);
        const text = decodeLine(bytes, start, stop, ascii);
        if (!ascii && text.includes('\uFFFD')) this.stats.invalidUtf8++;
        if (entry === MEMO_LEARN && ascii && !hasNul) {
          // the memo's template comes from this parse
          const r = scanRecord(text, this.scratch);
          const record = recordFrom(r, lineNumber, this.options.file);
          const entry = memo!.learn(r, record);
          if (entry >= 0 && record.kind === 'event') {
            // the template's own event: a sink's tag for it holds for its repeats
            const tag = this.event(record.event);
            if (tag >= 0) memo!.setTag(entry, tag);
          } else {
            this.record(record);
          }
        } else {
          this.record(parseRange(text, 0, text.length, lineNumber, this.options.file, hasNul ? text.indexOf('\0') : -1));
        }
      }
      if (end >= to) break;
      start = end + 1;
    }
  }

  /** The line the memo matched; false when it must be parsed after all. */
  private fromMemo(memo: LineMemo, entry: number, lineNumber: number): boolean {
    const sink = this.sink;
    if (sink !== undefined) {
      const tag = memo.tag(entry);
      if (tag >= 0) {
        // as event() would count and hold the repeated event, without building it
        const template = memo.template(entry)!;
        this.stats.events++;
        this.hold(memo.serial, memo.source);
        sink.repeat(tag, template, memo.epoch * 1000 + memo.millis, lineNumber, memo.owner(template));
        return true;
      }
    }
    const event = memo.event(entry, lineNumber);
    if (event !== undefined) {
      const tag = this.event(event);
      if (tag >= 0) memo.setTag(entry, tag);
      return true;
    }
    const related = memo.relatedRecord(entry, lineNumber);
    if (related === undefined) return false;
    this.record(related);
    return true;
  }

  /** Count, hold or hand on an event; the sink's tag for it, or -1. */
  private event(event: AuditEvent): number {
    this.stats.events++;
    const held = this.hold(event.time?.serial ?? 0, event.source);
    if (this.sink !== undefined) return this.sink.event(event);
    if (held) this.held.push(event);
    else this.out.push(event);
    return -1;
  }

  /**
   * The holding rule, for an event about to be counted: an auditd event with a serial joins the events
   * held under that serial (those of another serial are released first); any other event releases them
   * all, so events leave in line order. Returns whether this one is held. heldCount counts the held
   * events; with a sink they are handed on at once and only counted (related records count against it).
   */
  private hold(serial: number, source: SourceFormat): boolean {
    const holds = serial !== 0 && source === 'auditd';
    if (serial !== this.heldSerial || !holds) this.release();
    if (holds) {
      this.heldCount++;
      this.heldSerial = serial;
    }
    return holds;
  }

  private record(record: ParsedRecord): void {
    if (record.kind === 'event') {
      this.event(record.event);
    } else if (record.kind === 'related') {
      if (record.serial === this.heldSerial && this.heldCount > 0) {
        this.stats.related++;
        if (record.exe !== undefined && this.held.length > 0) {
          const exe = record.exe;
          this.held = this.held.map((e) => (e.exe === undefined ? { ...e, exe } : e));
        }
      } else {
        this.release();
        this.skipped({ kind: 'skip', reason: 'not-apparmor', line: record.line, message: `${record.recordType} record` });
      }
    } else {
      this.skipped(record);
    }
  }

  private skipped(record: SkippedLine): void {
    const counts = this.stats.skipped;
    counts[record.reason] = (counts[record.reason] ?? 0) + 1;
    this.options.onSkip?.(record);
  }
}

/** Batches of events from a byte stream: one batch per chunk read. */
export async function* readEventBatches(source: ByteSource, options: ReadOptions = {}): AsyncGenerator<AuditEvent[]> {
  const reader = new EventReader(options);
  for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
    const events = reader.push(chunk);
    if (events.length) yield events;
  }
  const rest = reader.end();
  if (rest.length) yield rest;
}

/** Key of the batch view on the value readEvents returns (consumers like summarize() use it to skip per-event awaits). */
export const EVENT_BATCHES: unique symbol = Symbol('hatter.logs.eventBatches');

/** Key of the view that reads the stream into a sink (summarize() uses it; see ReadOptions.sink). */
export const READ_INTO_SINK: unique symbol = Symbol('hatter.logs.readIntoSink');

/** A single-use stream of events; iterate it, take its batches (one array per chunk read), or read it into a sink. */
export interface EventStream extends AsyncIterable<AuditEvent> {
  [EVENT_BATCHES](): AsyncIterable<AuditEvent[]>;
  [READ_INTO_SINK](sink: EventSink): Promise<void>;
}

async function* eachEvent(batches: AsyncIterable<AuditEvent[]>): AsyncGenerator<AuditEvent> {
  for await (const batch of batches) yield* batch;
}

/** Events from a byte stream of audit lines in any supported format, in order, correlated by serial. */
export function readEvents(source: ByteSource, options: ReadOptions = {}): EventStream {
  return {
    [Symbol.asyncIterator]: () => eachEvent(readEventBatches(source, options)),
    [EVENT_BATCHES]: () => readEventBatches(source, options),
    [READ_INTO_SINK]: async (sink) => {
      const reader = new EventReader({ ...options, sink });
      for await (const chunk of source as AsyncIterable<Uint8Array | string>) reader.push(chunk);
      reader.end();
    },
  };
}

/** Skipped lines worth a diagnostic: malformed input, not other programs' log lines. */
export function isMalformed(skipped: SkippedLine): boolean {
  return skipped.reason !== 'empty' && skipped.reason !== 'not-apparmor' && skipped.reason !== 'unknown-prefix';
}

/** Add a part's (or a file's) read counters to a running total. */
export function addStats(total: ReadStats, part: ReadStats): void {
  total.lines += part.lines;
  total.events += part.events;
  total.related += part.related;
  total.invalidUtf8 += part.invalidUtf8;
  for (const [reason, n] of Object.entries(part.skipped)) {
    const key = reason as keyof ReadStats['skipped'];
    total.skipped[key] = (total.skipped[key] ?? 0) + (n ?? 0);
  }
}

/**
 * Whether bytes [from, to) are all ASCII. The pure core cannot use node:buffer's isAscii; this reads
 * the aligned middle four bytes at a time, which keeps the once-per-chunk test far below the cost of
 * scanning the chunk's lines.
 */
export function isAscii(bytes: Uint8Array, from: number, to: number): boolean {
  let i = from;
  const head = Math.min(to, (from + 3 - ((bytes.byteOffset + from + 3) % 4)));
  let high = 0;
  for (; i < head; i++) high |= bytes[i]!;
  const words = (to - i) >> 2;
  if (words > 0) {
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    for (let w = 0; w < words; w++) {
      high |= view[w]!;
      if ((w & 255) === 255 && (high & 0x80808080) !== 0) return false;
    }
    i += words << 2;
  }
  for (; i < to; i++) high |= bytes[i]!;
  return (high & 0x80808080) === 0;
}
