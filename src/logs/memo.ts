// The line memo. A busy log repeats itself: the lines of one kind of event differ only in the time, the
// audit serial, the pid and the digits of the syslog or dmesg prefix. The memo recognizes such a line in
// its bytes (no string is made for it) and hands out the event the scanner made for an earlier line of
// the same kind, with this line's time, serial, pid, fsuid, ouid and source. It is exact, not a heuristic: a line is
// matched only when every byte outside those digit runs equals the earlier line's, and an earlier line
// becomes a template only after the scanner has shown that those digit runs are exactly what it read as
// the time, the serial and those numbers (see learn()). Everything else still goes through the scanner.
//
// A line, as the memo sees it:
//
//   [s, A)          the prefix: syslog/dmesg framing, `type=1400 `; compared with its digits masked. A
//                   prefix template says where the scanner found the payload (P, at or before A) and
//                   the source (auditd, syslog, dmesg, kernel, dbus).
//   A               the first `audit(`
//   [A+6, idEnd)    EPOCH.FRACTION:SERIAL: masked (their lengths are part of the key), values read
//   [P, A+6)        body part 1: compared exactly
//   [idEnd, e)      the rest of the body: compared exactly, except the digits right after the first
//                   ` pid=`, ` fsuid=` and ` ouid=` (masked, values read; their lengths are part of the
//                   key). Each run is masked only when the scanner read exactly those digits as that
//                   number on the template line; otherwise lines of that kind are always parsed.
//
// Why this is exact: the scanner's reading of the prefix depends on the digits only through "is a digit"
// tests and positions (the lengths are kept), and it reads nothing of the prefix but the payload's start
// and the source; the body is read from P on; the masked digits only give the time, the serial, the pid,
// the fsuid and the ouid (and owner, which is fsuid == ouid). learn() checks on the template line that
// the scanner read exactly those runs as those numbers.
import { ownerOf, repeatEvent } from './event.js';
import type { AuditEvent, ParsedRecord, RelatedRecord, SourceFormat } from './model.js';
import { isDigit, MASKED_FSUID, MASKED_KEYS, MASKED_NUMBERS, MASKED_OUID, MASKED_PID, type RawRecord, scaleMillis } from './scan.js';

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
const MAX_ENTRIES = 1 << 16;
const BODY_SLOTS = MAX_ENTRIES * 2;
const ARENA_BYTES = 16 << 20;
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
  /** Its whole words, little-endian (as match() reads them). */
  readonly words: Int32Array;
  /** Where the payload starts, from the line's start; -1: lines with this prefix are always parsed. */
  readonly payload: number;
  readonly source: SourceFormat;
}

/** Masked runs of a line, at most one per masked number; SEGMENTS: the body's compared pieces. */
const RUNS = MASKED_NUMBERS;
const SEGMENTS = RUNS + 2;
/** Per entry: offset, layout | kind << 16, digits, SEGMENTS lengths, tag. */
const META = 4 + SEGMENTS;
const TAG = META - 1;
/** ` pid=`, ` fsuid=`, ` ouid=`: the bytes before a masked run. */
const NEEDLES = MASKED_KEYS.map((key) => {
  if (!key.endsWith('id')) throw new Error(`maskedKeyBefore expects masked keys to end in 'id', not ${key}`);
  return Uint8Array.from(Buffer.from(` ${key}=`));
});

/** The masked number whose needle ends with the '=' at q (its space at or after `from`), or -1. */
function maskedKeyBefore(bytes: Uint8Array, q: number, from: number): number {
  if (bytes[q - 1] !== 100 || bytes[q - 2] !== 105) return -1; // every masked key ends in 'id'
  next: for (let k = 0; k < NEEDLES.length; k++) {
    const needle = NEEDLES[k]!;
    const start = q + 1 - needle.length;
    if (start < from) continue;
    for (let j = needle.length - 2; j >= 0; j--) if (bytes[start + j] !== needle[j]) continue next;
    return k;
  }
  return -1;
}

/** Longer digit runs are not masked (they are compared, and the number comes from the template). */
const MAX_RUN_DIGITS = 1000;

export class LineMemo {
  // --- the last match(): this line's values, and what learn() needs ---
  epoch = 0;
  millis = 0;
  serial = 0;
  /** This line's masked numbers (MASKED_PID, ...); -1 where the line has no masked run for it. */
  readonly numbers = new Float64Array(RUNS);
  source: SourceFormat = 'kernel';
  private lineStart = -1;
  private lineBytes: Uint8Array | undefined;
  private auditAt = -1;
  private prefixHash = 0;
  /** The prefix's skeleton read four bytes at a time (match()), for the whole words of the prefix. */
  private readonly skeletonWords = new Int32Array((MAX_PREFIX >> 2) + 2);
  private prefix: PrefixTemplate | undefined;
  private idEnd = -1;
  private epochDigits = 0;
  private fractionDigits = 0;
  private serialDigits = 0;
  private lineEnd = -1;
  /** The masked runs after the audit id, in line order: [start, end) and which number each is. */
  private runCount = 0;
  /** Bit k: the first occurrence of masked key k is behind (scanBody()). */
  private seenKeys = 0;
  private readonly runStart = new Int32Array(RUNS);
  private readonly runEnd = new Int32Array(RUNS);
  private readonly runNumber = new Int32Array(RUNS);
  // the body key of the last match (bodyKey()): segment lengths, layout, hash
  private readonly segmentLength = new Int32Array(SEGMENTS);
  private layoutKey = 0;
  /** Hash of the body [idEnd, e) without the masked runs, each piece from its own start (scanBody()). */
  private bodyWords = 0;
  private bodyHash = 0;
  private digitsKey = 0;

  // --- the byte view of the chunk being read ---
  private view: DataView | undefined;
  private viewOf: Uint8Array | undefined;

  private readonly prefixes: (PrefixTemplate | undefined)[] = new Array<PrefixTemplate | undefined>(PREFIX_SLOTS).fill(undefined);

  // --- body templates: open addressing on the hash; packed so that a lookup touches few cache lines ---
  /** Per slot: [hash, entry index + 1 (0: empty)]. */
  private readonly slots = new Int32Array(BODY_SLOTS * 2);
  /**
   * Per entry, META ints: the offset of its key bytes in the arena, its layout | kind << 16, the digits
   * of epoch, fraction and serial (10 bits each), its SEGMENTS segment lengths (-1: no such segment), and
   * the tag the reader's consumer attached to its template (setTag(); -1: none), all in one place so
   * that a lookup and its tag touch the same cache line or two.
   */
  private readonly meta = new Int32Array(MAX_ENTRIES * META);
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
    if (bytes !== this.viewOf) {
      this.viewOf = bytes;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    const view = this.view!;
    // The prefix, up to the first `audit(` (found by its '('), read four bytes at a time into its
    // skeleton: every digit written as '0'.
    const limit = Math.min(e - 6, s + MAX_PREFIX);
    const words = this.skeletonWords;
    let audit = -1;
    let count = 0;
    for (let i = s; i + 4 <= e && i < limit + 5; i += 4) {
      const w = view.getInt32(i, true);
      if ((w & 0x80808080) !== 0) return MEMO_NONE; // not ASCII: no template has such a prefix
      const x = w ^ 0x28282828; // a zero byte where w has '('
      if (((x - 0x01010101) & ~x & 0x80808080) !== 0) {
        for (let q = i; q < i + 4; q++) {
          if (bytes[q] === 40 && q - 5 >= s && q - 5 < limit && bytes[q - 5] === 97 && bytes[q - 4] === 117 && bytes[q - 3] === 100 && bytes[q - 2] === 105 && bytes[q - 1] === 116) {
            audit = q - 5;
            break;
          }
        }
        if (audit >= 0) break;
      }
      // the digits (0x30-0x39) of an ASCII word: bytes that reach 0x80 when 0x50 is added but not when 0x46 is
      const digits = (w + 0x50505050) & ~(w + 0x46464646) & 0x80808080;
      const m = Math.imul(digits >>> 7, 0xff);
      words[count++] = (w & ~m) | (0x30303030 & m);
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
    this.scanBody(bytes, view, idEnd, e);
    this.lineBytes = bytes;
    this.lineStart = s;
    this.lineEnd = e;
    this.auditAt = audit;
    this.idEnd = idEnd;
    this.epochDigits = epochDigits;
    this.fractionDigits = fractionDigits;
    this.serialDigits = serialDigits;
    this.epoch = epoch;
    this.millis = scaleMillis(fraction, fractionDigits);
    this.serial = serial;
    // the prefix template: its whole words, then the last bytes one by one
    const length = audit - s;
    const whole = length >> 2;
    let h = Math.imul(0x811c9dc5 ^ length, FNV);
    for (let k = 0; k < whole; k++) h = Math.imul(h ^ words[k]!, FNV);
    for (let k = s + 4 * whole; k < audit; k++) h = Math.imul(h ^ skeletonByte(bytes[k]!), FNV);
    this.prefixHash = h;
    const prefix = this.prefixes[finish(h) & (PREFIX_SLOTS - 1)];
    if (prefix === undefined || !this.sameSkeleton(prefix, bytes, s, audit)) {
      this.prefix = undefined;
      return MEMO_LEARN;
    }
    if (prefix.payload < 0) return MEMO_NONE;
    this.prefix = prefix;
    this.source = prefix.source;
    // the body template
    const p = s + prefix.payload;
    const b = this.bodyKey(p);
    const layoutKey = this.layoutKey;
    const digitsKey = this.digitsKey;
    let slot = b & (BODY_SLOTS - 1);
    for (let probe = 0; probe < MAX_PROBES; probe++) {
      const entry = this.slots[2 * slot + 1]! - 1;
      if (entry < 0) break;
      const m = entry * META;
      if (this.slots[2 * slot] === b && (this.meta[m + 1]! & 0xffff) === layoutKey && this.meta[m + 2] === digitsKey && this.sameBody(entry, p)) {
        if (this.meta[m + 1]! >>> 16 === Kind.Parse) return MEMO_NONE;
        this.hits++;
        return entry;
      }
      slot = (slot + 1) & (BODY_SLOTS - 1);
    }
    return MEMO_LEARN;
  }

  /**
   * One pass over the body [idEnd, e), four bytes at a time: finds the masked runs (the digits right after
   * the first ` pid=`, ` fsuid=` and ` ouid=`; a key whose first occurrence has no digits has no run) and
   * hashes the pieces between them, each piece from its own start (a run's length does not change the
   * hash of what follows it). Sets runCount, run*, numbers and bodyWords.
   */
  private scanBody(bytes: Uint8Array, view: DataView, idEnd: number, e: number): void {
    const numbers = this.numbers;
    for (let k = 0; k < RUNS; k++) numbers[k] = -1;
    this.runCount = 0;
    this.seenKeys = 0;
    let h = 0x2127599b | 0;
    let i = idEnd;
    words: while (i + 4 <= e) {
      const w = view.getInt32(i, true);
      const x = w ^ 0x3d3d3d3d; // a zero byte where w has '='
      let zeros = (x - 0x01010101) & ~x & 0x80808080;
      while (zeros !== 0) {
        // the lowest flagged byte (a flag above a true one can be false: bytes[q] is checked)
        const q = i + ((31 - Math.clz32(zeros & -zeros)) >> 3);
        zeros &= zeros - 1;
        if (bytes[q] === 61 && bytes[q - 1] === 100 && this.maskRun(bytes, q, idEnd, e)) {
          // the word's bytes up to the '=', then on after the run
          for (; i <= q; i++) h = Math.imul(h ^ bytes[i]!, FNV);
          i = this.runEnd[this.runCount - 1]!;
          continue words;
        }
      }
      h = Math.imul(h ^ w, FNV);
      i += 4;
    }
    for (; i < e; i++) {
      const c = bytes[i]!;
      h = Math.imul(h ^ c, FNV);
      if (c === 61 && this.maskRun(bytes, i, idEnd, e)) i = this.runEnd[this.runCount - 1]! - 1;
    }
    this.bodyWords = h;
  }

  /** The '=' at q ends the first occurrence of a masked key: record its digits as a run, if it has any. */
  private maskRun(bytes: Uint8Array, q: number, idEnd: number, e: number): boolean {
    const k = maskedKeyBefore(bytes, q, idEnd);
    if (k < 0 || (this.seenKeys & (1 << k)) !== 0) return false;
    this.seenKeys |= 1 << k;
    let to = q + 1;
    let n = 0;
    while (to < e && isDigit(bytes[to]!)) n = n * 10 + bytes[to++]! - 48;
    if (to === q + 1 || to - q - 1 > MAX_RUN_DIGITS) return false;
    // runs come in line order (found left to right)
    const r = this.runCount++;
    this.runStart[r] = q + 1;
    this.runEnd[r] = to;
    this.runNumber[r] = k;
    this.numbers[k] = n;
    return true;
  }

  /**
   * The prefix bytes[s, end) has the skeleton (the same bytes, with any digit where the skeleton has
   * '0'): its whole words compared as match() read them into skeletonWords, the last bytes one by one.
   */
  private sameSkeleton(prefix: PrefixTemplate, bytes: Uint8Array, s: number, end: number): boolean {
    const skeleton = prefix.skeleton;
    const length = end - s;
    if (skeleton.length !== length) return false;
    const whole = length >> 2;
    for (let k = 0; k < whole; k++) if (prefix.words[k] !== this.skeletonWords[k]) return false;
    for (let k = 4 * whole; k < length; k++) if (skeletonByte(bytes[s + k]!) !== skeleton[k]) return false;
    return true;
  }

  /** The event of the line just matched to `entry` (an Event entry). */
  event(entry: number, lineNumber: number): AuditEvent | undefined {
    const template = this.events[entry];
    if (template === undefined) return undefined;
    // without a masked run, a number (if any) is in the compared bytes: the template's
    const n = this.numbers;
    return repeatEvent(template, this.epoch, this.millis, this.serial, n[MASKED_PID]!, n[MASKED_FSUID]!, n[MASKED_OUID]!, this.source, lineNumber);
  }

  /** The template event of an Event entry (the event of the line it was learned from). */
  template(entry: number): AuditEvent | undefined {
    return this.events[entry];
  }

  /** The owner flag of the line just matched to `entry`'s template, as repeatEvent() would give it. */
  owner(template: AuditEvent): boolean | undefined {
    const fsuid = this.numbers[MASKED_FSUID]!;
    const ouid = this.numbers[MASKED_OUID]!;
    return ownerOf(fsuid < 0 ? template.fsuid : fsuid, ouid < 0 ? template.ouid : ouid);
  }

  /** The consumer's tag of an entry's template (-1: none); it lasts as long as the entry. */
  tag(entry: number): number {
    return this.meta[entry * META + TAG]!;
  }

  setTag(entry: number, tag: number): void {
    this.meta[entry * META + TAG] = tag;
  }

  /** The related record of the line just matched to `entry` (a Related entry); undefined: parse the line. */
  relatedRecord(entry: number, lineNumber: number): RelatedRecord | undefined {
    const template = this.related[entry];
    // recordFrom makes a related record only with a serial: with serial 0 the line is something else
    if (template === undefined || this.serial === 0) return undefined;
    // pid: the masked run's value (-1: none masked, the template's is in the compared bytes)
    const pid = this.numbers[MASKED_PID]!;
    const record = { ...template, serial: this.serial, epoch: this.epoch, line: lineNumber };
    if (pid < 0) return record;
    if (pid > 0) return { ...record, pid };
    const { pid: _none, ...withoutPid } = record;
    return withoutPid;
  }

  /**
   * After MEMO_LEARN: the scanner's record of that line (scanned from the line alone, so its positions
   * count from the line's start) and what recordFrom made of it. The line must be ASCII without NUL.
   * Returns the entry when the line's event became a template (its tag can be set), else -1.
   */
  learn(r: RawRecord, record: ParsedRecord): number {
    const bytes = this.lineBytes;
    const s = this.lineStart;
    if (bytes === undefined || s < 0) return -1;
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
        skeleton[k] = skeletonByte(c);
      }
      const words = new Int32Array(skeleton.length >> 2);
      new Uint8Array(words.buffer).set(skeleton.subarray(0, words.length * 4));
      if (!littleEndian) throw new Error('the line memo reads words little-endian');
      prefix = { skeleton, words, payload, source: r.source };
      this.prefixes[finish(this.prefixHash) & (PREFIX_SLOTS - 1)] = prefix;
      if (payload < 0) return -1;
      this.source = prefix.source;
      this.prefix = prefix;
      this.bodyKey(s + payload);
    }
    const p = s + prefix.payload;
    // What the scanner read as the time, serial and masked numbers must be exactly the masked runs.
    const idFrom = audit + 6 - s;
    let read = r.auditIdSet === undefined && r.auditIdFrom === idFrom && r.auditIdTo === this.idEnd - s;
    for (let k = 0; k < this.runCount && read; k++) {
      const number = this.runNumber[k]!;
      read = r.numberFrom[number] === this.runStart[k]! - s && r.numberTo[number] === this.runEnd[k]! - s;
    }
    let kind = Kind.Parse;
    if (read && r.source === prefix.source) {
      // Landlock's events have their own shape (landlockRecord); they are rare enough to parse every time
      if (record.kind === 'event' && r.text === undefined && record.event.landlock === undefined) kind = Kind.Event;
      else if (record.kind === 'related') kind = Kind.Related;
    }
    const entry = this.insert(bytes, p, kind, record);
    return kind === Kind.Event ? entry : -1;
  }

  /**
   * The body key of the line being matched, its payload starting at p, into this: the segments' lengths
   * ([p, audit + 6), then the pieces of [idEnd, e) between the masked runs), the layout (which number
   * each run is) and the hash of the segments' bytes.
   */
  private bodyKey(p: number): number {
    const bytes = this.lineBytes!;
    const view = this.view!;
    const lengths = this.segmentLength;
    lengths.fill(-1);
    lengths[0] = this.auditAt + 6 - p;
    let layout = this.runCount;
    let at = this.idEnd;
    for (let k = 0; k < this.runCount; k++) {
      lengths[k + 1] = this.runStart[k]! - at;
      at = this.runEnd[k]!;
      layout |= (this.runNumber[k]! + 1) << (4 + 2 * k);
    }
    lengths[this.runCount + 1] = this.lineEnd - at;
    const digitsKey = this.epochDigits | (this.fractionDigits << 10) | (this.serialDigits << 20);
    let b = Math.imul(0x9747b28c ^ layout, FNV);
    b = Math.imul(b ^ digitsKey, FNV);
    for (let k = 0; k < SEGMENTS; k++) b = Math.imul(b ^ lengths[k]!, FNV);
    b = hashBytes(b, view, bytes, p, this.auditAt + 6);
    b = finish(Math.imul(b ^ this.bodyWords, FNV));
    this.layoutKey = layout;
    this.digitsKey = digitsKey;
    this.bodyHash = b;
    return b;
  }

  /** The line's body segments (payload at p) equal entry's, lengths included. */
  private sameBody(entry: number, p: number): boolean {
    const lengths = this.segmentLength;
    const base = entry * META;
    for (let k = 0; k < SEGMENTS; k++) if (this.meta[base + 3 + k] !== lengths[k]) return false;
    const bytes = this.lineBytes!;
    const view = this.view!;
    const arena = this.arena;
    const arenaView = this.arenaView;
    let stored = this.meta[base]!;
    if (!sameBytes(view, bytes, p, arenaView, arena, stored, lengths[0]!)) return false;
    stored += lengths[0]!;
    let at = this.idEnd;
    for (let k = 0; k <= this.runCount; k++) {
      const length = lengths[k + 1]!;
      if (!sameBytes(view, bytes, at, arenaView, arena, stored, length)) return false;
      stored += length;
      at = k < this.runCount ? this.runEnd[k]! : at;
    }
    return true;
  }

  /** Add the template; returns its entry. */
  private insert(bytes: Uint8Array, p: number, kind: Kind, record: ParsedRecord): number {
    const lengths = this.segmentLength;
    let size = 0;
    for (let k = 0; k < SEGMENTS; k++) size += Math.max(0, lengths[k]!);
    if (this.entries >= MAX_ENTRIES || this.arenaUsed + size > ARENA_BYTES) this.clear();
    let slot = this.bodyHash & (BODY_SLOTS - 1);
    let probe = 0;
    while (this.slots[2 * slot + 1] !== 0 && probe < MAX_PROBES - 1) {
      slot = (slot + 1) & (BODY_SLOTS - 1);
      probe++;
    }
    const entry = this.entries++;
    let stored = this.arenaUsed;
    const m = entry * META;
    this.meta[m] = stored;
    this.arena.set(bytes.subarray(p, this.auditAt + 6), stored);
    stored += lengths[0]!;
    let at = this.idEnd;
    for (let k = 0; k <= this.runCount; k++) {
      const length = lengths[k + 1]!;
      this.arena.set(bytes.subarray(at, at + length), stored);
      stored += length;
      if (k < this.runCount) at = this.runEnd[k]!;
    }
    this.arenaUsed = stored;
    this.meta.set(lengths, m + 3);
    this.meta[m + 1] = this.layoutKey | (kind << 16);
    this.meta[m + 2] = this.digitsKey;
    this.meta[m + TAG] = -1;
    this.slots[2 * slot] = this.bodyHash;
    this.slots[2 * slot + 1] = entry + 1;
    this.events[entry] = kind === Kind.Event && record.kind === 'event' ? record.event : undefined;
    if (kind === Kind.Related && record.kind === 'related') {
      const { serial: _serial, epoch: _epoch, line: _line, ...rest } = record;
      this.related[entry] = { ...rest, serial: 0, epoch: 0, line: 0 };
    } else {
      this.related[entry] = undefined;
    }
    this.learned++;
    return entry;
  }

  /** Forget every body template (the memo is full); rest first if it did not pay. */
  private clear(): void {
    if ((this.hits - this.hitsAtStart) * 2 < this.calls - this.callsAtStart) this.pausedUntil = this.calls + PAUSE;
    this.callsAtStart = Math.max(this.calls, this.pausedUntil);
    this.hitsAtStart = this.hits;
    this.slots.fill(0);
    this.entries = 0;
    this.arenaUsed = 0;
    this.events.length = 0;
    this.related.length = 0;
  }
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A byte of a prefix skeleton: digits are '0'. */
function skeletonByte(c: number): number {
  return isDigit(c) ? 48 : c;
}
