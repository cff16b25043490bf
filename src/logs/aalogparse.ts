// The libapparmor test-suite view of a record (the `.out` files of its log tests): START, File:, then one
// `Label: value` line per field that is set, in the suite's fixed order. Used to compare hatter's reading
// with the reference parser field by field.
import { eventTypeOf, protocolName } from './event.js';
import type { EventType } from './model.js';
import { RawRecord, scanRecord } from './scan.js';

const RECORD_NAMES: Record<EventType, string> = {
  DENIED: 'AA_RECORD_DENIED',
  ALLOWED: 'AA_RECORD_ALLOWED',
  AUDIT: 'AA_RECORD_AUDIT',
  // libapparmor has no KILLED record type; the task was killed because the access was denied.
  KILLED: 'AA_RECORD_DENIED',
  HINT: 'AA_RECORD_HINT',
  STATUS: 'AA_RECORD_STATUS',
  ERROR: 'AA_RECORD_ERROR',
};

/** Format one input (a whole `.in` file: one record, possibly over several physical lines). */
export function formatAalogparse(input: string, fileName: string): string {
  let r = scanRecord(input);
  // libapparmor stops at a malformed field, or at a bare addr=none (its grammar has no rule for it),
  // and reports the record invalid with what it had read before.
  const stop = r.malformedAt >= 0 && (r.addrNoneAt < 0 || r.malformedAt < r.addrNoneAt) ? r.malformedAt : r.addrNoneAt;
  const invalid = stop >= 0;
  const rest = r.malformedWord && stop === r.malformedAt && startsUnknownMessage(input, stop) ? restOfLine(input, stop) : undefined;
  if (invalid) r = scanRecord(input, undefined, 0, stop);
  if (rest !== undefined) r.info = rest;
  const out: string[] = ['START', `File: ${fileName}`];
  const type = invalid || r.unknownPrefix || r.text !== undefined || r.problem !== undefined ? undefined : eventTypeOf(r);
  out.push(`Event type: ${type ? RECORD_NAMES[type] : 'AA_RECORD_INVALID'}`);
  if (r.unknownPrefix || (r.recordType === undefined && r.auditId === undefined && !r.hasFields)) {
    return `${out.join('\n')}\n`;
  }
  if (r.text !== undefined) {
    if (r.auditId !== undefined) out.push(`Audit ID: ${r.auditId}`);
    if (r.recordType !== undefined && !r.recordType.startsWith('UNKNOWN[')) out.push(`Operation: ${r.recordType}`);
    out.push(`Info: ${r.text}`);
    pushEpoch(out, r);
    return `${out.join('\n')}\n`;
  }
  const s = (label: string, value: string | undefined) => {
    if (value !== undefined) out.push(`${label}: ${value}`);
  };
  const n = (label: string, value: number) => {
    if (value) out.push(`${label}: ${value}`);
  };
  s('Audit ID', r.auditId);
  s('Operation', r.operation);
  s('Mask', r.requested);
  s('Denied Mask', r.denied);
  if (r.fsuid !== -1) out.push(`fsuid: ${r.fsuid}`);
  if (r.ouid !== -1) out.push(`ouid: ${r.ouid}`);
  s('Profile', r.profile);
  s('Peer profile', r.peerProfile);
  s('Peer', r.peer);
  s('Name', r.capname ?? r.name);
  s('Command', r.comm ?? r.exe);
  s('Name2', r.name2);
  s('Namespace', r.namespace);
  s('Attribute', r.attribute);
  n('Task', r.task);
  n('Parent', r.parent);
  n('Token', r.token);
  s('Info', r.info);
  s('Peer info', r.peerInfo);
  n('ErrorCode', r.error);
  n('PID', r.pid);
  n('Peer PID', r.peerPid);
  s('Active hat', r.activeHat);
  s('Net Addr', r.netAddr);
  s('Peer Addr', r.peerAddr);
  s('Network family', r.family);
  s('Socket type', r.sockType);
  s('Protocol', r.protocol === undefined ? undefined : protocolName(r.protocol, r.protocolQuoted));
  s('Local addr', r.localAddr);
  s('Foreign addr', r.foreignAddr);
  n('Local port', r.localPort);
  n('Foreign port', r.foreignPort);
  s('DBus bus', r.bus);
  s('DBus path', r.dbusPath);
  s('DBus interface', r.dbusInterface);
  s('DBus member', r.dbusMember);
  s('Signal', r.signal);
  s('FS Type', r.fstype);
  s('Flags', r.flags);
  s('Src name', r.srcname);
  s('Execpath', r.execpath);
  s('Class', r.klass);
  pushEpoch(out, r);
  return `${out.join('\n')}\n`;
}

function pushEpoch(out: string[], r: RawRecord): void {
  if (r.auditId === undefined) return;
  out.push(`Epoch: ${r.epoch}`);
  out.push(`Audit subid: ${r.serial}`);
}

/**
 * Keys and words the reference's scanner knows. Where a stray word starts with none of them (and with
 * a letter), the reference reads the rest of the line as one unknown message and keeps it as Info.
 */
const REFERENCE_WORDS = [
  'apparmor', 'type', 'msg', 'operation', 'name', 'namespace', 'mask', 'denied', 'requested', 'attribute', 'task',
  'parent', 'magic_token', 'info', 'peer', 'pid', 'profile', 'label', 'family', 'sock_type', 'protocol', 'error', 'fsuid',
  'FSUID', 'ouid', 'OUID', 'uid', 'auid', 'sauid', 'ses', 'hostname', 'addr', 'terminal', 'exe', 'comm', 'capability',
  'capname', 'offset', 'target', 'laddr', 'saddr', 'faddr', 'daddr', 'lport', 'src', 'fport', 'dest', 'bus', 'path',
  'interface', 'member', 'method', 'signal', 'fstype', 'flags', 'srcname', 'class', 'tcontext', 'execpath', 'audit', 'none',
  'kernel', 'Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec',
];

function startsUnknownMessage(text: string, at: number): boolean {
  if (!/[A-Za-z]/.test(text[at] ?? '')) return false;
  return !REFERENCE_WORDS.some((word) => text.startsWith(word, at));
}

/** The text from `from` to the end of its line (flex's `.*`, which the reference keeps as Info). */
function restOfLine(text: string, from: number): string {
  const end = text.indexOf('\n', from);
  return text.slice(from, end < 0 ? text.length : end);
}
