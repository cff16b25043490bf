// Landlock's audit records (Linux 6.15+, security/landlock/audit.c) as AppArmor-style events: a
// LANDLOCK_ACCESS record (type 1423) is a DENIED event, a LANDLOCK_DOMAIN record (type 1424) a STATUS event.
// Both carry the domain id; the domain's creator (pid) comes only with the first denial of the domain.
// The mapping of blockers to AppArmor's class, operation and permission letters is documented in docs/logs.md.
import type { AuditEvent, RelatedRecord } from './model.js';
import { parseLabel } from './label.js';

/** How one Landlock blocker reads as AppArmor: class, operation and the permission it stands for (when exact). */
export interface BlockerMeaning {
  readonly class: string;
  readonly operation: string;
  /** AppArmor's letter or word; undefined when AppArmor has no exact counterpart (the event keeps no mask). */
  readonly permission?: string;
}

/** Every blocker name the kernel writes (fs_access_strings, net_access_strings and get_blocker in audit.c). */
export const LANDLOCK_BLOCKERS: ReadonlyMap<string, BlockerMeaning> = new Map<string, BlockerMeaning>([
  ['fs.execute', { class: 'file', operation: 'exec', permission: 'x' }],
  ['fs.write_file', { class: 'file', operation: 'open', permission: 'w' }],
  ['fs.read_file', { class: 'file', operation: 'open', permission: 'r' }],
  // AppArmor reads a directory listing as `r` on the directory's path
  ['fs.read_dir', { class: 'file', operation: 'open', permission: 'r' }],
  ['fs.remove_dir', { class: 'file', operation: 'rmdir', permission: 'd' }],
  ['fs.remove_file', { class: 'file', operation: 'unlink', permission: 'd' }],
  // every node creation is AppArmor's `c` on the new path
  ['fs.make_char', { class: 'file', operation: 'mknod', permission: 'c' }],
  ['fs.make_dir', { class: 'file', operation: 'mkdir', permission: 'c' }],
  ['fs.make_reg', { class: 'file', operation: 'mknod', permission: 'c' }],
  ['fs.make_sock', { class: 'file', operation: 'mknod', permission: 'c' }],
  ['fs.make_fifo', { class: 'file', operation: 'mknod', permission: 'c' }],
  ['fs.make_block', { class: 'file', operation: 'mknod', permission: 'c' }],
  ['fs.make_sym', { class: 'file', operation: 'symlink', permission: 'c' }],
  // reparenting by link or rename: AppArmor asks `l` of a link and `w d` of a rename's source, not one letter
  ['fs.refer', { class: 'file', operation: 'rename' }],
  // AppArmor asks `w` for truncate(2) and O_TRUNC
  ['fs.truncate', { class: 'file', operation: 'truncate', permission: 'w' }],
  // AppArmor does not mediate ioctl requests by command
  ['fs.ioctl_dev', { class: 'file', operation: 'file_ioctl' }],
  ['fs.change_topology', { class: 'mount', operation: 'mount' }],
  ['net.bind_tcp', { class: 'net', operation: 'bind', permission: 'bind' }],
  ['net.connect_tcp', { class: 'net', operation: 'connect', permission: 'connect' }],
  ['scope.abstract_unix_socket', { class: 'unix', operation: 'connect', permission: 'connect' }],
  ['scope.signal', { class: 'signal', operation: 'signal', permission: 'send' }],
  ['ptrace', { class: 'ptrace', operation: 'ptrace', permission: 'trace' }],
]);

export const LANDLOCK_ACCESS_TYPES: ReadonlySet<string> = new Set(['1423', 'UNKNOWN[1423]', 'LANDLOCK_ACCESS']);
export const LANDLOCK_DOMAIN_TYPES: ReadonlySet<string> = new Set(['1424', 'UNKNOWN[1424]', 'LANDLOCK_DOMAIN']);

/** What the blockers of one LANDLOCK_ACCESS record mean together. */
export interface BlockersMeaning {
  readonly class?: string;
  readonly operation?: string;
  /** The AppArmor mask (`rw`, `bind`), only when every blocker has an exact counterpart in one class. */
  readonly mask?: string;
}

/** `fs.read_file,fs.write_file` → class file, operation open, mask `rw`; unknown or mixed blockers give no mask. */
export function blockersMeaning(blockers: readonly string[]): BlockersMeaning {
  const meanings = blockers.map((b) => LANDLOCK_BLOCKERS.get(b));
  const first = meanings[0];
  if (first === undefined) return {};
  let exact = true;
  const perms: string[] = [];
  for (const m of meanings) {
    if (m === undefined || m.class !== first.class || m.permission === undefined) {
      exact = false;
      continue;
    }
    if (!perms.includes(m.permission)) perms.push(m.permission);
  }
  const wordClass = first.class !== 'file';
  const mask = exact && perms.length > 0 ? perms.join(wordClass ? ' ' : '') : undefined;
  return { class: first.class, operation: first.operation, ...(mask !== undefined ? { mask } : {}) };
}

/** The blockers= value split on commas; empty names dropped. */
export function splitBlockers(value: string): string[] {
  return value.split(',').filter((b) => b.length > 0);
}

// --- /dev/kmsg records ---

/** One /dev/kmsg record: `PRIORITY,SEQUENCE,MICROSECONDS,FLAGS[,...];MESSAGE` (+ continuation lines). */
export interface KmsgRecord {
  /** syslog facility: 0 is the kernel; a userspace write to /dev/kmsg gets 1 (user) unless it asks for more. */
  readonly facility: number;
  readonly level: number;
  readonly sequence: number;
  /** The message, first line only (dictionary lines are dropped). */
  readonly message: string;
}

/** A /dev/kmsg record, or undefined when the text is not one. */
export function parseKmsgRecord(text: string): KmsgRecord | undefined {
  const semicolon = text.indexOf(';');
  if (semicolon < 0 || semicolon > 100) return undefined;
  const fields = text.slice(0, semicolon).split(',');
  if (fields.length < 4 || !/^\d{1,4}$/.test(fields[0]!) || !/^\d{1,20}$/.test(fields[1]!) || !/^\d{1,20}$/.test(fields[2]!)) return undefined;
  const priority = Number(fields[0]);
  const newline = text.indexOf('\n', semicolon);
  return {
    facility: priority >> 3,
    level: priority & 7,
    sequence: Number(fields[1]),
    message: text.slice(semicolon + 1, newline < 0 ? text.length : newline),
  };
}

// --- attribution: which hat a Landlock domain belongs to ---

export interface AttributionOptions {
  /** Domains remembered at once (the oldest is forgotten first). Default 4096. */
  readonly maxDomains?: number;
  /** Denials held per domain while its creator is unknown (the kernel logs the domain after its first denial). Default 16. */
  readonly maxPendingPerDomain?: number;
  /**
   * Denials whose creator pid is not (yet) the caller's are held this long for retry() (a worker denied
   * while starting, before the supervisor lists it). Default 3000 ms; at most maxDomains are held.
   */
  readonly retryMs?: number;
}

/**
 * Attributes Landlock denials to labels. The kernel names a domain's creator (LANDLOCK_DOMAIN `pid=`) only
 * after the domain's first denial; the label comes from `labelOfPid`, the caller's own map of the pids it
 * started confined (hatter-launch restricts itself, then execs the worker: same pid), asked at each denial
 * (a worker may be registered after its domain's first record). Nothing a record says about itself (comm,
 * exe) is trusted. Denials of other domains are dropped and counted. Memory is bounded: maxDomains
 * domains, maxPendingPerDomain denials held for each domain whose creator is not known yet.
 */
export class LandlockAttribution {
  /** domain → the pid that created it. */
  private readonly creators = new Map<string, number>();
  private readonly pending = new Map<string, AuditEvent[]>();
  private readonly maxDomains: number;
  private readonly maxPending: number;
  private readonly retryMs: number;
  private waiting: { event: AuditEvent; creator: number; since: number }[] = [];
  /** Denials of domains that are not ours, or whose creator never showed up. */
  unattributed = 0;

  constructor(
    private readonly labelOfPid: (pid: number) => string | undefined, options: AttributionOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.maxDomains = options.maxDomains ?? 4096;
    this.maxPending = options.maxPendingPerDomain ?? 16;
    this.retryMs = options.retryMs ?? 3000;
  }

  /** Attribute the held denials whose creator the caller now knows; drop those held longer than retryMs. */
  retry(): AuditEvent[] {
    if (this.waiting.length === 0) return [];
    const now = this.now();
    const out: AuditEvent[] = [];
    const still: typeof this.waiting = [];
    for (const w of this.waiting) {
      const label = this.labelOfPid(w.creator);
      if (label !== undefined) out.push({ ...w.event, label: parseLabel(label) });
      else if (now - w.since < this.retryMs) still.push(w);
      else this.unattributed++;
    }
    this.waiting = still;
    return out;
  }

  /** Feed one event; returns the attributed denials it completes (label set), in order. Non-Landlock events give none. */
  add(event: AuditEvent): AuditEvent[] {
    const landlock = event.landlock;
    if (landlock === undefined) return [];
    const domain = landlock.domain;
    if (event.type === 'STATUS') {
      if (landlock.status === 'deallocated') {
        this.forget(domain);
        return [];
      }
      if (landlock.status !== 'allocated' || event.pid === undefined) return [];
      this.remember(domain, event.pid);
      const held = this.pending.get(domain) ?? [];
      this.pending.delete(domain);
      return held.flatMap((e) => this.attribute(e, event.pid!));
    }
    if (event.type !== 'DENIED') return [];
    const creator = this.creators.get(domain);
    if (creator !== undefined) return this.attribute(event, creator);
    let held = this.pending.get(domain);
    if (held === undefined) {
      if (this.pending.size >= this.maxDomains) this.dropOldestPending();
      held = [];
      this.pending.set(domain, held);
    }
    if (held.length < this.maxPending) held.push(event);
    else this.unattributed++;
    return [];
  }

  /**
   * The SYSCALL record of a held denial (same audit serial): its `pid=` is the process that was denied. When
   * that pid is one of the caller's (a worker, whose launcher created its domain with the same pid), it is
   * the domain's creator. This is what attributes a domain whose LANDLOCK_DOMAIN record was lost (the
   * kernel's printk rate limit drops records on the way to /dev/kmsg).
   */
  addRelated(record: RelatedRecord): AuditEvent[] {
    if (record.pid === undefined || record.serial === 0 || (record.recordType !== 'SYSCALL' && record.recordType !== '1300')) return [];
    for (const [domain, held] of this.pending) {
      if (!held.some((e) => e.time?.serial === record.serial)) continue;
      if (this.labelOfPid(record.pid) === undefined) return [];
      this.remember(domain, record.pid);
      this.pending.delete(domain);
      return held.flatMap((e) => this.attribute(e, record.pid!));
    }
    return [];
  }

  /** Domains known or waiting (for tests of the bound). */
  get size(): number {
    return this.creators.size + this.pending.size + this.waiting.length;
  }

  private attribute(event: AuditEvent, creator: number): AuditEvent[] {
    const label = this.labelOfPid(creator);
    if (label === undefined) {
      if (this.waiting.length < this.maxDomains) this.waiting.push({ event, creator, since: this.now() });
      else this.unattributed++;
      return [];
    }
    return [{ ...event, label: parseLabel(label) }];
  }

  private remember(domain: string, pid: number): void {
    this.creators.delete(domain);
    if (this.creators.size >= this.maxDomains) {
      const oldest = this.creators.keys().next().value;
      if (oldest !== undefined) this.creators.delete(oldest);
    }
    this.creators.set(domain, pid);
  }

  private forget(domain: string): void {
    this.creators.delete(domain);
    const held = this.pending.get(domain);
    if (held) this.unattributed += held.length;
    this.pending.delete(domain);
  }

  private dropOldestPending(): void {
    const oldest = this.pending.keys().next().value;
    if (oldest === undefined) return;
    this.unattributed += this.pending.get(oldest)?.length ?? 0;
    this.pending.delete(oldest);
  }
}
