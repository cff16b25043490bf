// The hand-written scanner: one pass over a line, no regular expression per field. It recognizes the
// prefix (auditd, syslog, dmesg, bare kernel, dbus), the audit header `audit(EPOCH.MILLIS:SERIAL)`, and
// the key=value body (quoted, hex-encoded or bare values), into a RawRecord with a fixed shape. Turning
// that into an AuditEvent (event.ts) and printing it the way libapparmor's test suite does
// (aalogparse.ts) are separate steps, so both views agree on what was read.
import type { SkipReason, SourceFormat } from './model.js';

/** Longest line hatter parses; the kernel's audit records are below 9 KB. */
export const MAX_LINE_LENGTH = 64 * 1024;

/** The numbers whose digits the line memo masks (memo.ts): their index in RawRecord.numberFrom/numberTo. */
export const MASKED_PID = 0;
export const MASKED_FSUID = 1;
export const MASKED_OUID = 2;
export const MASKED_NUMBERS = 3;
/** The key of each masked number, as the memo searches for it. */
export const MASKED_KEYS: readonly string[] = ['pid', 'fsuid', 'ouid'];

export class RawRecord {
  source: SourceFormat = 'kernel';
  /** The line had no prefix hatter recognizes; nothing else was read. */
  unknownPrefix = false;
  /** Why the line is unusable, when it is. */
  problem: SkipReason | undefined = undefined;
  problemDetail = '';
  /**
   * The first malformed field (a word that is not key=value, a key without a value, a number field
   * that is not a number), as libapparmor's grammar would reject it: what, and where its key starts.
   * Scanning stops there once the record is known to be AppArmor's (the reference stops too).
   */
  malformed: string | undefined = undefined;
  malformedAt = -1;
  /** The malformed field is a stray word: the reference keeps the rest of the line as Info. */
  malformedWord = false;
  /** A bare `addr=none` or `peer_addr=none` (a unix socket without an address): where its key starts, or -1. */
  addrNoneAt = -1;
  /** `type=` of the header: 'AVC', '1400', 'APPARMOR_DENIED', 'UNKNOWN[1503]', 'USER_AVC', 'CRED_ACQ', ... */
  recordType: string | undefined = undefined;
  /** `type=` written inside the body (old kernels: `audit(...): type=1503 operation=...`). */
  bodyType: string | undefined = undefined;
  /** The scanned text; auditId and syslogTime are sliced from it only when asked for. */
  input = '';
  auditIdFrom = -1;
  auditIdTo = -1;
  auditIdSet: string | undefined = undefined;
  epoch = 0;
  millis = 0;
  serial = 0;
  /** Syslog/ISO timestamp text when there was no audit header (dbus lines); parsed on demand. */
  syslogTimeFrom = -1;
  syslogTimeTo = -1;
  /** The body when it is not key=value: old REJECTING/PERMITTING text, or another audit record type. */
  text: string | undefined = undefined;
  /** True once any key=value field was read. */
  hasFields = false;
  /** Where the payload starts (after the syslog/dmesg/auditd framing); -1 when the prefix was not recognized. */
  payloadFrom = -1;
  /**
   * For the numbers the line memo masks (MASKED_PID, MASKED_FSUID, MASKED_OUID): where the digits that set
   * the value are ([numberFrom[k], numberTo[k])), when they were written bare in the scanned text; -1 when
   * the value was not set, -2 when it was set from a quoted value. The memo (memo.ts) checks that a line's
   * masked digits are the ones the scanner read.
   */
  readonly numberFrom = new Int32Array(MASKED_NUMBERS).fill(-1);
  readonly numberTo = new Int32Array(MASKED_NUMBERS).fill(-1);

  apparmor: string | undefined = undefined;
  operation: string | undefined = undefined;
  klass: string | undefined = undefined;
  profile: string | undefined = undefined;
  peerProfile: string | undefined = undefined;
  peer: string | undefined = undefined;
  name: string | undefined = undefined;
  name2: string | undefined = undefined;
  capname: string | undefined = undefined;
  comm: string | undefined = undefined;
  exe: string | undefined = undefined;
  namespace: string | undefined = undefined;
  attribute: string | undefined = undefined;
  info: string | undefined = undefined;
  peerInfo: string | undefined = undefined;
  activeHat: string | undefined = undefined;
  execpath: string | undefined = undefined;
  netAddr: string | undefined = undefined;
  peerAddr: string | undefined = undefined;
  family: string | undefined = undefined;
  sockType: string | undefined = undefined;
  protocol: string | undefined = undefined;
  /** protocol= was quoted (then kept as written; a bare number is named). */
  protocolQuoted = false;
  localAddr: string | undefined = undefined;
  foreignAddr: string | undefined = undefined;
  bus: string | undefined = undefined;
  dbusPath: string | undefined = undefined;
  dbusInterface: string | undefined = undefined;
  dbusMember: string | undefined = undefined;
  signal: string | undefined = undefined;
  fstype: string | undefined = undefined;
  flags: string | undefined = undefined;
  srcname: string | undefined = undefined;
  requested: string | undefined = undefined;
  denied: string | undefined = undefined;
  fsuidName: string | undefined = undefined;
  ouidName: string | undefined = undefined;
  fsuid = -1;
  ouid = -1;
  pid = 0;
  peerPid = 0;
  parent = 0;
  task = 0;
  token = 0;
  error = 0;
  localPort = 0;
  foreignPort = 0;
  capability = -1;
  /** Unmodelled fields as key, value pairs. */
  extra: string[] | undefined = undefined;

  /** `EPOCH.MILLIS:SERIAL` as written in `audit(...)`. */
  get auditId(): string | undefined {
    if (this.auditIdSet !== undefined) return this.auditIdSet;
    return this.auditIdFrom >= 0 ? this.input.slice(this.auditIdFrom, this.auditIdTo) : undefined;
  }

  set auditId(value: string | undefined) {
    this.auditIdSet = value;
  }

  get hasAuditId(): boolean {
    return this.auditIdSet !== undefined || this.auditIdFrom >= 0;
  }

  get syslogTime(): string | undefined {
    return this.syslogTimeFrom >= 0 ? this.input.slice(this.syslogTimeFrom, this.syslogTimeTo) : undefined;
  }

  /** Clear every field, so one scratch record can serve line after line without allocation. */
  reset(): this {
    this.source = 'kernel';
    this.unknownPrefix = false;
    this.problem = undefined;
    this.problemDetail = '';
    this.malformed = undefined;
    this.malformedAt = -1;
    this.malformedWord = false;
    this.addrNoneAt = -1;
    this.recordType = undefined;
    this.bodyType = undefined;
    this.input = '';
    this.auditIdFrom = -1;
    this.auditIdTo = -1;
    this.auditIdSet = undefined;
    this.epoch = 0;
    this.millis = 0;
    this.serial = 0;
    this.syslogTimeFrom = -1;
    this.syslogTimeTo = -1;
    this.text = undefined;
    this.hasFields = false;
    this.payloadFrom = -1;
    for (let k = 0; k < MASKED_NUMBERS; k++) {
      this.numberFrom[k] = -1;
      this.numberTo[k] = -1;
    }
    this.apparmor = undefined;
    this.operation = undefined;
    this.klass = undefined;
    this.profile = undefined;
    this.peerProfile = undefined;
    this.peer = undefined;
    this.name = undefined;
    this.name2 = undefined;
    this.capname = undefined;
    this.comm = undefined;
    this.exe = undefined;
    this.namespace = undefined;
    this.attribute = undefined;
    this.info = undefined;
    this.peerInfo = undefined;
    this.activeHat = undefined;
    this.execpath = undefined;
    this.netAddr = undefined;
    this.peerAddr = undefined;
    this.family = undefined;
    this.sockType = undefined;
    this.protocol = undefined;
    this.protocolQuoted = false;
    this.localAddr = undefined;
    this.foreignAddr = undefined;
    this.bus = undefined;
    this.dbusPath = undefined;
    this.dbusInterface = undefined;
    this.dbusMember = undefined;
    this.signal = undefined;
    this.fstype = undefined;
    this.flags = undefined;
    this.srcname = undefined;
    this.requested = undefined;
    this.denied = undefined;
    this.fsuidName = undefined;
    this.ouidName = undefined;
    this.fsuid = -1;
    this.ouid = -1;
    this.pid = 0;
    this.peerPid = 0;
    this.parent = 0;
    this.task = 0;
    this.token = 0;
    this.error = 0;
    this.localPort = 0;
    this.foreignPort = 0;
    this.capability = -1;
    this.extra = undefined;
    return this;
  }
}

const SPACE = 32;
const TAB = 9;
const LF = 10;
const CR = 13;
const GS = 0x1d; // auditd's separator before enriched fields
const QUOTE = 34;
const APOS = 39;
const EQUALS = 61;

function isSeparator(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR || c === GS;
}

/** An ASCII digit (the line memo masks the same runs the scanner tests with this). */
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isUpperHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70);
}

function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45;
}


/**
 * Scan one record. `text` may hold several physical lines (the libapparmor test inputs do); newlines are
 * separators. Never throws.
 */
export function scanRecord(text: string, into?: RawRecord, from = 0, to = text.length): RawRecord {
  const r = into ? into.reset() : new RawRecord();
  r.input = text;
  // The record is text[from, to): a line inside a whole decoded chunk is scanned in place (a flat string
  // is faster to read than a sliced one, and no line string is made). Every read below stays under limit.
  limit = to;
  let i = skipSeparators(text, from);
  if (i >= limit) {
    r.problem = 'empty';
    return r;
  }
  i = stripPrefix(text, i, r);
  if (i < 0) {
    r.unknownPrefix = true;
    return r;
  }
  r.payloadFrom = i;
  scanHeaderAndBody(text, i, r);
  return r;
}

/** End of the record being scanned (exclusive); set by scanRecord. */
let limit = 0;

/** charCodeAt within the record: -1 past its end (never the next line's characters). */
function at(text: string, i: number): number {
  return i < limit ? text.charCodeAt(i) : -1;
}

/** `text.startsWith(word, i)` without the builtin's generic path (this runs for every field of every line). */
function matchesAt(text: string, i: number, word: string): boolean {
  const n = word.length;
  if (i + n > limit) return false;
  for (let k = 0; k < n; k++) if (text.charCodeAt(i + k) !== word.charCodeAt(k)) return false;
  return true;
}

function skipSeparators(text: string, i: number): number {
  const n = limit;
  while (i < n && isSeparator(text.charCodeAt(i))) i++;
  return i;
}

/** A month abbreviation at i (compared in place: no substring). */
function isMonthAt(text: string, i: number): boolean {
  if (i + 3 > limit) return false;
  const a = text.charCodeAt(i);
  const b = text.charCodeAt(i + 1);
  const c = text.charCodeAt(i + 2);
  // first letters J F M A S O N D; then the exact name
  switch (a) {
    case 74: return (b === 97 && c === 110) || (b === 117 && (c === 110 || c === 108)); // Jan Jun Jul
    case 70: return b === 101 && c === 98; // Feb
    case 77: return b === 97 && (c === 114 || c === 121); // Mar May
    case 65: return (b === 112 && c === 114) || (b === 117 && c === 103); // Apr Aug
    case 83: return b === 101 && c === 112; // Sep
    case 79: return b === 99 && c === 116; // Oct
    case 78: return b === 111 && c === 118; // Nov
    case 68: return b === 101 && c === 99; // Dec
    default: return false;
  }
}

/** Index where the audit payload starts, after any syslog/dmesg/auditd framing; -1 when unrecognized. */
function stripPrefix(text: string, i: number, r: RawRecord): number {
  const c = at(text, i);
  // auditd: `type=...` or `node=HOST type=...`
  if (c === 116 /* t */ && matchesAt(text, i, 'type=')) {
    r.source = 'auditd';
    return i;
  }
  if (c === 110 /* n */ && matchesAt(text, i, 'node=')) {
    const sp = text.indexOf(' ', i);
    if (sp < 0 || sp >= limit) return -1;
    const j = skipSeparators(text, sp);
    if (!matchesAt(text, j, 'type=')) return -1;
    r.source = 'auditd';
    return j;
  }
  // dmesg: `[ 1597.774866] audit: ...` or `[Sun Nov 22 02:00:00 2026] audit: ...`
  if (c === 91 /* [ */) {
    const close = text.indexOf(']', i);
    if (close < 0 || close >= limit || close - i > 40) return -1;
    r.source = 'dmesg';
    return afterKernelPrefix(text, skipSeparators(text, close + 1));
  }
  if ((c === 97 /* a */ && (matchesAt(text, i, 'audit') || matchesAt(text, i, 'apparmor='))) || matchesAt(text, i, 'AVC ') || matchesAt(text, i, 'USER_AVC ')) {
    r.source = 'kernel';
    return afterKernelPrefix(text, i);
  }
  // syslog: `Jul 24 12:25:33[.frac][zone] host ident[pid]: ...` or `2013-01-01[T ]15:09:04[.frac][zone] host ...`
  let j: number;
  if (isMonthAt(text, i) && at(text, i + 3) === SPACE) {
    j = i + 4;
    while (at(text, j) === SPACE) j++;
    if (!isDigit(at(text, j))) return -1;
  } else if (isDigit(c) && at(text, i + 4) === 45 /* - */ && at(text, i + 7) === 45) {
    j = i;
  } else {
    return -1;
  }
  // date and time: non-space run, plus the time's run for the month form
  const dateStart = j;
  j = nextSpace(text, j);
  if (isMonthAt(text, i) || at(text, i + 10) === SPACE) {
    j = skipSpacesOnly(text, j);
    if (!isDigit(at(text, j))) return -1;
    j = nextSpace(text, j);
  }
  r.syslogTimeFrom = isMonthAt(text, i) ? i : dateStart;
  r.syslogTimeTo = j;
  j = skipSpacesOnly(text, j);
  // host, then the identifier ending with ':'; a missing host is tolerated
  let token = nextSpace(text, j);
  if (at(text, token - 1) !== 58 /* : */) {
    j = skipSpacesOnly(text, token);
    token = nextSpace(text, j);
    if (at(text, token - 1) !== 58) return -1;
  }
  const ident = text.slice(j, token - 1);
  j = skipSpacesOnly(text, token);
  r.source = ident.startsWith('dbus') ? 'dbus' : 'syslog';
  if (at(text, j) === 91 /* [ printk time */) {
    const close = text.indexOf(']', j);
    if (close < 0 || close >= limit) return -1;
    j = skipSpacesOnly(text, close + 1);
  }
  return afterKernelPrefix(text, j);
}

function afterKernelPrefix(text: string, i: number): number {
  if (matchesAt(text, i, 'audit: ')) return skipSpacesOnly(text, i + 7);
  return i;
}

function nextSpace(text: string, i: number): number {
  const n = limit;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === SPACE || c === LF || c === TAB) break;
    i++;
  }
  return i;
}

function skipSpacesOnly(text: string, i: number): number {
  while (at(text, i) === SPACE) i++;
  return i;
}

/** The fraction of `audit(EPOCH.FRACTION:SERIAL)` in milliseconds: three digits in practice, anything else scaled. */
export function scaleMillis(fraction: number, digits: number): number {
  return digits === 3 ? fraction : Math.floor(fraction * 10 ** (3 - digits));
}

/** `audit(1279948227.175:27)` at i; returns the index after `)` (and a following `:`), or -1. */
function scanAuditId(text: string, i: number, r: RawRecord): number {
  if (!matchesAt(text, i, 'audit(')) return -1;
  let j = i + 6;
  const start = j;
  let epoch = 0;
  while (isDigit(at(text, j))) epoch = epoch * 10 + at(text, j++) - 48;
  if (j === start || at(text, j) !== 46 /* . */) return -1;
  j++;
  let millis = 0;
  const millisStart = j;
  while (isDigit(at(text, j))) millis = millis * 10 + at(text, j++) - 48;
  if (j === millisStart || at(text, j) !== 58 /* : */) return -1;
  j++;
  let serial = 0;
  const serialStart = j;
  while (isDigit(at(text, j))) serial = serial * 10 + at(text, j++) - 48;
  if (j === serialStart || at(text, j) !== 41 /* ) */) return -1;
  r.auditIdFrom = start;
  r.auditIdTo = j;
  r.epoch = epoch;
  r.millis = scaleMillis(millis, serialStart - 1 - millisStart);
  r.serial = serial;
  j++;
  if (at(text, j) === 58) j++;
  return j;
}

function scanHeaderAndBody(text: string, i: number, r: RawRecord): void {
  if (matchesAt(text, i, 'type=')) {
    const end = nextSpace(text, i + 5);
    // interned: a handful of spellings (AVC, 1400, SYSCALL, ...) on every line
    r.recordType = end - i <= 30 ? intern(text, i + 5, end) : text.slice(i + 5, end);
    let j = skipSeparators(text, end);
    if (matchesAt(text, j, 'msg=')) j += 4;
    if (matchesAt(text, j, 'audit(')) {
      const after = scanAuditId(text, j, r);
      if (after < 0) {
        r.problem = 'no-fields';
        r.problemDetail = 'malformed audit(...) header';
        return;
      }
      j = after;
    }
    scanBody(text, j, r);
    return;
  }
  if (matchesAt(text, i, 'audit(')) {
    const after = scanAuditId(text, i, r);
    if (after < 0) {
      r.problem = 'no-fields';
      r.problemDetail = 'malformed audit(...) header';
      return;
    }
    scanBody(text, after, r);
    return;
  }
  // `AVC apparmor=...` (audit records relayed through journald/rsyslog without their header)
  if (matchesAt(text, i, 'AVC ') || matchesAt(text, i, 'USER_AVC ')) {
    const end = nextSpace(text, i);
    r.recordType = text.slice(i, end);
    scanBody(text, end, r);
    return;
  }
  scanBody(text, i, r);
}

function isUserAvc(type: string | undefined): boolean {
  return type === 'USER_AVC' || type === '1107';
}

function scanBody(text: string, i: number, r: RawRecord): void {
  i = skipSeparators(text, i);
  if (i >= limit) {
    r.problem = 'no-fields';
    r.problemDetail = 'nothing after the audit header';
    return;
  }
  // Old-style text and other records: the first word is not key=value.
  let k = i;
  while (k < limit && isKeyChar(text.charCodeAt(k))) k++;
  if (k === i || at(text, k) !== EQUALS) {
    r.text = trimLineEnds(text.slice(i, limit));
    return;
  }
  if (isUserAvc(r.recordType)) {
    // dbus-daemon's USER_AVC: the AppArmor fields are inside msg='...'; the outer pid/uid are the daemon's.
    const m = text.indexOf("msg='", i);
    if (m >= 0 && m < limit) {
      let end = text.indexOf("'", m + 5);
      if (end < 0 || end > limit) end = limit;
      scanFields(text, m + 5, end, r, true);
      return;
    }
  }
  scanFields(text, i, limit, r, false);
}

function trimLineEnds(text: string): string {
  let end = text.length;
  while (end > 0) {
    const c = text.charCodeAt(end - 1);
    if (c !== LF && c !== CR) break;
    end--;
  }
  return end === text.length ? text : text.slice(0, end);
}

// --- keys: recognized by a hash computed while scanning, verified in place; no key string is made ---

const enum F {
  apparmor, operation, klass, profile, peerProfile, peer, name, capname, name2, comm, exe, namespace, attribute,
  info, peerInfo, active, execpath, addr, peerAddr, family, sockType, protocol, laddr, faddr, bus, path,
  iface, member, signal, fstype, flags, srcname, requested, denied, type, FSUIDname, OUIDname,
  pid, peerPid, parent, task, token, error, fsuid, ouid, lport, fport, capability, auditTrailer, msg,
}

function maskedNumberOf(field: number): number {
  return field === F.pid ? MASKED_PID : field === F.fsuid ? MASKED_FSUID : field === F.ouid ? MASKED_OUID : -1;
}

const KEY_TABLE: readonly (readonly [string, F])[] = [
  ['apparmor', F.apparmor], ['operation', F.operation], ['class', F.klass], ['profile', F.profile], ['label', F.profile],
  ['peer_profile', F.peerProfile], ['peer_label', F.peerProfile], ['tcontext', F.peerProfile], ['peer', F.peer],
  ['name', F.name], ['capname', F.capname], ['name2', F.name2], ['target', F.name2], ['comm', F.comm], ['exe', F.exe],
  ['namespace', F.namespace], ['attribute', F.attribute], ['info', F.info], ['peer_info', F.peerInfo],
  ['active', F.active], ['execpath', F.execpath], ['addr', F.addr], ['peer_addr', F.peerAddr], ['family', F.family],
  ['sock_type', F.sockType], ['protocol', F.protocol], ['laddr', F.laddr], ['saddr', F.laddr], ['faddr', F.faddr],
  ['daddr', F.faddr], ['bus', F.bus], ['path', F.path], ['interface', F.iface], ['member', F.member], ['method', F.member],
  ['signal', F.signal], ['fstype', F.fstype], ['flags', F.flags], ['srcname', F.srcname],
  ['requested_mask', F.requested], ['requested', F.requested], ['denied_mask', F.denied], ['denied', F.denied],
  ['mask', F.denied], ['type', F.type], ['FSUID', F.FSUIDname], ['OUID', F.OUIDname], ['pid', F.pid],
  ['peer_pid', F.peerPid], ['parent', F.parent], ['task', F.task], ['magic_token', F.token], ['error', F.error],
  ['fsuid', F.fsuid], ['ouid', F.ouid], ['lport', F.lport], ['src', F.lport], ['fport', F.fport], ['dest', F.fport],
  ['capability', F.capability], ['hostname', F.auditTrailer], ['terminal', F.auditTrailer], ['sauid', F.auditTrailer],
  ['res', F.auditTrailer], ['msg', F.msg],
];

const HASH_SIZE = 1024;
const HASH_MASK = HASH_SIZE - 1;
/** Open-addressed table: slot → index into KEY_TABLE + 1 (0 = empty). */
const hashSlots = new Int16Array(HASH_SIZE);

/** Length and three characters identify every known key; matchesAt() confirms. */
function keyHash(text: string, from: number, to: number): number {
  const length = to - from;
  return (length * 131 + text.charCodeAt(from) * 31 + text.charCodeAt(from + (length >> 1)) * 7 + text.charCodeAt(to - 1)) & HASH_MASK;
}

const KEY_NAMES: readonly string[] = KEY_TABLE.map(([name]) => name);
const KEY_FIELDS = Int8Array.from(KEY_TABLE.map(([, field]) => field));

for (let k = 0; k < KEY_TABLE.length; k++) {
  const name = KEY_NAMES[k]!;
  let slot = keyHash(name, 0, name.length);
  while (hashSlots[slot] !== 0) slot = (slot + 1) & HASH_MASK;
  hashSlots[slot] = k + 1;
}

/** The field a key names, or -1 for keys hatter does not model. */
function fieldOf(text: string, from: number, to: number, hash: number): number {
  const length = to - from;
  let slot = hash;
  for (;;) {
    const entry = hashSlots[slot]!;
    if (entry === 0) return -1;
    const name = KEY_NAMES[entry - 1]!;
    if (name.length === length && matchesAt(text, from, name)) return KEY_FIELDS[entry - 1]!;
    slot = (slot + 1) & HASH_MASK;
  }
}

/** Values the kernel writes with audit_log_untrustedstring: quoted, or hex when unsafe. */
function isHexField(field: number): boolean {
  switch (field) {
    case F.profile: case F.name: case F.name2: case F.comm: case F.peer: case F.peerProfile: case F.exe:
    case F.srcname: case F.fstype: case F.addr: case F.peerAddr: case F.execpath: case F.namespace: case F.path:
    case F.iface: case F.member: case F.bus:
      return true;
    default:
      return false;
  }
}

function isNumericField(field: number): boolean {
  return field >= F.pid && field <= F.capability;
}

// Short values from a small vocabulary (apparmor=, operation=, class=, masks, comm=, socket fields) are
// interned: one string per spelling, so no allocation per line, and Map lookups downstream (summaries,
// caches) find a string whose hash is already computed.
const INTERN_SIZE = 4096;
const internTable: (string | undefined)[] = new Array<string | undefined>(INTERN_SIZE).fill(undefined);

function intern(text: string, from: number, to: number): string {
  const length = to - from;
  let h = length;
  for (let k = from; k < to; k++) h = (Math.imul(h, 31) + text.charCodeAt(k)) | 0;
  const slot = (h ^ (h >>> 12)) & (INTERN_SIZE - 1);
  const hit = internTable[slot];
  if (hit !== undefined && hit.length === length) {
    let k = 0;
    while (k < length && hit.charCodeAt(k) === text.charCodeAt(from + k)) k++;
    if (k === length) return hit;
  }
  const fresh = length < 13 ? text.slice(from, to) : (' ' + text.slice(from, to)).slice(1);
  internTable[slot] = fresh;
  return fresh;
}

function isInternedField(field: number): boolean {
  switch (field) {
    case F.apparmor: case F.operation: case F.klass: case F.requested: case F.denied: case F.family:
    case F.sockType: case F.protocol: case F.comm: case F.type: case F.signal: case F.bus:
      return true;
    default:
      return false;
  }
}

/** Lower-case hex without a Buffer when the result is ASCII (it nearly always is). */
function decodeHex(text: string, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i += 2) {
    const hi = text.charCodeAt(i);
    const lo = text.charCodeAt(i + 1);
    const byte = ((hi <= 57 ? hi - 48 : hi - 55) << 4) | (lo <= 57 ? lo - 48 : lo - 55);
    if (byte >= 0x80 || byte === 0) return Buffer.from(text.slice(from, to), 'hex').toString('utf8');
    out += String.fromCharCode(byte);
  }
  return out;
}

/** The key=value loop. `inUserMsg`: inside a USER_AVC msg='...', where audit's own trailer fields are ignored. */
function scanFields(text: string, i: number, end: number, r: RawRecord, inUserMsg: boolean): void {
  while (true) {
    while (i < end && isSeparator(text.charCodeAt(i))) i++;
    if (i >= end) return;
    const keyStart = i;
    // Fast path: the next '=' (a native search) ends a known key, confirmed by fieldOf's exact match.
    const eq = text.indexOf('=', i);
    let field = -1;
    if (eq > i && eq < end && eq - i <= 16) field = fieldOf(text, i, eq, keyHash(text, i, eq));
    if (field < 0) {
      // unknown key, or no key at all: check the characters one by one
      while (i < end && isKeyChar(text.charCodeAt(i))) i++;
      if (i === keyStart || i >= end || text.charCodeAt(i) !== EQUALS) {
        // a stray word (the kernel never writes one, but logs get mangled)
        if (text.charCodeAt(keyStart) === QUOTE) {
          // a quoted string without a key: libapparmor ignores it when it runs to the end of the
          // line (the rest is never read) and rejects the record when it closes
          const close = text.indexOf('"', keyStart + 1);
          if (close < 0 || close >= end) return;
        }
        while (i < end && !isSeparator(text.charCodeAt(i))) i++;
        if (noteMalformed(r, keyStart, `unexpected '${text.slice(keyStart, Math.min(i, keyStart + 40))}' where a key=value field belongs`, true)) return;
        continue;
      }
    } else {
      i = eq;
    }
    const keyEnd = i;
    i++;
    let value: string;
    const q = i < end ? text.charCodeAt(i) : -1;
    if (q === -1 || isSeparator(q)) {
      // `key=` and nothing: the reference's grammar wants a value (and reads an unknown key as a stray word)
      if (noteMalformed(r, keyStart, `${text.slice(keyStart, keyEnd)}= has no value`, field < 0)) return;
      continue;
    }
    if (q === QUOTE) {
      if (field === F.protocol) r.protocolQuoted = true;
      const close = text.indexOf('"', i + 1);
      if (close < 0 || close >= end) {
        r.problem = 'unterminated-quote';
        r.problemDetail = `value of ${text.slice(keyStart, keyEnd)}= has no closing quote`;
        value = text.slice(i + 1, end);
        i = end;
      } else {
        value = close - i <= 25 && isInternedField(field) ? intern(text, i + 1, close) : text.slice(i + 1, close);
        i = close + 1;
      }
    } else if (q === APOS && field === F.msg) {
      // a nested message (USER_AVC relayed without its type): read its fields in place
      let close = text.indexOf("'", i + 1);
      if (close < 0 || close > end) close = end;
      scanFields(text, i + 1, close, r, true);
      i = close + 1;
      continue;
    } else {
      const start = i;
      let allHex = true;
      while (i < end) {
        const c = text.charCodeAt(i);
        if (isSeparator(c)) break;
        if (allHex && !isUpperHex(c)) allHex = false;
        i++;
      }
      if (allHex && i > start && isHexField(field)) {
        if ((i - start) % 2 === 1) {
          r.problem = 'odd-length-hex';
          r.problemDetail = `hex-encoded ${text.slice(keyStart, keyEnd)}= has an odd number of digits`;
          value = text.slice(start, i);
        } else {
          value = decodeHex(text, start, i);
        }
      } else if (isNumericField(field)) {
        if (!assignNumber(r, field, text, start, i)) {
          // `pid=12a`: the reference reads the number 12, then a stray word; `pid=abc`, `pid=-5`: no number
          let digits = start;
          while (digits < i && isDigit(text.charCodeAt(digits))) digits++;
          if (digits > start) assignNumber(r, field, text, start, digits);
          const detail = `${text.slice(keyStart, keyEnd)}= is not a number: '${text.slice(start, Math.min(i, start + 40))}'`;
          if (noteMalformed(r, digits > start ? digits : keyStart, detail, digits > start)) return;
        } else {
          const masked = maskedNumberOf(field);
          if (masked >= 0) {
            r.numberFrom[masked] = start;
            r.numberTo[masked] = i;
          }
        }
        continue;
      } else {
        value = text.slice(start, i);
        if (field === F.protocol && !isDigits(text, start, i)) {
          if (noteMalformed(r, keyStart, `protocol= is not a number: '${text.slice(start, Math.min(i, start + 40))}'`, false)) return;
          continue;
        }
        if ((field === F.addr || field === F.peerAddr) && r.addrNoneAt < 0 && i - start === 4 && matchesAt(text, start, 'none')) r.addrNoneAt = keyStart;
      }
    }
    assignString(r, field, value, inUserMsg, text, keyStart, keyEnd);
  }
}

/**
 * Note the record's first malformed field. True when scanning should stop: the record already is an
 * AppArmor one (libapparmor stops at the error). Other audit records (a SYSCALL's `subj=… (enforce)`)
 * are read on, since hatter takes their exe= and comm=.
 */
function noteMalformed(r: RawRecord, at: number, detail: string, word: boolean): boolean {
  if (r.malformed === undefined) {
    r.malformed = detail;
    r.malformedAt = at;
    r.malformedWord = word;
  }
  return r.apparmor !== undefined;
}

function isDigits(text: string, from: number, to: number): boolean {
  if (from === to) return false;
  for (let k = from; k < to; k++) if (!isDigit(text.charCodeAt(k))) return false;
  return true;
}

/** Numeric field; false when the value is not a number. A sign only where the kernel writes one (error=-13, fsuid=-1). */
function assignNumber(r: RawRecord, field: number, text: string, start: number, end: number): boolean {
  let j = start;
  let negative = false;
  if (text.charCodeAt(j) === 45) {
    if (field !== F.error && field !== F.fsuid && field !== F.ouid) return false;
    negative = true;
    j++;
  }
  let n = 0;
  const digitsStart = j;
  while (j < end && isDigit(text.charCodeAt(j))) n = n * 10 + text.charCodeAt(j++) - 48;
  if (j !== end || j === digitsStart) return false;
  r.hasFields = true;
  switch (field) {
    case F.pid: r.pid = n; break;
    case F.peerPid: r.peerPid = n; break;
    case F.parent: r.parent = n; break;
    case F.task: r.task = n; break;
    case F.token: r.token = n; break;
    case F.error: r.error = n; break; // the sign is dropped, as libapparmor does
    case F.fsuid: r.fsuid = negative ? -1 : n; break;
    case F.ouid: r.ouid = negative ? -1 : n; break;
    case F.lport: r.localPort = n; break;
    case F.fport: r.foreignPort = n; break;
    case F.capability: r.capability = n; break;
  }
  return true;
}

function addExtra(r: RawRecord, key: string, value: string): void {
  (r.extra ??= []).push(key, value);
}

function assignString(r: RawRecord, field: number, value: string, inUserMsg: boolean, text: string, keyStart: number, keyEnd: number): void {
  r.hasFields = true;
  switch (field) {
    case F.apparmor: r.apparmor = value; break;
    case F.operation: r.operation = value; break;
    case F.klass: r.klass = value; break;
    case F.profile: r.profile = value; break;
    case F.peerProfile: r.peerProfile = value; break;
    case F.peer: r.peer = value; break;
    case F.name: r.name = value; break;
    case F.capname: r.capname = value; break;
    case F.name2: r.name2 = value; break;
    case F.comm: r.comm = value; break;
    case F.exe: r.exe = value; break;
    case F.namespace: r.namespace = value; break;
    case F.attribute: r.attribute = value; break;
    case F.info: r.info = value; break;
    case F.peerInfo: r.peerInfo = value; break;
    case F.active: r.activeHat = value; break;
    case F.execpath: r.execpath = value; break;
    case F.addr: if (!inUserMsg) r.netAddr = value; break;
    case F.peerAddr: r.peerAddr = value; break;
    case F.family: r.family = value; break;
    case F.sockType: r.sockType = value; break;
    case F.protocol: r.protocol = value; break;
    case F.laddr: r.localAddr = value; break;
    case F.faddr: r.foreignAddr = value; break;
    case F.bus: r.bus = value; break;
    case F.path: r.dbusPath = value; break;
    case F.iface: r.dbusInterface = value; break;
    case F.member: r.dbusMember = value; break;
    case F.signal: r.signal = value; break;
    case F.fstype: r.fstype = value; break;
    case F.flags: r.flags = value; break;
    case F.srcname: r.srcname = value; break;
    case F.requested: r.requested = value; break;
    case F.denied: r.denied = value; break;
    case F.type: r.bodyType = value; break;
    case F.FSUIDname: r.fsuidName = value; break;
    case F.OUIDname: r.ouidName = value; break;
    case F.auditTrailer:
      if (!inUserMsg) addExtra(r, text.slice(keyStart, keyEnd), value);
      break;
    default:
      if (!isNumericField(field)) addExtra(r, text.slice(keyStart, keyEnd), value);
      else if (!assignNumber(r, field, value, 0, value.length)) {
        // a quoted number is read (`pid="5"`), quoted text in a number field is not
        noteMalformed(r, keyStart, `${text.slice(keyStart, keyEnd)}= is not a number: '${value.slice(0, 40)}'`, false);
      } else {
        const masked = maskedNumberOf(field);
        if (masked >= 0) r.numberFrom[masked] = r.numberTo[masked] = -2;
      }
  }
}
