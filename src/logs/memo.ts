// The line memo. A busy log repeats itself: the lines of one kind of event differ only in the time, the
// audit serial, the pid and the digits of the syslog or dmesg prefix. The memo recognizes such a line in
// its bytes (no string is made for it) and hands out the event the scanner made for an earlier line of
// the same kind, with this line's time, serial, pid and source. It is exact, not a heuristic: a line is
// matched only when every byte outside those digit runs equals the earlier line's, and an earlier line
// becomes a template only after the scanner has shown that those digit runs are exactly what it read as
// the time, the serial and the pid (see learn()). Everything else still goes through the scanner.
//
// A line, as the memo sees it:
//
//   [s, A)          the prefix: syslog/dmesg framing, `type=1400 `; compared with its digits masked. A
//                   prefix template says where the scanner found the payload (P, at or before A) and
//                   the source (auditd, syslog, dmesg, kernel, dbus).
//   A               the first `audit(`
//   [A+6, idEnd)    EPOCH.FRACTION:SERIAL: masked (their lengths are part of the key), values read
//   [P, A+6)        body part 1: compared exactly
//   [idEnd, ps)     body part 2: compared exactly, up to and including the first ` pid=`
//   [ps, pe)        the pid's digits: masked, value read
//   [pe, e)         body part 3: compared exactly
//
// Why this is exact: the scanner's reading of the prefix depends on the digits only through "is a digit"
// tests and positions (the lengths are kept), and it reads nothing of the prefix but the payload's start
// and the source; the body is read from P on; the time, serial and pid digits only give those numbers.
// learn() checks on the template line that the scanner read exactly those runs as those numbers.
import { repeatEvent } from './event.js';
import type { AuditEvent, ParsedRecord, RelatedRecord, SourceFormat } from './model.js';
import { isDigit, type RawRecord, scaleMillis } from './scan.js';

/** match(): not a line the memo can take; parse it. */
export const MEMO_NONE = -1;
/** match(): a line the memo has not seen; parse it and hand the result to learn(). */
export const MEMO_LEARN = -2;

/** Longer lines are always parsed (the kernel's records are far shorter). */
const MAX_MEMO_LINE = 4096;
/** `audit(` must start within this many bytes of the line. */
const MAX_PREFIX = 256;
const PREFIX_SLOTS = 256;
/** Body templates: at most MAX_ENTRIES and ARENA_BYTES of key bytes; when either is full, the memo starts over. */
const MAX_ENTRIES = 1 << 14;
const BODY_SLOTS = MAX_ENTRIES * 2;
const ARENA_BYTES = 4 << 20;
/**
 * A log whose kinds of line do not fit in the memo pays for hashing and learning templates that are
 * dropped again (measured: at 45% recognized, the benchmark's main log read no faster and peaked at twice
 * the memory). When the memo fills up after recognizing fewer than half the lines since it last started
 * over, it rests for PAUSE lines before it starts over.
 */
const PAUSE = 131072;
/** Probes before a lookup gives up (a flood of lines with colliding hashes cannot make reading slow). */
const MAX_PROBES = 8;

const enum Kind { Parse, Event, Related }

const PID_NEEDLE = Buffer.from(' pid=');
const FNV = 0x01000193;

/** Murmur3's finalizer: spreads the high bits, which the multiplications above never bring down, into the slot bits. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Hash of bytes[from, to) read 8 bytes at a time in two independent lanes, folded into h. */
function hashBytes(h: number, view: DataView, bytes: Uint8Array, from: number, to: number): number {
  let h2 = h ^ 0x5bd1e995;
  let i = from;
  for (; i + 8 <= to; i += 8) {
    h = Math.imul(h ^ view.getInt32(i, true), FNV);
    h2 = Math.imul(h2 ^ view.getInt32(i + 4, true), 0x27d4eb2d);
  }
  for (; i < to; i++) h = Math.imul(h ^ bytes[i]!, FNV);
  return Math.imul(h ^ (h2 >>> 7) ^ (h2 << 11), FNV);
}

/**
 * bytes[from, from + length) equals arena[at, at + length). Compared as doubles, 8 bytes at a time: two
 * different byte patterns are equal doubles only as +0/-0 (no template holds a NUL byte, so never here);
 * two NaNs are compared as integers.
 */
function sameBytes(view: DataView, bytes: Uint8Array, from: number, arenaView: DataView, arena: Uint8Array, at: number, length: number): boolean {
  let i = 0;
  for (; i + 8 <= length; i += 8) {
    const a = view.getFloat64(from + i, true);
    const b = arenaView.getFloat64(at + i, true);
    if (a !== b && (a === a || b === b || view.getInt32(from + i, true) !== arenaView.getInt32(at + i, true) || view.getInt32(from + i + 4, true) !== arenaView.getInt32(at + i + 4, true))) return false;
  }
  for (; i < length; i++) if (bytes[from + i] !== arena[at + i]) return false;
  return true;
}

interface PrefixTemplate {
  /** The prefix with every digit written as '0'. */
  readonly skeleton: Uint8Array;
  /** Where the payload starts, from the line's start; -1: lines with this prefix are always parsed. */
  readonly payload: number;
  readonly source: SourceFormat;
}

export class LineMemo {
  // --- the last match(): this line's values, and what learn() needs ---
  epoch = 0;
  millis = 0;
  serial = 0;
  pid = 0;
  source: SourceFormat = 'kernel';
  private lineStart = -1;
  private lineBytes: Uint8Array | undefined;
  private auditAt = -1;
  private prefixHash = 0;
  private prefix: PrefixTemplate | undefined;
  private idEnd = -1;
  private pidStart = -1;
  private pidEnd = -1;
  private epochDigits = 0;
  private fractionDigits = 0;
  private serialDigits = 0;
  private lineEnd = -1;
  // the body key of the last match (bodyKey())
  private bodyHash = 0;
  private length1 = 0;
  private length2 = 0;
  /** -1: no pid run. */
  private length3 = -1;
  /** End of body part 2: the pid's digits, or the line's end without them. */
  private bodyEnd = -1;
  private digitsKey = 0;

  // --- the byte view of the chunk being read, and the next ` pid=` in it ---
  private view: DataView | undefined;
  private viewOf: Uint8Array | undefined;
  private pidAt = -1;

  private readonly prefixes: (PrefixTemplate | undefined)[] = new Array<PrefixTemplate | undefined>(PREFIX_SLOTS).fill(undefined);

  // --- body templates: open addressing on the hash; entry i's key bytes at arena[offset[i], ...) ---
  private readonly slotHash = new Int32Array(BODY_SLOTS);
  /** Entry index + 1; 0: empty. */
  private readonly slotEntry = new Int32Array(BODY_SLOTS);
  private readonly offset = new Int32Array(MAX_ENTRIES);
  private readonly part1 = new Int32Array(MAX_ENTRIES);
  private readonly part2 = new Int32Array(MAX_ENTRIES);
  private readonly part3 = new Int32Array(MAX_ENTRIES);
  /** Digits of epoch, fraction and serial, 10 bits each. */
  private readonly digits = new Int32Array(MAX_ENTRIES);
  private readonly kind = new Uint8Array(MAX_ENTRIES);
  private readonly events: (AuditEvent | undefined)[] = [];
  private readonly related: (RelatedRecord | undefined)[] = [];
  private entries = 0;
  private readonly arena = new Uint8Array(ARENA_BYTES);
  private readonly arenaView = new DataView(this.arena.buffer);
  private arenaUsed = 0;

  /** Lines matched, and templates learned (for tests and benchmarks). */
  hits = 0;
  learned = 0;
  // lines looked up and recognized since the memo last started over (see PAUSE)
  private calls = 0;
  private callsAtStart = 0;
  private hitsAtStart = 0;
  private pausedUntil = 0;

  /**
   * Look the line bytes[s, e) up (e: its end without the newline or a CR before it). Returns an entry
   * (≥ 0) whose event() or relatedRecord() is the line's, MEMO_LEARN, or MEMO_NONE. The caller guarantees
   * nothing about the bytes; a line with a NUL or a non-ASCII byte never matches (no template has one).
   */
  match(bytes: Uint8Array, s: number, e: number): number {
    this.lineStart = -1;
    if (++this.calls < this.pausedUntil) return MEMO_NONE;
    if (e - s > MAX_MEMO_LINE || e === s || bytes[s] === 123 /* { journald JSON */) return MEMO_NONE;
    // The prefix: its skeleton's hash, up to the first `audit(`.
    let h = 0x811c9dc5 | 0;
    const limit = Math.min(e - 6, s + MAX_PREFIX);
    let i = s;
    let audit = -1;
    while (i < limit) {
      const c = bytes[i]!;
      if (isDigit(c)) {
        let j = i + 1;
        while (j < e && isDigit(bytes[j]!)) j++;
        h = Math.imul(h ^ (0x10000 + j - i), FNV);
        i = j;
        continue;
      }
      if (c === 97 && bytes[i + 5] === 40 && bytes[i + 1] === 117 && bytes[i + 2] === 100 && bytes[i + 3] === 105 && bytes[i + 4] === 116) {
        audit = i;
        break;
      }
      h = Math.imul(h ^ c, FNV);
      i++;
    }
    if (audit < 0) return MEMO_NONE;
    // EPOCH.FRACTION:SERIAL, read as scanAuditId reads it
    let j = audit + 6;
    let epoch = 0;
    while (j < e && isDigit(bytes[j]!)) epoch = epoch * 10 + bytes[j++]! - 48;
    const epochDigits = j - audit - 6;
    if (epochDigits === 0 || j >= e || bytes[j] !== 46) return MEMO_NONE;
    const fractionStart = ++j;
    let fraction = 0;
    while (j < e && isDigit(bytes[j]!)) fraction = fraction * 10 + bytes[j++]! - 48;
    const fractionDigits = j - fractionStart;
    if (fractionDigits === 0 || j >= e || bytes[j] !== 58) return MEMO_NONE;
    const serialStart = ++j;
    let serial = 0;
    while (j < e && isDigit(bytes[j]!)) serial = serial * 10 + bytes[j++]! - 48;
    const serialDigits = j - serialStart;
    if (serialDigits === 0 || j >= e || bytes[j] !== 41) return MEMO_NONE;
    if (epochDigits > 1000 || fractionDigits > 1000 || serialDigits > 1000) return MEMO_NONE;
    const idEnd = j;
    // the first ` pid=` after the header, found with one native search per occurrence in the chunk
    if (bytes !== this.viewOf) {
      this.viewOf = bytes;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.pidAt = -1;
    }
    const view = this.view!;
    if (this.pidAt < idEnd && this.pidAt !== bytes.length) {
      const found = (bytes as Buffer).indexOf(PID_NEEDLE, idEnd);
      this.pidAt = found < 0 ? bytes.length : found;
    }
    let pidStart = -1;
    let pidEnd = -1;
    let pid = 0;
    if (this.pidAt + 5 < e) {
      pidStart = this.pidAt + 5;
      pidEnd = pidStart;
      while (pidEnd < e && isDigit(bytes[pidEnd]!)) pid = pid * 10 + bytes[pidEnd++]! - 48;
      if (pidEnd === pidStart || pidEnd - pidStart > 1000) pidStart = pidEnd = -1;
    }
    this.lineBytes = bytes;
    this.lineStart = s;
    this.lineEnd = e;
    this.auditAt = audit;
    this.prefixHash = h;
    this.idEnd = idEnd;
    this.pidStart = pidStart;
    this.pidEnd = pidEnd;
    this.epochDigits = epochDigits;
    this.fractionDigits = fractionDigits;
    this.serialDigits = serialDigits;
    this.epoch = epoch;
    this.millis = scaleMillis(fraction, fractionDigits);
    this.serial = serial;
    this.pid = pid;
    // the prefix template
    const prefix = this.prefixes[finish(h) & (PREFIX_SLOTS - 1)];
    if (prefix === undefined || !sameSkeleton(prefix.skeleton, bytes, s, audit)) {
      this.prefix = undefined;
      return MEMO_LEARN;
    }
    if (prefix.payload < 0) return MEMO_NONE;
    this.prefix = prefix;
    this.source = prefix.source;
    // the body template
    const p = s + prefix.payload;
    const b = this.bodyKey(p);
    const length1 = this.length1;
    const length2 = this.length2;
    const length3 = this.length3;
    const digitsKey = this.digitsKey;
    let slot = b & (BODY_SLOTS - 1);
    for (let probe = 0; probe < MAX_PROBES; probe++) {
      const entry = this.slotEntry[slot]! - 1;
      if (entry < 0) break;
      if (this.slotHash[slot] === b && this.part1[entry] === length1 && this.part2[entry] === length2 && this.part3[entry] === length3 && this.digits[entry] === digitsKey) {
        const at = this.offset[entry]!;
        const arena = this.arena;
        const arenaView = this.arenaView;
        if (sameBytes(view, bytes, p, arenaView, arena, at, length1) &&
          sameBytes(view, bytes, idEnd, arenaView, arena, at + length1, length2) &&
          (length3 < 0 || sameBytes(view, bytes, pidEnd, arenaView, arena, at + length1 + length2, length3))) {
          if (this.kind[entry] === Kind.Parse) return MEMO_NONE;
          this.hits++;
          return entry;
        }
      }
      slot = (slot + 1) & (BODY_SLOTS - 1);
    }
    return MEMO_LEARN;
  }

  /** The event of the line just matched to `entry` (an Event entry). */
  event(entry: number, lineNumber: number): AuditEvent | undefined {
    const template = this.events[entry];
    if (template === undefined) return undefined;
    // without a masked pid run, the pid (if any) is in the compared bytes: the template's
    const pid = this.pidStart < 0 ? template.pid ?? 0 : this.pid;
    return repeatEvent(template, this.epoch, this.millis, this.serial, pid, this.source, lineNumber);
  }

  /** The related record of the line just matched to `entry` (a Related entry); undefined: parse the line. */
  relatedRecord(entry: number, lineNumber: number): RelatedRecord | undefined {
    const template = this.related[entry];
    // recordFrom makes a related record only with a serial: with serial 0 the line is something else
    if (template === undefined || this.serial === 0) return undefined;
    return { ...template, serial: this.serial, epoch: this.epoch, line: lineNumber };
  }

  /**
   * After MEMO_LEARN: the scanner's record of that line (scanned from the line alone, so its positions
   * count from the line's start) and what recordFrom made of it. The line must be ASCII without NUL.
   */
  learn(r: RawRecord, record: ParsedRecord): void {
    const bytes = this.lineBytes;
    const s = this.lineStart;
    if (bytes === undefined || s < 0) return;
    this.lineStart = -1;
    const audit = this.auditAt;
    let prefix = this.prefix;
    if (prefix === undefined) {
      // The scanner must have found the payload at or before `audit(` (then nothing after the prefix
      // decided where it ends); otherwise lines with this prefix are always parsed.
      const payload = r.payloadFrom >= 0 && r.payloadFrom <= audit - s ? r.payloadFrom : -1;
      const skeleton = new Uint8Array(audit - s);
      for (let k = 0; k < skeleton.length; k++) {
        const c = bytes[s + k]!;
        skeleton[k] = isDigit(c) ? 48 : c;
      }
      prefix = { skeleton, payload, source: r.source };
      this.prefixes[finish(this.prefixHash) & (PREFIX_SLOTS - 1)] = prefix;
      if (payload < 0) return;
      this.source = prefix.source;
      this.prefix = prefix;
      this.bodyKey(s + payload);
    }
    const p = s + prefix.payload;
    // What the scanner read as the time, serial and pid must be exactly the masked runs.
    const idFrom = audit + 6 - s;
    const timeRead = r.auditIdSet === undefined && r.auditIdFrom === idFrom && r.auditIdTo === this.idEnd - s;
    const pidRead = this.pidStart < 0 || (r.pidFrom === this.pidStart - s && r.pidTo === this.pidEnd - s);
    let kind = Kind.Parse;
    if (timeRead && pidRead && r.source === prefix.source) {
      if (record.kind === 'event' && r.text === undefined) kind = Kind.Event;
      else if (record.kind === 'related') kind = Kind.Related;
    }
    this.insert(bytes, p, kind, record);
  }

  /** The body key of the line being matched, its payload starting at p: lengths and hash, into this. */
  private bodyKey(p: number): number {
    const bytes = this.lineBytes!;
    const view = this.view!;
    const e = this.lineEnd;
    const audit = this.auditAt;
    const bodyEnd = this.pidStart < 0 ? e : this.pidStart;
    const length1 = audit + 6 - p;
    const length2 = bodyEnd - this.idEnd;
    const length3 = this.pidStart < 0 ? -1 : e - this.pidEnd;
    const digitsKey = this.epochDigits | (this.fractionDigits << 10) | (this.serialDigits << 20);
    let b = Math.imul(0x9747b28c ^ length1, FNV);
    b = Math.imul(b ^ length2, FNV);
    b = Math.imul(b ^ length3, FNV);
    b = Math.imul(b ^ digitsKey, FNV);
    b = hashBytes(b, view, bytes, p, audit + 6);
    b = hashBytes(b, view, bytes, this.idEnd, bodyEnd);
    if (length3 >= 0) b = hashBytes(b, view, bytes, this.pidEnd, e);
    b = finish(b);
    this.length1 = length1;
    this.length2 = length2;
    this.length3 = length3;
    this.bodyEnd = bodyEnd;
    this.digitsKey = digitsKey;
    this.bodyHash = b;
    return b;
  }

  private insert(bytes: Uint8Array, p: number, kind: Kind, record: ParsedRecord): void {
    const { length1, length2, length3, bodyEnd } = this;
    const size = length1 + length2 + Math.max(0, length3);
    if (this.entries >= MAX_ENTRIES || this.arenaUsed + size > ARENA_BYTES) this.clear();
    let slot = this.bodyHash & (BODY_SLOTS - 1);
    let probe = 0;
    while (this.slotEntry[slot] !== 0 && probe < MAX_PROBES - 1) {
      slot = (slot + 1) & (BODY_SLOTS - 1);
      probe++;
    }
    const entry = this.entries++;
    const at = this.arenaUsed;
    this.arena.set(bytes.subarray(p, this.auditAt + 6), at);
    this.arena.set(bytes.subarray(this.idEnd, bodyEnd), at + length1);
    if (length3 > 0) this.arena.set(bytes.subarray(this.pidEnd, this.lineEnd), at + length1 + length2);
    this.arenaUsed += size;
    this.slotHash[slot] = this.bodyHash;
    this.slotEntry[slot] = entry + 1;
    this.offset[entry] = at;
    this.part1[entry] = length1;
    this.part2[entry] = length2;
    this.part3[entry] = length3;
    this.digits[entry] = this.digitsKey;
    this.kind[entry] = kind;
    this.events[entry] = kind === Kind.Event && record.kind === 'event' ? record.event : undefined;
    if (kind === Kind.Related && record.kind === 'related') {
      const { serial: _serial, epoch: _epoch, line: _line, ...rest } = record;
      this.related[entry] = { ...rest, serial: 0, epoch: 0, line: 0 };
    } else {
      this.related[entry] = undefined;
    }
    this.learned++;
  }

  /** Forget every body template (the memo is full); rest first if it did not pay. */
  private clear(): void {
    if ((this.hits - this.hitsAtStart) * 2 < this.calls - this.callsAtStart) this.pausedUntil = this.calls + PAUSE;
    this.callsAtStart = Math.max(this.calls, this.pausedUntil);
    this.hitsAtStart = this.hits;
    this.slotEntry.fill(0);
    this.entries = 0;
    this.arenaUsed = 0;
    this.events.length = 0;
    this.related.length = 0;
  }
}

/** bytes[s, end) has the skeleton: the same bytes, with any digit where the skeleton has '0'. */
function sameSkeleton(skeleton: Uint8Array, bytes: Uint8Array, s: number, end: number): boolean {
  if (skeleton.length !== end - s) return false;
  for (let k = 0; k < skeleton.length; k++) {
    const c = bytes[s + k]!;
    if ((isDigit(c) ? 48 : c) !== skeleton[k]) return false;
  }
  return true;
}
