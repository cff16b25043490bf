// Landlock's audit records (Linux 6.15+, security/landlock/audit.c) as AppArmor-style events: a
// LANDLOCK_ACCESS record (type 1423) is a DENIED event, a LANDLOCK_DOMAIN record (type 1424) a STATUS event.
// Both carry the domain id; the domain's creator (pid) comes only with the first denial of the domain.
// The mapping of blockers to AppArmor's class, operation and permission letters is documented in docs/logs.md.

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
