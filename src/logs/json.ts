// The flat JSON form of an event (`hatter logs --json`, one per line). Field names are stable and
// documented in docs/logs.md; absent values are left out.
import { hatOf } from './label.js';
import type { AuditEvent } from './model.js';
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
    source: e.source,
    file: e.file,
    line: e.line,
  };
}
