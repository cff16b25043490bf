// Streaming: bytes in large chunks → lines split on the newline byte → parsed records → events, with
// AVC/SYSCALL records of one audit event merged by serial. Memory is bounded by one chunk, one partial
// line (at most MAX_LINE_LENGTH; longer lines are dropped while reading) and a small correlation window.
import { isAscii } from 'node:buffer';
import { parseRange } from './event.js';
import type { AuditEvent, ParsedRecord, SkipReason, SkippedLine } from './model.js';
import { MAX_LINE_LENGTH } from './scan.js';

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
}

export type ByteSource = AsyncIterable<Uint8Array | string> | NodeJS.ReadableStream;

const LF = 10;
const PIECE = 64 * 1024;

/**
 * UTF-8 decoding of bytes[start, end). Audit logs are nearly always ASCII, and for ASCII latin1 gives the
 * same string: checking first and decoding as latin1 is several times cheaper than the UTF-8 decoder.
 */
function decode(bytes: Buffer, start: number, end: number): string {
  const part = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  return part.toString(isAscii(part) ? 'latin1' : 'utf8');
}

/**
 * Split a byte stream into lines and hand each batch of complete lines to `onText` as one decoded string
 * (decoding per chunk, not per line). Lines longer than MAX_LINE_LENGTH are reported through `onOverlong`
 * without being buffered.
 */
export class LineSplitter {
  private carry: Buffer | undefined;
  private discarding = false;

  constructor(
    private readonly onText: (text: string) => void,
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
      this.onText(decode(joined, 0, joined.length));
      start = first + 1;
      if (start <= last) this.emit(bytes, start, last);
    } else {
      this.emit(bytes, start, last);
    }
    if (last + 1 < bytes.length) this.accumulate(bytes.subarray(last + 1));
  }

  /**
   * Hand over the complete lines bytes[start, end) in pieces of about PIECE bytes cut at newlines: a
   * string that small is a young-generation object, freed by the cheap scavenger with the events sliced
   * from it, where a megabyte string would go to the large-object space and wait for a full collection.
   */
  private emit(bytes: Buffer, start: number, end: number): void {
    while (end - start > PIECE) {
      const cut = bytes.lastIndexOf(LF, start + PIECE);
      if (cut < start) break;
      this.onText(decode(bytes, start, cut));
      start = cut + 1;
    }
    this.onText(decode(bytes, start, end));
  }

  /** End of input: the last line without a newline. */
  end(): void {
    if (this.discarding) {
      this.discarding = false;
      this.onOverlong();
    } else if (this.carry && this.carry.length) {
      this.onText(decode(this.carry, 0, this.carry.length));
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
 * The engine behind readEvents: feed it chunks, collect events. Exposed so follow mode and benchmarks
 * can drive it without an async iterator per event.
 *
 * Correlation: auditd writes the records of one event (AVC, SYSCALL, PROCTITLE, EOE) together under one
 * serial, so the events of the current serial are held until a record with another serial arrives; a
 * SYSCALL record in between lends them its exe. Order is kept; at most one serial's events are held.
 */
export class EventReader {
  readonly stats: ReadStats;
  private lineNumber = 0;
  private out: AuditEvent[] = [];
  private held: AuditEvent[] = [];
  private heldSerial = 0;
  private readonly splitter: LineSplitter;

  constructor(private readonly options: ReadOptions = {}) {
    this.stats = options.stats ?? newReadStats();
    this.splitter = new LineSplitter((text) => this.lines(text), () => this.overlong());
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
    if (this.held.length === 0) return;
    for (const event of this.held) this.out.push(event);
    this.held = [];
    this.heldSerial = 0;
  }

  private overlong(): void {
    this.lineNumber++;
    this.stats.lines++;
    this.skipped({ kind: 'skip', reason: 'line-too-long', line: this.lineNumber, message: `line longer than ${MAX_LINE_LENGTH} bytes` });
  }

  private lines(text: string): void {
    // next NUL and next U+FFFD in the chunk, advanced as lines pass them (one search each per occurrence)
    let nul = text.indexOf('\0');
    let bad = text.indexOf('\uFFFD');
    let start = 0;
    const n = text.length;
    while (start <= n) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = n;
      let stop = end;
      if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
      this.lineNumber++;
      this.stats.lines++;
      if (nul >= 0 && nul < start) nul = text.indexOf('\0', start);
      if (bad >= 0 && bad < start) bad = text.indexOf('\uFFFD', start);
      if (bad >= 0 && bad < stop) this.stats.invalidUtf8++;
      this.record(parseRange(text, start, stop, this.lineNumber, this.options.file, nul));
      start = end + 1;
      if (end === n) break;
    }
  }

  private record(record: ParsedRecord): void {
    if (record.kind === 'event') {
      const event = record.event;
      this.stats.events++;
      const serial = event.time?.serial ?? 0;
      if (serial !== this.heldSerial) this.release();
      if (serial !== 0 && event.source === 'auditd') {
        this.held.push(event);
        this.heldSerial = serial;
      } else {
        this.out.push(event);
      }
    } else if (record.kind === 'related') {
      if (record.serial === this.heldSerial && this.held.length) {
        this.stats.related++;
        if (record.exe !== undefined) {
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

/** A single-use stream of events; iterate it, or take its batches (one array per chunk read). */
export interface EventStream extends AsyncIterable<AuditEvent> {
  [EVENT_BATCHES](): AsyncIterable<AuditEvent[]>;
}

async function* eachEvent(batches: AsyncIterable<AuditEvent[]>): AsyncGenerator<AuditEvent> {
  for await (const batch of batches) yield* batch;
}

/** Events from a byte stream of audit lines in any supported format, in order, correlated by serial. */
export function readEvents(source: ByteSource, options: ReadOptions = {}): EventStream {
  return {
    [Symbol.asyncIterator]: () => eachEvent(readEventBatches(source, options)),
    [EVENT_BATCHES]: () => readEventBatches(source, options),
  };
}
