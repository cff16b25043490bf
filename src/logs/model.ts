// The event model: what one AppArmor audit record means, independent of the format it arrived in.
import type { Label } from '../policy/label/index.js';

/** The kernel's audit kinds (`apparmor="DENIED"`, type=1503, `REJECTING`, ...), normalized. */
export type EventType = 'DENIED' | 'ALLOWED' | 'AUDIT' | 'KILLED' | 'HINT' | 'STATUS' | 'ERROR';

/** Where a line came from, as recognized by its prefix. */
export type SourceFormat =
  | 'auditd' // type=AVC msg=audit(...): ... (raw or enriched)
  | 'syslog' // kern.log / syslog / messages, any date and host form
  | 'dmesg' // [ 1597.77] audit: ...
  | 'kernel' // bare `audit: type=1400 audit(...)` or `audit(...):` lines
  | 'journald' // journalctl -o json
  | 'dbus' // dbus-daemon / dbus-broker mediation lines
  | 'record'; // hatter record / serve --learn: an strace recording turned into events (src/record)

/**
 * A set of permissions as the kernel wrote it. File masks keep the kernel's letters (`r w a l k m x c d`,
 * and the old `::` owner/other form); other classes use words (`send receive`, `create`, `tracedby`).
 */
export interface PermissionSet {
  /** The string as logged, e.g. `"rw"`, `"r::"`, `"read create"`. */
  readonly raw: string;
  /** The permissions, deduplicated, in the order first written. */
  readonly perms: readonly string[];
}

/** A profile label (`apache2//www.example.com`, `:ns:prof//hat`, `a//&b`): policy/label's one Label type. */
export type { Label };

export interface NetworkTuple {
  readonly family?: string;
  readonly sockType?: string;
  readonly protocol?: string;
  readonly localAddr?: string;
  readonly localPort?: number;
  readonly foreignAddr?: string;
  readonly foreignPort?: number;
  /** Unix socket address (`addr=`) and peer address (`peer_addr=`). */
  readonly addr?: string;
  readonly peerAddr?: string;
}

export interface DbusFields {
  readonly bus?: string;
  readonly path?: string;
  readonly interface?: string;
  readonly member?: string;
}

export interface MountFields {
  readonly fstype?: string;
  readonly flags?: string;
  readonly srcname?: string;
}

/** What was accessed. Which members are set depends on the class. */
export interface EventObject {
  /** Path (`name=`), D-Bus destination name, mqueue name, or new label for change_profile. */
  readonly name?: string;
  /** `target=` / `name2=`: link target, exec transition, change_hat/change_profile target. */
  readonly target?: string;
  /** Capability name (`capname=`, or `name=` of old capable lines) and number. */
  readonly capability?: string;
  readonly capabilityNumber?: number;
  /** Peer label (`peer=`, `peer_label=`, `peer_profile=`, `tcontext=`). */
  readonly peer?: string;
  readonly peerPid?: number;
  readonly signal?: string;
  readonly network?: NetworkTuple;
  readonly dbus?: DbusFields;
  readonly mount?: MountFields;
}

export interface EventTime {
  /** Seconds since the epoch, from `audit(EPOCH.MILLIS:SERIAL)`. */
  readonly epoch: number;
  readonly millis: number;
  /** Audit serial; records of one event share it. 0 when the line had none. */
  readonly serial: number;
}

/**
 * Landlock's part of an event read from a Landlock audit record (type=1423 LANDLOCK_ACCESS: a DENIED event;
 * type=1424 LANDLOCK_DOMAIN: a STATUS event). Absent on AppArmor's events.
 */
export interface LandlockFields {
  /** The domain id as logged (hex, e.g. `1e3716676`); unique per boot. */
  readonly domain: string;
  /** LANDLOCK_ACCESS: the blockers as logged, in order (`fs.read_file`, `net.bind_tcp`, `scope.signal`...). */
  readonly blockers?: readonly string[];
  /** LANDLOCK_DOMAIN: `allocated` (with the creator's pid) or `deallocated`. */
  readonly status?: string;
}

export interface AuditEvent {
  readonly type: EventType;
  readonly operation?: string;
  /** `class=` as logged (6.12+ kernels), else inferred from the operation and fields. */
  readonly class?: string;
  readonly classInferred: boolean;
  /** The confining label (`profile=` / `label=`). */
  readonly label?: Label;
  readonly object: EventObject;
  readonly requested?: PermissionSet;
  readonly denied?: PermissionSet;
  readonly fsuid?: number;
  readonly ouid?: number;
  /** fsuid == ouid: the rule needs `owner`. Absent when either is unknown. */
  readonly owner?: boolean;
  /** Enriched auditd user names (FSUID="www-data"). */
  readonly fsuidName?: string;
  readonly ouidName?: string;
  readonly pid?: number;
  readonly parent?: number;
  readonly comm?: string;
  /** Executable, from `exe=` or a correlated SYSCALL record. */
  readonly exe?: string;
  readonly info?: string;
  /** `error=-13` → 13. */
  readonly error?: number;
  readonly time?: EventTime;
  /** Fields hatter does not model, as logged (hex decoded). */
  readonly extra?: Readonly<Record<string, string>>;
  /** Set when the record is Landlock's, not AppArmor's. */
  readonly landlock?: LandlockFields;
  /** Provenance. */
  readonly source: SourceFormat;
  readonly line: number;
  readonly file?: string;
}

/** Why a line produced no event. Stable codes, documented in docs/diagnostics.md (`logs/<reason>`). */
export type SkipReason =
  | 'empty'
  | 'not-apparmor'
  | 'unknown-prefix'
  | 'unterminated-quote'
  | 'odd-length-hex'
  | 'line-too-long'
  | 'nul-byte'
  | 'bad-journal-json'
  | 'no-fields'
  | 'malformed-field';

export interface SkippedLine {
  readonly kind: 'skip';
  readonly reason: SkipReason;
  readonly message: string;
  readonly line: number;
}

/** A non-AppArmor record of an audit event (SYSCALL, PROCTITLE, ...): correlated with its AVC by serial. */
export interface RelatedRecord {
  readonly kind: 'related';
  readonly recordType: string;
  readonly serial: number;
  readonly epoch: number;
  readonly exe?: string;
  readonly comm?: string;
  /** `pid=` of the record (a SYSCALL record's: the process the event happened in). */
  readonly pid?: number;
  readonly line: number;
}

export type ParsedRecord = { readonly kind: 'event'; readonly event: AuditEvent } | SkippedLine | RelatedRecord;

export const EVENT_TYPES: readonly EventType[] = ['DENIED', 'ALLOWED', 'AUDIT', 'KILLED', 'HINT', 'STATUS', 'ERROR'];
