// The flat JSON form of an event (`hatter logs --json`, one per line). Field names are stable and
// documented in docs/logs.md; absent values are left out.
import { hatOf, parseLabel, parsePermissions } from './label.js';
import { EVENT_TYPES, type AuditEvent } from './model.js';
import { isoTimestamp } from './time.js';

export interface EventJson {
  readonly type: string;
  readonly operation?: string;
  readonly class?: string;
  readonly label?: string;
  readonly profile?: string;
  readonly hat?: string;
  readonly namespace?: string;
  readonly learning?: boolean;
  readonly name?: string;
  readonly target?: string;
  readonly capability?: string;
  readonly peer?: string;
  readonly requested?: string;
  readonly denied?: string;
  readonly requestedPerms?: readonly string[];
  readonly deniedPerms?: readonly string[];
  readonly [field: string]: unknown;
}

export function eventToJson(e: AuditEvent): EventJson {
  const o = e.object;
  const n = o.network;
  const label = e.label;
  const hat = label ? hatOf(label) : undefined;
  return {
    type: e.type,
    operation: e.operation,
    class: e.class,
    label: label?.text,
    profile: label ? label.path[0] ?? label.text : undefined,
    hat,
    namespace: label?.namespace,
    stack: label?.stack?.map((s) => s.text),
    learning: label?.learning || undefined,
    name: o.name,
    target: o.target,
    capability: o.capability,
    capabilityNumber: o.capabilityNumber,
    peer: o.peer,
    peerPid: o.peerPid,
    signal: o.signal,
    family: n?.family,
    sockType: n?.sockType,
    protocol: n?.protocol,
    localAddr: n?.localAddr,
    localPort: n?.localPort,
    foreignAddr: n?.foreignAddr,
    foreignPort: n?.foreignPort,
    addr: n?.addr,
    peerAddr: n?.peerAddr,
    dbusBus: o.dbus?.bus,
    dbusPath: o.dbus?.path,
    dbusInterface: o.dbus?.interface,
    dbusMember: o.dbus?.member,
    fstype: o.mount?.fstype,
    flags: o.mount?.flags,
    srcname: o.mount?.srcname,
    requested: e.requested?.raw,
    denied: e.denied?.raw,
    requestedPerms: e.requested?.perms,
    deniedPerms: e.denied?.perms,
    fsuid: e.fsuid,
    ouid: e.ouid,
    owner: e.owner,
    fsuidName: e.fsuidName,
    ouidName: e.ouidName,
    pid: e.pid,
    parent: e.parent,
    comm: e.comm,
    exe: e.exe,
    info: e.info,
    error: e.error,
    epoch: e.time?.epoch,
    millis: e.time?.millis,
    serial: e.time?.serial || undefined,
    time: e.time ? isoTimestamp(e.time.epoch * 1000 + e.time.millis) : undefined,
    extra: e.extra,
    landlockDomain: e.landlock?.domain,
    landlockBlockers: e.landlock?.blockers,
    landlockStatus: e.landlock?.status,
    source: e.source,
    file: e.file,
    line: e.line,
  };
}

/**
 * An event back from its JSON form (a `hatter logs --json` or `hatter record` line), so a recording reads
 * like a log. Undefined when the object is not an event (no `type`). Unknown fields are ignored.
 */
export function eventFromJson(json: Readonly<Record<string, unknown>>, line: number, file?: string): AuditEvent | undefined {
  const str = (key: string): string | undefined => (typeof json[key] === 'string' ? (json[key] as string) : undefined);
  const num = (key: string): number | undefined => (typeof json[key] === 'number' && Number.isFinite(json[key]) ? (json[key] as number) : undefined);
  const type = str('type');
  if (type === undefined || !(EVENT_TYPES as readonly string[]).includes(type)) return undefined;
  const perms = (raw: string | undefined, klass: string | undefined) => (raw === undefined ? undefined : parsePermissions(raw, klass));
  const klass = str('class');
  const network = {
    family: str('family'), sockType: str('sockType'), protocol: str('protocol'), localAddr: str('localAddr'), localPort: num('localPort'),
    foreignAddr: str('foreignAddr'), foreignPort: num('foreignPort'), addr: str('addr'), peerAddr: str('peerAddr'),
  };
  const hasNetwork = Object.values(network).some((v) => v !== undefined);
  const label = str('label');
  const extra = json['extra'] !== null && typeof json['extra'] === 'object' && !Array.isArray(json['extra'])
    ? Object.fromEntries(Object.entries(json['extra'] as Record<string, unknown>).filter(([, v]) => typeof v === 'string')) as Record<string, string>
    : undefined;
  const epoch = num('epoch');
  const source = str('source');
  const landlockDomain = str('landlockDomain');
  const blockers = Array.isArray(json['landlockBlockers']) ? (json['landlockBlockers'] as unknown[]).filter((b): b is string => typeof b === 'string') : undefined;
  const landlockStatus = str('landlockStatus');
  const event = {
    type: type as AuditEvent['type'],
    operation: str('operation'),
    class: klass,
    classInferred: false,
    label: label === undefined ? undefined : parseLabel(label),
    object: dropUndefined({
      name: str('name'), target: str('target'), capability: str('capability'), capabilityNumber: num('capabilityNumber'),
      peer: str('peer'), peerPid: num('peerPid'), signal: str('signal'), network: hasNetwork ? dropUndefined(network) : undefined,
    }),
    requested: perms(str('requested'), klass),
    denied: perms(str('denied'), klass),
    fsuid: num('fsuid'), ouid: num('ouid'), owner: typeof json['owner'] === 'boolean' ? json['owner'] : undefined,
    pid: num('pid'), parent: num('parent'), comm: str('comm'), exe: str('exe'), info: str('info'), error: num('error'),
    time: epoch === undefined ? undefined : { epoch, millis: num('millis') ?? 0, serial: num('serial') ?? 0 },
    extra,
    landlock: landlockDomain === undefined ? undefined : dropUndefined({ domain: landlockDomain, blockers, status: landlockStatus }),
    source: (['auditd', 'syslog', 'dmesg', 'kernel', 'journald', 'dbus', 'record'].includes(source ?? '') ? source : 'record') as AuditEvent['source'],
    line,
    file: file ?? str('file'),
  };
  return dropUndefined(event) as AuditEvent;
}

/** `o` without its undefined members (an event's optional fields are absent, not undefined). */
export function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
