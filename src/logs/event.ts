// RawRecord → AuditEvent: decide the event type, infer the class, decode labels and masks, and read the
// old REJECTING/PERMITTING/AUDITING text format.
import { parseLabel, parsePermissions } from './label.js';
import { hatLabel } from '../policy/label/index.js';
import type { AuditEvent, EventObject, EventTime, EventType, ParsedRecord, SkipReason, SourceFormat } from './model.js';
import { MAX_LINE_LENGTH, RawRecord, scanRecord } from './scan.js';
import { parseSyslogTime } from './time.js';
import { dropUndefined, eventFromJson } from './json.js';
import { blockersMeaning, LANDLOCK_ACCESS_TYPES, LANDLOCK_DOMAIN_TYPES, splitBlockers } from './landlock.js';

const TYPE_BY_CODE: Record<string, EventType> = {
  '1501': 'AUDIT', '1502': 'ALLOWED', '1503': 'DENIED', '1504': 'HINT', '1505': 'STATUS', '1506': 'ERROR', '1507': 'KILLED',
  APPARMOR_AUDIT: 'AUDIT', APPARMOR_ALLOWED: 'ALLOWED', APPARMOR_DENIED: 'DENIED', APPARMOR_HINT: 'HINT',
  APPARMOR_STATUS: 'STATUS', APPARMOR_ERROR: 'ERROR', APPARMOR_KILL: 'KILLED',
};

const TYPE_BY_NAME: Record<string, EventType> = {
  DENIED: 'DENIED', ALLOWED: 'ALLOWED', AUDIT: 'AUDIT', KILLED: 'KILLED', HINT: 'HINT', STATUS: 'STATUS', ERROR: 'ERROR',
};

function typeFromCode(code: string | undefined): EventType | undefined {
  if (code === undefined) return undefined;
  if (code.startsWith('UNKNOWN[')) return TYPE_BY_CODE[code.slice(8, -1)];
  return TYPE_BY_CODE[code];
}

/** The event type libapparmor would assign from `apparmor=` or the audit type; undefined: not an AppArmor event. */
export function eventTypeOf(r: RawRecord): EventType | undefined {
  const a = r.apparmor;
  if (a !== undefined) {
    // the common three without a dictionary lookup
    if (a.length === 6 && a === 'DENIED') return 'DENIED';
    if (a.length === 7 && a === 'ALLOWED') return 'ALLOWED';
    if (a.length === 5 && a === 'AUDIT') return 'AUDIT';
    return Object.hasOwn(TYPE_BY_NAME, a) ? TYPE_BY_NAME[a] : undefined;
  }
  return typeFromCode(r.bodyType) ?? typeFromCode(r.recordType);
}

const SKIP_MESSAGES: Record<SkipReason, string> = {
  'empty': 'empty line',
  'not-apparmor': 'not an AppArmor record',
  'unknown-prefix': 'line format not recognized (not auditd, syslog, dmesg, journald or dbus)',
  'unterminated-quote': 'a quoted value has no closing quote (truncated line?)',
  'odd-length-hex': 'a hex-encoded value has an odd number of digits',
  'line-too-long': `line longer than ${MAX_LINE_LENGTH} bytes`,
  'nul-byte': 'line contains a NUL byte',
  'bad-journal-json': 'journal JSON record without a readable MESSAGE',
  'no-fields': 'audit header without AppArmor fields',
  'malformed-field': 'a field is malformed (libapparmor reports the record invalid)',
};

export function skip(reason: SkipReason, line: number, detail?: string): ParsedRecord {
  return { kind: 'skip', reason, line, message: detail ? `${SKIP_MESSAGES[reason]}: ${detail}` : SKIP_MESSAGES[reason] };
}

/** Parse one line (any supported format) into an event, a correlated record, or a skip with its reason. */
export function parseLine(line: string, lineNumber = 0, file?: string): ParsedRecord {
  return parseRange(line, 0, line.length, lineNumber, file);
}

/**
 * parseLine for the line text[from, to), read in place (the reader hands over whole decoded chunks).
 * `nextNul`: where the next NUL at or after `from` is (-1: none), when the caller already knows; a search
 * per line of a large chunk would make reading quadratic.
 */
export function parseRange(text: string, from: number, to: number, lineNumber: number, file?: string, nextNul?: number): ParsedRecord {
  if (to - from > MAX_LINE_LENGTH) return skip('line-too-long', lineNumber);
  const nul = nextNul ?? text.indexOf('\0', from);
  if (nul >= 0 && nul < to) return skip('nul-byte', lineNumber);
  if (from < to && text.charCodeAt(from) === 123 /* { */) return parseJournalLine(text.slice(from, to), lineNumber, file);
  return recordFrom(scanRecord(text, scratch, from, to), lineNumber, file);
}

/** parseLine's reusable scan buffer: events copy what they need out of it. */
const scratch = new RawRecord();

export function recordFrom(r: RawRecord, lineNumber: number, file: string | undefined, sourceOverride?: SourceFormat): ParsedRecord {
  if (r.unknownPrefix) return skip('unknown-prefix', lineNumber);
  if (r.problem !== undefined) return skip(r.problem, lineNumber, r.problemDetail || undefined);
  if (r.text !== undefined) {
    const old = oldStyleEvent(r, lineNumber, file, sourceOverride);
    return old ? { kind: 'event', event: old } : skip('not-apparmor', lineNumber);
  }
  if (r.recordType !== undefined && r.apparmor === undefined && r.bodyType === undefined) {
    if (LANDLOCK_ACCESS_TYPES.has(r.recordType)) return landlockRecord(r, 'DENIED', lineNumber, file, sourceOverride);
    if (LANDLOCK_DOMAIN_TYPES.has(r.recordType)) return landlockRecord(r, 'STATUS', lineNumber, file, sourceOverride);
  }
  const type = eventTypeOf(r);
  if (type !== undefined && r.malformed !== undefined) return skip('malformed-field', lineNumber, r.malformed);
  if (type === undefined) {
    if (r.serial !== 0 && r.recordType !== undefined && r.apparmor === undefined) {
      return {
        kind: 'related', recordType: r.recordType, serial: r.serial, epoch: r.epoch, line: lineNumber,
        ...(r.exe !== undefined ? { exe: r.exe } : {}),
        ...(r.comm !== undefined ? { comm: r.comm } : {}),
        ...(r.pid ? { pid: r.pid } : {}),
      };
    }
    return skip('not-apparmor', lineNumber);
  }
  return { kind: 'event', event: buildEvent(r, type, lineNumber, file, sourceOverride) };
}

function inferClass(r: RawRecord): string | undefined {
  const op = r.operation;
  if (r.capname !== undefined || r.capability >= 0 || op === 'capable') return 'cap';
  if (r.bus !== undefined || (op !== undefined && op.startsWith('dbus_'))) return 'dbus';
  if (r.signal !== undefined || op === 'signal') return 'signal';
  if (op === 'ptrace') return 'ptrace';
  if (op === 'mount' || op === 'umount' || op === 'pivotroot' || op === 'remount') return 'mount';
  if (op === 'userns_create') return 'namespace';
  if (op !== undefined && op.startsWith('uring_')) return 'io_uring';
  if (r.family !== undefined || r.sockType !== undefined) return 'net';
  if (r.name !== undefined || r.requested !== undefined || r.denied !== undefined || r.name2 !== undefined) {
    if (op === 'profile_load' || op === 'profile_replace' || op === 'profile_remove') return undefined;
    return 'file';
  }
  if (op === 'change_hat' || op === 'change_profile' || op === 'change_onexec' || op === 'exec') return 'file';
  return undefined;
}

/** IP protocol numbers as libapparmor names them (netinet/in.h's IPPROTO_* in lower case). */
const PROTOCOLS: ReadonlyMap<number, string> = new Map([
  [0, 'ip'], [1, 'icmp'], [2, 'igmp'], [4, 'ipip'], [6, 'tcp'], [8, 'egp'], [12, 'pup'], [17, 'udp'], [22, 'idp'],
  [29, 'tp'], [33, 'dccp'], [41, 'ipv6'], [43, 'routing'], [44, 'fragment'], [46, 'rsvp'], [47, 'gre'], [50, 'esp'],
  [51, 'ah'], [58, 'icmpv6'], [59, 'none'], [60, 'dstopts'], [92, 'mtp'], [94, 'beetph'], [98, 'encap'], [103, 'pim'],
  [108, 'comp'], [132, 'sctp'], [135, 'mh'], [136, 'udplite'], [137, 'mpls'], [143, 'ethernet'], [255, 'raw'], [262, 'mptcp'],
]);

/** The name of a logged protocol= value: a bare number is named as libapparmor does (`unknown(99)` when it has no name); a quoted value is kept. */
export function protocolName(value: string, quoted = false): string {
  if (quoted || value.length === 0 || value.length > 15) return value;
  let number = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return value;
    number = number * 10 + c - 48;
  }
  return PROTOCOLS.get(number) ?? `unknown(${number})`;
}

function buildEvent(r: RawRecord, type: EventType, lineNumber: number, file: string | undefined, sourceOverride?: SourceFormat): AuditEvent {
  const loggedClass = r.klass;
  const klass = loggedClass ?? inferClass(r);
  const isCap = klass === 'cap' || r.operation === 'capable';
  // One literal per object, every key present (undefined when absent): a single hidden class, no
  // transitions. JSON and the summary ignore undefined members.
  const object: EventObject = {
    name: isCap ? undefined : r.name,
    target: r.name2,
    capability: isCap ? r.capname ?? r.name : undefined,
    capabilityNumber: r.capability >= 0 ? r.capability : undefined,
    peer: r.peer ?? r.peerProfile,
    peerPid: r.peerPid || undefined,
    signal: r.signal,
    network: r.family !== undefined || r.sockType !== undefined || r.localAddr !== undefined || r.localPort !== 0 || r.foreignPort !== 0 || r.netAddr !== undefined
      ? {
        family: r.family,
        sockType: r.sockType,
        protocol: r.protocol === undefined ? undefined : protocolName(r.protocol, r.protocolQuoted),
        localAddr: r.localAddr,
        localPort: r.localPort || undefined,
        foreignAddr: r.foreignAddr,
        foreignPort: r.foreignPort || undefined,
        addr: r.netAddr,
        peerAddr: r.peerAddr,
      }
      : undefined,
    dbus: r.bus !== undefined || r.dbusPath !== undefined || r.dbusInterface !== undefined || r.dbusMember !== undefined
      ? { bus: r.bus, path: r.dbusPath, interface: r.dbusInterface, member: r.dbusMember }
      : undefined,
    mount: r.fstype !== undefined || r.flags !== undefined || r.srcname !== undefined
      ? { fstype: r.fstype, flags: r.flags, srcname: r.srcname }
      : undefined,
  };
  const fsuid = r.fsuid >= 0 ? r.fsuid : undefined;
  const ouid = r.ouid >= 0 ? r.ouid : undefined;
  return {
    type,
    operation: r.operation,
    class: klass,
    classInferred: loggedClass === undefined && klass !== undefined,
    label: r.profile === undefined ? undefined : parseLabel(r.profile),
    object,
    requested: r.requested === undefined ? undefined : parsePermissions(r.requested, klass),
    denied: r.denied === undefined ? undefined : parsePermissions(r.denied, klass),
    fsuid,
    ouid,
    owner: ownerOf(fsuid, ouid),
    fsuidName: r.fsuidName,
    ouidName: r.ouidName,
    pid: r.pid || undefined,
    parent: r.parent || undefined,
    comm: r.comm,
    exe: r.exe,
    info: r.info,
    error: r.error || undefined,
    time: timeOf(r),
    extra: extraOf(r),
    source: sourceOverride ?? r.source,
    line: lineNumber,
    file,
  };
}

/**
 * A Landlock record (docs/logs.md, "Landlock records"). The kernel writes `domain=` first; a record without
 * it is not Landlock's as far as hatter can tell. LANDLOCK_ACCESS → DENIED with the blockers mapped to
 * AppArmor's class, operation and mask; LANDLOCK_DOMAIN → STATUS `landlock_domain` with the creator's pid.
 */
function landlockRecord(r: RawRecord, type: EventType, lineNumber: number, file: string | undefined, sourceOverride?: SourceFormat): ParsedRecord {
  if (r.malformed !== undefined) return skip('malformed-field', lineNumber, r.malformed);
  const extra = extraOf(r) ?? {};
  const domain = extra['domain'];
  if (domain === undefined || !/^[0-9a-f]{1,16}$/.test(domain)) return skip('not-apparmor', lineNumber, 'Landlock record without a domain id');
  const rest: Record<string, string> = {};
  for (const key of Object.keys(extra)) if (key !== 'domain' && key !== 'blockers' && key !== 'status') rest[key] = extra[key]!;
  const restOrUndefined = Object.keys(rest).length > 0 ? rest : undefined;
  const base = {
    pid: r.pid || undefined,
    comm: r.comm,
    exe: r.exe,
    time: timeOf(r),
    source: sourceOverride ?? r.source,
    line: lineNumber,
    file,
  };
  if (type === 'STATUS') {
    const status = extra['status'];
    return {
      kind: 'event',
      event: dropUndefined({
        type, operation: 'landlock_domain', classInferred: false, object: {}, info: status, extra: restOrUndefined,
        landlock: status === undefined ? { domain } : { domain, status }, ...base,
      }),
    };
  }
  const blockers = splitBlockers(extra['blockers'] ?? '');
  const meaning = blockersMeaning(blockers);
  const mask = meaning.mask === undefined ? undefined : parsePermissions(meaning.mask, meaning.class);
  const network = meaning.class === 'net'
    ? dropUndefined({
      sockType: 'stream', protocol: 'tcp', localAddr: r.localAddr, localPort: r.localPort || undefined,
      foreignAddr: r.foreignAddr, foreignPort: r.foreignPort || undefined,
    })
    : undefined;
  return {
    kind: 'event',
    event: dropUndefined({
      type, operation: meaning.operation, class: meaning.class, classInferred: false,
      object: dropUndefined({ name: meaning.class === 'net' ? undefined : r.dbusPath ?? r.name, network }),
      requested: mask, denied: mask, extra: restOrUndefined, landlock: { domain, blockers }, ...base,
    }),
  };
}

/** fsuid == ouid (the rule needs `owner`); unknown unless both are known. */
export function ownerOf(fsuid: number | undefined, ouid: number | undefined): boolean | undefined {
  return fsuid !== undefined && ouid !== undefined ? fsuid === ouid : undefined;
}

/**
 * The event of a line that is `template`'s line (an event buildEvent made, with an audit header) with
 * another time, serial, pid, fsuid, ouid (each -1: the template's) and source: what the line memo (memo.ts) hands out instead of parsing the line
 * again. Same fields in the same order as buildEvent's literal; the label, object, permission sets and
 * extra fields are shared with the template (events are never changed once built).
 */
export function repeatEvent(
  template: AuditEvent, epoch: number, millis: number, serial: number, pid: number, fsuid: number, ouid: number, source: SourceFormat, lineNumber: number,
): AuditEvent {
  const t = template;
  // as buildEvent reads them: pid 0 is no pid; owner is known when both ids are
  const fsuidOf = fsuid < 0 ? t.fsuid : fsuid;
  const ouidOf = ouid < 0 ? t.ouid : ouid;
  return {
    type: t.type,
    operation: t.operation,
    class: t.class,
    classInferred: t.classInferred,
    label: t.label,
    object: t.object,
    requested: t.requested,
    denied: t.denied,
    fsuid: fsuidOf,
    ouid: ouidOf,
    owner: ownerOf(fsuidOf, ouidOf),
    fsuidName: t.fsuidName,
    ouidName: t.ouidName,
    pid: pid < 0 ? t.pid : pid || undefined,
    parent: t.parent,
    comm: t.comm,
    exe: t.exe,
    info: t.info,
    error: t.error,
    time: { epoch, millis, serial },
    extra: t.extra,
    source,
    line: lineNumber,
    file: t.file,
  };
}

function extraOf(r: RawRecord): Record<string, string> | undefined {
  // the common case first: nothing beyond the modelled fields
  if (r.extra === undefined && r.namespace === undefined && r.attribute === undefined && r.peerInfo === undefined &&
    r.activeHat === undefined && r.execpath === undefined && r.task === 0 && r.token === 0) return undefined;
  const extra: Record<string, string> = {};
  if (r.extra) for (let k = 0; k < r.extra.length; k += 2) extra[r.extra[k]!] = r.extra[k + 1]!;
  if (r.namespace !== undefined) extra['namespace'] = r.namespace;
  if (r.attribute !== undefined) extra['attribute'] = r.attribute;
  if (r.peerInfo !== undefined) extra['peer_info'] = r.peerInfo;
  if (r.activeHat !== undefined) extra['active'] = r.activeHat;
  if (r.execpath !== undefined) extra['execpath'] = r.execpath;
  if (r.task) extra['task'] = String(r.task);
  if (r.token) extra['magic_token'] = String(r.token);
  return extra;
}

function timeOf(r: RawRecord): EventTime | undefined {
  if (r.hasAuditId) return { epoch: r.epoch, millis: r.millis, serial: r.serial };
  if (r.syslogTimeFrom >= 0) {
    const ms = parseSyslogTime(r.syslogTime!);
    if (ms !== undefined) return { epoch: Math.floor(ms / 1000), millis: ms % 1000, serial: 0 };
  }
  return undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// --- the old text format (kernels before 2.6.2x): REJECTING/PERMITTING/AUDITING and LOGPROF-HINT ---

const OLD_TEXT = /^(REJECTING|PERMITTING|AUDITING) (.*) \((.*)\((\d+)\) profile (.*) active (.*)\)\s*$/s;
const OLD_TYPES: Record<string, EventType> = { REJECTING: 'DENIED', PERMITTING: 'ALLOWED', AUDITING: 'AUDIT' };

function oldStyleEvent(r: RawRecord, lineNumber: number, file: string | undefined, sourceOverride?: SourceFormat): AuditEvent | undefined {
  const text = r.text!;
  if (text.startsWith('LOGPROF-HINT ')) return oldHint(r, text, lineNumber, file, sourceOverride);
  const m = OLD_TEXT.exec(text);
  if (!m) return undefined;
  const [, verb, what, comm, pid, profile, active] = m as unknown as [string, string, string, string, string, string, string];
  const type = OLD_TYPES[verb]!;
  const object: Mutable<EventObject> = {};
  let operation: string;
  let mask: string | undefined;
  let klass = 'file';
  let x: RegExpExecArray | null;
  if ((x = /^access to syscall '(.*)'$/.exec(what))) {
    operation = 'syscall';
    object.name = x[1]!;
    klass = 'syscall';
  } else if ((x = /^link access from (.+) to (.+)$/.exec(what))) {
    operation = 'link';
    object.name = x[1]!;
    object.target = x[2]!;
    mask = 'l';
  } else if ((x = /^(?:(\S+) )?access to (.+)$/.exec(what))) {
    operation = 'access';
    mask = x[1];
    object.name = x[2]!;
  } else if ((x = /^(.+?) on (.+)$/.exec(what))) {
    operation = x[1]!.replace(/ /g, '_');
    object.name = x[2]!;
  } else {
    operation = what;
  }
  const label = hatLabel(profile, active === profile || active === '' ? null : active);
  const event: Mutable<AuditEvent> = {
    type, operation, class: klass, classInferred: true, label: parseLabel(label), object,
    pid: Number(pid), comm, source: sourceOverride ?? r.source, line: lineNumber,
  };
  if (file !== undefined) event.file = file;
  if (mask !== undefined) {
    event.requested = parsePermissions(mask, 'file');
    if (type === 'DENIED') event.denied = event.requested;
  }
  const time = timeOf(r);
  if (time) event.time = time;
  return event;
}

function oldHint(r: RawRecord, text: string, lineNumber: number, file: string | undefined, sourceOverride?: SourceFormat): AuditEvent | undefined {
  const words = text.trim().split(/\s+/);
  const operation = words[1];
  if (!operation) return undefined;
  const fields: Record<string, string> = {};
  const loose: string[] = [];
  for (const word of words.slice(2)) {
    const eq = word.indexOf('=');
    if (eq > 0) fields[word.slice(0, eq)] = word.slice(eq + 1);
    else loose.push(word);
  }
  const profile = fields['profile'];
  const active = fields['active'];
  const label = profile === undefined ? undefined : hatLabel(profile, active === undefined || active === profile ? null : active);
  const object: Mutable<EventObject> = {};
  if (operation === 'unknown_hat' && loose[0]) object.target = loose[0];
  const event: Mutable<AuditEvent> = { type: 'HINT', operation, classInferred: false, object, source: sourceOverride ?? r.source, line: lineNumber };
  if (file !== undefined) event.file = file;
  if (label !== undefined) event.label = parseLabel(label);
  if (fields['pid'] && /^\d+$/.test(fields['pid'])) event.pid = Number(fields['pid']);
  if (fields['child']) event.extra = { child: fields['child'] };
  const time = timeOf(r);
  if (time) event.time = time;
  return event;
}

// --- journalctl -o json ---

interface JournalRecord {
  MESSAGE?: unknown;
  __REALTIME_TIMESTAMP?: unknown;
  _SOURCE_REALTIME_TIMESTAMP?: unknown;
  _AUDIT_ID?: unknown;
  _AUDIT_TYPE_NAME?: unknown;
  _AUDIT_TYPE?: unknown;
}

/**
 * journald writes an audit record's MESSAGE as its type's name and the body (`LANDLOCK_ACCESS domain=...`,
 * or `AUDIT1423 domain=...` where its build does not know the type), and the type in _AUDIT_TYPE: Landlock's
 * records become `type=1423 domain=...` for the scanner. Undefined for every other record.
 */
function journalLandlockMessage(record: JournalRecord, message: string): string | undefined {
  const type = String(record._AUDIT_TYPE ?? '');
  if (type !== '1423' && type !== '1424') return undefined;
  const body = message.replace(/^(?:LANDLOCK_ACCESS|LANDLOCK_DOMAIN|AUDIT142[34]|UNKNOWN\[142[34]\]) /, '');
  return /^domain=/.test(body) ? `type=${type} ${body}` : undefined;
}

function parseJournalLine(line: string, lineNumber: number, file: string | undefined): ParsedRecord {
  let record: JournalRecord;
  try {
    record = JSON.parse(line) as JournalRecord;
  } catch {
    return skip('bad-journal-json', lineNumber, 'not valid JSON');
  }
  if (record === null || typeof record !== 'object') return skip('bad-journal-json', lineNumber);
  // hatter's own event JSON (`hatter logs --json`, `hatter record`, `serve --learn`) reads back as the event.
  if (record.MESSAGE === undefined && typeof (record as Record<string, unknown>)['type'] === 'string' && typeof (record as Record<string, unknown>)['source'] === 'string') {
    const event = eventFromJson(record as Record<string, unknown>, lineNumber, file);
    if (event) return { kind: 'event', event };
  }
  let message: string;
  const raw = record.MESSAGE;
  if (typeof raw === 'string') message = raw;
  else if (Array.isArray(raw) && raw.every((b) => typeof b === 'number')) message = Buffer.from(raw as number[]).toString('utf8');
  else return skip('bad-journal-json', lineNumber, 'no MESSAGE field');
  if (message.length > MAX_LINE_LENGTH) return skip('line-too-long', lineNumber);
  if (message.includes('\0')) return skip('nul-byte', lineNumber);
  const scanned = scanRecord(journalLandlockMessage(record, message) ?? message);
  if (scanned.unknownPrefix) return skip('unknown-prefix', lineNumber);
  if (scanned.recordType === undefined && typeof record._AUDIT_TYPE_NAME === 'string') scanned.recordType = record._AUDIT_TYPE_NAME;
  if (!scanned.hasAuditId) {
    const micros = Number(record._SOURCE_REALTIME_TIMESTAMP ?? record.__REALTIME_TIMESTAMP);
    if (Number.isFinite(micros) && micros > 0) {
      const ms = Math.floor(micros / 1000);
      scanned.epoch = Math.floor(ms / 1000);
      scanned.millis = ms % 1000;
      scanned.serial = Number(record._AUDIT_ID) || 0;
      scanned.auditId = `${scanned.epoch}.${String(scanned.millis).padStart(3, '0')}:${scanned.serial}`;
    }
  }
  return recordFrom(scanned, lineNumber, file, 'journald');
}
