// The words the AppArmor policy language knows, per rule class: capability names, network families and
// types, signals, flags, rlimits. Plain data shared by check ("did you mean" hints), eval (capability bits)
// and anything else that needs the vocabulary, so no layer borrows it from another.

/** capabilities(7) names, lowercase without `CAP_`, in kernel bit order. */
export const CAPABILITIES: readonly string[] = [
  'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap',
  'linux_immutable', 'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner',
  'sys_module', 'sys_rawio', 'sys_chroot', 'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice',
  'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease', 'audit_write', 'audit_control', 'setfcap',
  'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read', 'perfmon', 'bpf',
  'checkpoint_restore',
];

/** Signal names accepted in `signal set=(…)`; `rtmin+0` … `rtmin+32` are added below. */
export const SIGNALS: readonly string[] = [
  'hup', 'int', 'quit', 'ill', 'trap', 'abrt', 'bus', 'fpe', 'kill', 'usr1', 'segv', 'usr2', 'pipe', 'alrm',
  'term', 'stkflt', 'chld', 'cont', 'stop', 'stp', 'ttin', 'ttou', 'urg', 'xcpu', 'xfsz', 'vtalrm', 'prof',
  'winch', 'io', 'pwr', 'sys', 'emt', 'exists',
  ...Array.from({ length: 33 }, (_, i) => `rtmin+${i}`),
];

export const SIGNAL_ACCESS: readonly string[] = ['send', 'receive', 'r', 'read', 'w', 'write', 'rw'];
export const PTRACE_ACCESS: readonly string[] = ['read', 'readby', 'trace', 'tracedby', 'r', 'w', 'rw', 'write'];
export const DBUS_ACCESS: readonly string[] = ['send', 'receive', 'bind', 'eavesdrop', 'r', 'read', 'w', 'write', 'rw'];
export const NETWORK_ACCESS: readonly string[] = [
  'create', 'bind', 'listen', 'accept', 'connect', 'shutdown', 'getattr', 'setattr', 'getopt', 'setopt',
  'send', 'receive', 'r', 'w', 'rw',
];
export const UNIX_ACCESS = NETWORK_ACCESS;
/** Network/unix permissions that concern only the local socket, so they cannot go with `peer=`. */
export const LOCAL_ONLY_NET_ACCESS: readonly string[] = ['create', 'bind', 'listen', 'shutdown', 'getattr', 'setattr', 'getopt', 'setopt'];
export const MQUEUE_ACCESS: readonly string[] = ['r', 'w', 'rw', 'read', 'write', 'create', 'open', 'delete', 'getattr', 'setattr'];
export const IO_URING_ACCESS: readonly string[] = ['sqpoll', 'override_creds'];
export const USERNS_ACCESS: readonly string[] = ['create'];

export const NETWORK_DOMAINS: readonly string[] = [
  'unspec', 'unix', 'inet', 'inet6', 'ax25', 'ipx', 'appletalk', 'netrom', 'bridge', 'atmpvc', 'x25', 'rose', 'netbeui',
  'security', 'key', 'netlink', 'packet', 'ash', 'econet', 'atmsvc', 'rds', 'sna', 'irda', 'pppox', 'wanpipe',
  'llc', 'ib', 'mpls', 'can', 'tipc', 'bluetooth', 'iucv', 'rxrpc', 'isdn', 'phonet', 'ieee802154', 'caif',
  'alg', 'nfc', 'vsock', 'kcm', 'qipcrtr', 'smc', 'xdp', 'mctp',
];
export const NETWORK_TYPES: readonly string[] = ['stream', 'dgram', 'seqpacket', 'rdm', 'raw', 'packet'];
export const NETWORK_PROTOCOLS: readonly string[] = ['tcp', 'udp', 'icmp'];
/** netlink sockets exist only as these types. */
export const NETLINK_TYPES: readonly string[] = ['dgram', 'raw'];

export type RlimitKind = 'size' | 'count' | 'time' | 'nice';
export const RLIMITS: Readonly<Record<string, RlimitKind>> = {
  cpu: 'time', fsize: 'size', data: 'size', stack: 'size', core: 'size', rss: 'size', nofile: 'count',
  ofile: 'count', as: 'size', nproc: 'count', memlock: 'size', locks: 'count', sigpending: 'count',
  msgqueue: 'size', nice: 'nice', rtprio: 'count', rttime: 'time',
};
export const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3,
};
/** Time units in microseconds. */
export const TIME_UNITS: Readonly<Record<string, number>> = {
  us: 1, microsecond: 1, microseconds: 1,
  ms: 1e3, millisecond: 1e3, milliseconds: 1e3,
  s: 1e6, sec: 1e6, second: 1e6, seconds: 1e6,
  min: 60e6, minute: 60e6, minutes: 60e6,
  h: 3600e6, hour: 3600e6, hours: 3600e6,
  d: 86400e6, day: 86400e6, days: 86400e6,
  week: 604800e6, weeks: 604800e6,
};

/** Profile modes: at most one per profile. */
export const PROFILE_MODE_FLAGS: readonly string[] = ['enforce', 'complain', 'kill', 'unconfined', 'default_allow', 'prompt'];
export const PROFILE_FLAGS: readonly string[] = [
  ...PROFILE_MODE_FLAGS, 'audit', 'mediate_deleted', 'delegate_deleted', 'attach_disconnected',
  'no_attach_disconnected', 'chroot_relative', 'namespace_relative', 'chroot_attach', 'chroot_no_attach',
  'interruptible',
];
/** Flags that take a value after `=`. */
export const PROFILE_VALUE_FLAGS: readonly string[] = ['attach_disconnected.path', 'attach_disconnected.ipc', 'kill.signal', 'error'];
/** Pairs of flags that cannot be combined. */
export const CONFLICTING_FLAGS: readonly (readonly [string, string])[] = [
  ['mediate_deleted', 'delegate_deleted'],
  ['attach_disconnected', 'no_attach_disconnected'],
  ['chroot_relative', 'namespace_relative'],
  ['chroot_attach', 'chroot_no_attach'],
];

export const MOUNT_OPTIONS: readonly string[] = [
  'ro', 'rw', 'r', 'w', 'read-only', 'read-write', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'sync',
  'async', 'remount', 'mand', 'nomand', 'dirsync', 'noatime', 'atime', 'nodiratime', 'diratime', 'bind', 'B',
  'rbind', 'R', 'move', 'M', 'verbose', 'silent', 'loud', 'acl', 'noacl', 'unbindable', 'make-unbindable',
  'runbindable', 'make-runbindable', 'private', 'make-private', 'rprivate', 'make-rprivate', 'slave',
  'make-slave', 'rslave', 'make-rslave', 'shared', 'make-shared', 'rshared', 'make-rshared', 'relatime',
  'norelatime', 'iversion', 'noiversion', 'strictatime', 'nostrictatime', 'lazytime', 'nolazytime', 'nouser',
  'user', 'symfollow', 'nosymfollow',
];

/** errno names accepted by `error=` (case-insensitive). */
export const ERRNO_NAMES: readonly string[] = [
  'EPERM', 'ENOENT', 'ESRCH', 'EINTR', 'EIO', 'ENXIO', 'E2BIG', 'ENOEXEC', 'EBADF', 'ECHILD', 'EAGAIN', 'ENOMEM',
  'EACCES', 'EFAULT', 'ENOTBLK', 'EBUSY', 'EEXIST', 'EXDEV', 'ENODEV', 'ENOTDIR', 'EISDIR', 'EINVAL', 'ENFILE',
  'EMFILE', 'ENOTTY', 'ETXTBSY', 'EFBIG', 'ENOSPC', 'ESPIPE', 'EROFS', 'EMLINK', 'EPIPE', 'EDOM', 'ERANGE',
  'EDEADLK', 'ENAMETOOLONG', 'ENOLCK', 'ENOSYS', 'ENOTEMPTY', 'ELOOP', 'EWOULDBLOCK', 'ENOMSG', 'EIDRM',
  'ENOSTR', 'ENODATA', 'ETIME', 'ENOSR', 'ENOLINK', 'EPROTO', 'EBADMSG', 'EOVERFLOW', 'EILSEQ', 'EUSERS',
  'ENOTSOCK', 'EDESTADDRREQ', 'EMSGSIZE', 'EPROTOTYPE', 'ENOPROTOOPT', 'EPROTONOSUPPORT', 'ESOCKTNOSUPPORT',
  'EOPNOTSUPP', 'ENOTSUP', 'EPFNOSUPPORT', 'EAFNOSUPPORT', 'EADDRINUSE', 'EADDRNOTAVAIL', 'ENETDOWN',
  'ENETUNREACH', 'ENETRESET', 'ECONNABORTED', 'ECONNRESET', 'ENOBUFS', 'EISCONN', 'ENOTCONN', 'ESHUTDOWN',
  'ETOOMANYREFS', 'ETIMEDOUT', 'ECONNREFUSED', 'EHOSTDOWN', 'EHOSTUNREACH', 'EALREADY', 'EINPROGRESS',
  'ESTALE', 'EDQUOT', 'ECANCELED', 'EOWNERDEAD', 'ENOTRECOVERABLE', 'ERFKILL', 'EHWPOISON',
];

/** The closest known word (edit distance ≤ 2), for "did you mean" hints. */
export function closestWord(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  const lower = word.toLowerCase().replace(/^cap_/, '');
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase(), bestDistance);
    if (distance < bestDistance) { best = candidate; bestDistance = distance; }
  }
  return best;
}

function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
