/*
 * hatter-launch: confine, then execve. hatter starts every pool worker through this helper so that the
 * worker program and all of its threads are born inside the confinement (Landlock domain or AppArmor
 * label); a running Node process cannot be confined safely because both act per thread.
 *
 *   hatter-launch [options] -- command [args...]
 *   PATHs must be real paths: a symlink anywhere in one makes the launcher skip that rule (see open_rule_path).
 *     -r PATH     Landlock: read (READ_FILE|READ_DIR) beneath PATH
 *     -w PATH     Landlock: every handled right except EXECUTE beneath PATH (write, create, delete, refer...)
 *     -x PATH     Landlock: read and EXECUTE beneath PATH
 *     -N          Landlock: handle TCP; only -b/-c ports are allowed (needs ABI >= 4, else ignored)
 *     -b PORT     allow TCP bind to PORT          -c PORT   allow TCP connect to PORT
 *     -s          Landlock: scope abstract unix sockets and signals to the domain (ABI >= 6)
 *     -L          Landlock: create and enforce a ruleset even when no -r/-w/-x is given
 *     -A LABEL    AppArmor: write "exec LABEL" to /proc/self/attr/apparmor/exec (fallback attr/exec)
 *     -S          with -A: write "stack LABEL" instead of "exec LABEL"
 *     -T DIR      (tests) use DIR instead of /proc/self for the attr files
 *     -k FD       keep FD open across execve (fds 0-2 and $NODE_CHANNEL_FD are always kept)
 *     -g GID      setgroups({GID}) and setgid(GID)       -u UID   setuid(UID)
 *     -n          skip prctl(PR_SET_NO_NEW_PRIVS) (only meaningful with -A and no Landlock rules)
 *     -V ABI      use at most this Landlock ABI (tests of older kernels' behaviour; default: the kernel's)
 *     -C MASK     capabilities: keep exactly the capabilities in MASK (bit n = capability n, e.g. 0x400 =
 *                 net_bind_service) in the effective, permitted, inheritable, ambient and bounding sets, and
 *                 lock SECBIT_NOROOT so that a uid-0 worker gains nothing at execve (see drop_capabilities)
 *     -Y          sockets: install a seccomp filter so socket()/socketpair() fail with EACCES except for -F
 *     -F F:T:P    allow sockets of family F, type T, protocol P (numbers, or * for any), e.g. 2:1:* = inet stream;
 *                 F:T:P:pair allows them only from socketpair() (a connected pair reaches no one else)
 *     -P RIGHTS[:/SUB]  Landlock: grant RIGHTS (r, rw, rx...) beneath /proc/<own pid>[/SUB] (the pid survives
 *                 execve); repeatable; SUB is opened without following symlinks and may not contain '..'
 *     --probe     print "landlock-abi N errata M" and exit 0
 *     --audit-status  print "audit-enabled N" (the kernel audit's switch: 0 off, 1 on, 2 locked) and exit 0;
 *                 exit 1 when it cannot be asked (AUDIT_GET needs CAP_AUDIT_CONTROL). Reads, never changes it.
 *   On ABI >= 7 the domain is created with LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON: when the kernel's audit
 *   is on, the worker's denials are audited (type=1423 LANDLOCK_ACCESS), not only the launcher's.
 *   Exit 125 on any setup failure, with one line on stderr; otherwise the exit status is the command's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_openat2
#define __NR_openat2 437
#endif
#define RESOLVE_NO_SYMLINKS_FLAG 0x04
struct open_how_compat { uint64_t flags; uint64_t mode; uint64_t resolve; };

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

/* Defined here because distribution headers lag the kernel (Debian 12 stops at ABI 2). */
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_CREATE_RULESET_ERRATA (1U << 1)
#define LL_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1) /* ABI 7 */
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2
#define FS_EXECUTE (1ULL << 0)
#define FS_WRITE_FILE (1ULL << 1)
#define FS_READ_FILE (1ULL << 2)
#define FS_READ_DIR (1ULL << 3)
#define FS_REMOVE_DIR (1ULL << 4)
#define FS_REMOVE_FILE (1ULL << 5)
#define FS_MAKE_CHAR (1ULL << 6)
#define FS_MAKE_DIR (1ULL << 7)
#define FS_MAKE_REG (1ULL << 8)
#define FS_MAKE_SOCK (1ULL << 9)
#define FS_MAKE_FIFO (1ULL << 10)
#define FS_MAKE_BLOCK (1ULL << 11)
#define FS_MAKE_SYM (1ULL << 12)
#define FS_REFER (1ULL << 13)
#define FS_TRUNCATE (1ULL << 14)
#define FS_IOCTL_DEV (1ULL << 15)
#define NET_BIND_TCP (1ULL << 0)
#define NET_CONNECT_TCP (1ULL << 1)
#define SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define SCOPE_SIGNAL (1ULL << 1)
#define FILE_RIGHTS (FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV)

struct ruleset_attr { uint64_t handled_access_fs; uint64_t handled_access_net; uint64_t scoped; };
struct path_beneath_attr { uint64_t allowed_access; int32_t parent_fd; } __attribute__((packed));
struct net_port_attr { uint64_t allowed_access; uint64_t port; };

#define MAX_ITEMS 4096
struct path_rule { const char *path; char kind; };

static void die(const char *what, const char *detail) {
  int saved = errno;
  fprintf(stderr, "hatter-launch: %s%s%s: %s\n", what, detail ? " " : "", detail ? detail : "", strerror(saved));
  exit(125);
}

static void usage_fail(const char *message) {
  fprintf(stderr, "hatter-launch: %s\n", message);
  exit(125);
}

static long parse_number(const char *text, long max) {
  char *end;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno || *end || end == text || value < 0 || value > max) usage_fail("bad number argument");
  return value;
}

/*
 * Open a rule's path without following any symlink on the way. hatter passes real paths (resolved when
 * the pool was prepared); a symlink found now was planted since, e.g. by a site that can write the
 * directory above a granted one, to have the next worker's rule land on another site's tree. openat2
 * with RESOLVE_NO_SYMLINKS refuses that (ELOOP); kernels before 5.6 only get O_NOFOLLOW on the last part.
 */
static int open_rule_path(const char *path) {
  struct open_how_compat how = { O_PATH | O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS_FLAG };
  long fd = syscall(__NR_openat2, AT_FDCWD, path, &how, sizeof how);
  if (fd >= 0 || (errno != ENOSYS && errno != EINVAL && errno != E2BIG)) return (int)fd;
  return open(path, O_PATH | O_CLOEXEC | O_NOFOLLOW);
}

static int landlock_abi(void) {
  long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : (int)abi;
}

/* AUDIT_GET over NETLINK_AUDIT: the audit_status reply's `enabled`, or -1. */
static int audit_enabled(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
  if (fd < 0) return -1;
  struct { struct nlmsghdr header; char pad[16]; } request = { { NLMSG_LENGTH(0), AUDIT_GET, NLM_F_REQUEST, 1, 0 }, { 0 } };
  struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
  if (sendto(fd, &request, request.header.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) { close(fd); return -1; }
  struct timeval timeout = { 2, 0 };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  union { struct nlmsghdr header; char bytes[8192]; } reply;
  for (int tries = 0; tries < 4; tries++) {
    ssize_t n = recv(fd, &reply, sizeof reply, 0);
    if (n < (ssize_t)NLMSG_HDRLEN || !NLMSG_OK(&reply.header, (unsigned)n)) break;
    if (reply.header.nlmsg_type == NLMSG_ERROR) {
      struct nlmsgerr *error = NLMSG_DATA(&reply.header);
      if (error->error != 0) break;
      continue; /* the ack; the status follows */
    }
    if (reply.header.nlmsg_type == AUDIT_GET && reply.header.nlmsg_len >= NLMSG_LENGTH(2 * sizeof(uint32_t))) {
      struct audit_status *status = NLMSG_DATA(&reply.header);
      close(fd);
      return (int)status->enabled;
    }
  }
  close(fd);
  return -1;
}

static uint64_t fs_rights_for_abi(int abi) {
  uint64_t rights = (FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0-12 */
  if (abi >= 2) rights |= FS_REFER;
  if (abi >= 3) rights |= FS_TRUNCATE;
  if (abi >= 5) rights |= FS_IOCTL_DEV;
  return rights;
}

static uint64_t rights_for_kind(char kind, uint64_t handled) {
  uint64_t read = FS_READ_FILE | FS_READ_DIR;
  switch (kind) {
  case 'r': return read & handled;
  case 'x': return (read | FS_EXECUTE) & handled;
  default: return handled & ~FS_EXECUTE; /* 'w' */
  }
}

/* Every fd >= 3 that is not kept gets FD_CLOEXEC, so execve drops it (and it stays usable until then). */
static void mark_inherited_cloexec(const int *keep, int keep_count) {
  DIR *dir = opendir("/proc/self/fd");
  if (dir) {
    int dir_fd = dirfd(dir);
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
      if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
      int fd = atoi(entry->d_name);
      if (fd < 3 || fd == dir_fd) continue;
      int kept = 0;
      for (int i = 0; i < keep_count; i++) if (keep[i] == fd) kept = 1;
      int flags = fcntl(fd, F_GETFD);
      if (flags < 0) continue;
      if (kept) fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
      else fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
    closedir(dir);
    return;
  }
  /* No /proc: walk the descriptor table up to its limit. */
  long max = sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 65536) max = 65536;
  for (int fd = 3; fd < max; fd++) {
    int kept = 0;
    for (int i = 0; i < keep_count; i++) if (keep[i] == fd) kept = 1;
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0) continue;
    fcntl(fd, F_SETFD, kept ? (flags & ~FD_CLOEXEC) : (flags | FD_CLOEXEC));
  }
}

/* One write() with the whole command, as libapparmor does; short writes are failures. */
static void write_apparmor_exec(const char *attr_root, const char *label, int stack) {
  char command[PATH_MAX + 16];
  int length = snprintf(command, sizeof command, "%s %s", stack ? "stack" : "exec", label);
  if (length < 0 || (size_t)length >= sizeof command) usage_fail("AppArmor label too long");
  char path[PATH_MAX];
  const char *names[] = { "attr/apparmor/exec", "attr/exec" };
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s", attr_root, names[i]);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT && i == 0) continue;
      die("cannot open", path);
    }
    ssize_t written = write(fd, command, (size_t)length);
    if (written != length) {
      if (written >= 0) errno = EPROTO;
      die("cannot write AppArmor exec label to", path);
    }
    close(fd);
    return;
  }
  errno = ENOENT;
  die("no AppArmor attr file under", attr_root);
}

/*
 * Capabilities: exactly `keep` in every set, before execve. The order matters: securebits and the
 * bounding set need CAP_SETPCAP, the uid switch needs CAP_SETUID/SETGID, so both happen before capset
 * lowers the sets. SECBIT_KEEP_CAPS carries the permitted set over setuid() (execve clears it again);
 * SECBIT_NOROOT (locked) stops uid 0 from getting a full set at execve, and the ambient set carries the
 * kept capabilities over execve for any uid. The setuid fixup stays on (locked): a worker that later
 * switches to another uid (PHP-FPM's children) loses its capabilities as usual.
 * Without CAP_SETPCAP (an unprivileged server) the bounding set and securebits cannot change; the
 * permitted set is then what the server had (usually nothing) and no_new_privs keeps it from growing.
 */
#define SECBIT_NOROOT_ (1 << 0)
#define SECBIT_NOROOT_LOCKED_ (1 << 1)
#define SECBIT_NO_SETUID_FIXUP_LOCKED_ (1 << 3)
#define SECBIT_KEEP_CAPS_ (1 << 4)

static void capability_sets(struct __user_cap_data_struct data[2]) {
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  if (syscall(SYS_capget, &header, data) != 0) die("capget", NULL);
}

static int last_capability(void) {
  int last = 0;
  while (last < 63 && prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0) last++;
  return last;
}

static void prepare_capabilities(uint64_t keep) {
  struct __user_cap_data_struct data[2];
  capability_sets(data);
  if (!(data[0].effective & (1U << CAP_SETPCAP))) return; /* unprivileged: nothing to lock or drop */
  if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT_ | SECBIT_NOROOT_LOCKED_ | SECBIT_NO_SETUID_FIXUP_LOCKED_ | SECBIT_KEEP_CAPS_, 0, 0, 0) != 0)
    die("prctl(PR_SET_SECUREBITS)", NULL);
  int last = last_capability();
  for (int cap = 0; cap <= last; cap++) {
    if (keep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) die("prctl(PR_CAPBSET_DROP)", NULL);
  }
}

static void set_capabilities(uint64_t keep) {
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) die("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", NULL);
  struct __user_cap_data_struct data[2];
  capability_sets(data);
  uint64_t permitted = ((uint64_t)data[1].permitted << 32 | data[0].permitted) & keep;
  for (int i = 0; i < 2; i++) {
    uint32_t word = (uint32_t)(permitted >> (32 * i));
    data[i].effective = data[i].permitted = data[i].inheritable = word;
  }
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  if (syscall(SYS_capset, &header, data) != 0) die("capset", NULL);
  for (int cap = 0; cap < 64; cap++) {
    if ((permitted & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) die("prctl(PR_CAP_AMBIENT_RAISE)", NULL);
  }
}

/*
 * Sockets: a seccomp filter that lets socket() and socketpair() create only the listed family/type/
 * protocol triples (the hat's network and unix rules) and answers EACCES otherwise, as AppArmor does.
 * Only the native ABI is allowed through: a 32-bit or x32 syscall (int 0x80, socketcall, whose arguments
 * the filter cannot read) kills the process, so every other architecture fails closed.
 */
#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#define FOREIGN_SYSCALL_BIT 0x40000000U /* x32 */
#elif defined(__aarch64__) && defined(__AARCH64EL__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#define FOREIGN_SYSCALL_BIT 0U
#endif
#define ANY_VALUE -1L
struct socket_grant { long family, type, protocol; int pair_only; };

static void install_socket_filter(const struct socket_grant *grants, int count) {
#ifndef NATIVE_AUDIT_ARCH
  (void)grants; (void)count;
  errno = EOPNOTSUPP;
  die("the socket filter (-Y) is not implemented for this architecture", NULL);
#else
  static struct sock_filter program[BPF_MAXINSNS];
  int n = 0;
#define EMIT(code, k, jt, jf) do { if (n >= BPF_MAXINSNS) usage_fail("too many socket grants"); program[n++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf); } while (0)
#define ARG_LOW(i) (offsetof(struct seccomp_data, args) + 8 * (i)) /* little-endian: the int argument */
  EMIT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), 0, 0);
  EMIT(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_AUDIT_ARCH, 1, 0);
  EMIT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
  EMIT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0);
  if (FOREIGN_SYSCALL_BIT) {
    EMIT(BPF_JMP | BPF_JGE | BPF_K, FOREIGN_SYSCALL_BIT, 0, 1);
    EMIT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
  }
  EMIT(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 2, 0);
  EMIT(BPF_JMP | BPF_JEQ | BPF_K, SYS_socketpair, 1, 0);
  EMIT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
  for (int g = 0; g < count; g++) {
    /* One block per grant: each failed comparison jumps past the block's end, a full match allows. */
    long values[4] = { grants[g].pair_only ? SYS_socketpair : ANY_VALUE, grants[g].family, grants[g].type, grants[g].protocol };
    uint32_t offsets[4] = { offsetof(struct seccomp_data, nr), ARG_LOW(0), ARG_LOW(1), ARG_LOW(2) };
    int left = 1; /* the final return */
    for (int v = 0; v < 4; v++) if (values[v] != ANY_VALUE) left += v == 2 ? 3 : 2;
    for (int v = 0; v < 4; v++) {
      if (values[v] == ANY_VALUE) continue;
      EMIT(BPF_LD | BPF_W | BPF_ABS, offsets[v], 0, 0);
      if (v == 2) EMIT(BPF_ALU | BPF_AND | BPF_K, 0xf, 0, 0); /* SOCK_TYPE_MASK: without SOCK_NONBLOCK/CLOEXEC */
      left -= v == 2 ? 3 : 2;
      EMIT(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)values[v], 0, (uint8_t)(left));
    }
    EMIT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
  }
  EMIT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA), 0, 0);
  struct sock_fprog fprog = { (unsigned short)n, program };
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) != 0) die("prctl(PR_SET_SECCOMP)", NULL);
#endif
}

static long parse_socket_field(const char *text, long max) {
  return strcmp(text, "*") == 0 ? ANY_VALUE : parse_number(text, max);
}

static struct socket_grant parse_socket_grant(const char *text) {
  char copy[64];
  if (strlen(text) >= sizeof copy) usage_fail("bad -F argument (FAMILY:TYPE:PROTOCOL)");
  strcpy(copy, text);
  char *type = strchr(copy, ':');
  char *protocol = type ? strchr(type + 1, ':') : NULL;
  char *pair = protocol ? strchr(protocol + 1, ':') : NULL;
  if (!type || !protocol || (pair && strcmp(pair, ":pair") != 0)) usage_fail("bad -F argument (FAMILY:TYPE:PROTOCOL[:pair])");
  *type++ = 0;
  *protocol++ = 0;
  if (pair) *pair = 0;
  struct socket_grant grant = { parse_socket_field(copy, 255), parse_socket_field(type, 15), parse_socket_field(protocol, INT_MAX), pair != NULL };
  return grant;
}

int main(int argc, char **argv) {
  static struct path_rule paths[MAX_ITEMS];
  static long bind_ports[MAX_ITEMS], connect_ports[MAX_ITEMS];
  static int keep[MAX_ITEMS + 1];
  static struct socket_grant socket_grants[MAX_ITEMS];
  int path_count = 0, bind_count = 0, connect_count = 0, keep_count = 0, socket_count = 0;
  int handle_net = 0, scoped = 0, force_landlock = 0, skip_nnp = 0, stack = 0, socket_filter = 0, set_caps = 0;
  uint64_t keep_caps = 0;
  const char *apparmor_label = NULL, *attr_root = "/proc/self", *own_procs[32];
  int own_proc_count = 0;
  long uid = -1, gid = -1, abi_cap = -1;
  int i = 1;

  for (; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--") == 0) { i++; break; }
    if (strcmp(arg, "--probe") == 0) {
      long errata = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_ERRATA);
      printf("landlock-abi %d errata %ld\n", landlock_abi(), errata < 0 ? 0L : errata);
      return 0;
    }
    if (strcmp(arg, "--audit-status") == 0) {
      int enabled = audit_enabled();
      if (enabled < 0) return 1;
      printf("audit-enabled %d\n", enabled);
      return 0;
    }
    if (arg[0] != '-' || arg[1] == 0 || arg[2] != 0) usage_fail("unknown option (see the comment at the top of hatter-launch.c)");
    char option = arg[1];
    if (strchr("NsLnSY", option)) {
      if (option == 'N') handle_net = 1;
      else if (option == 'Y') socket_filter = 1;
      else if (option == 's') scoped = 1;
      else if (option == 'L') force_landlock = 1;
      else if (option == 'n') skip_nnp = 1;
      else stack = 1;
      continue;
    }
    if (!strchr("rwxbcAkguTVCFP", option)) usage_fail("unknown option (see the comment at the top of hatter-launch.c)");
    if (i + 1 >= argc) usage_fail("option needs an argument");
    const char *value = argv[++i];
    switch (option) {
    case 'r': case 'w': case 'x':
      if (path_count >= MAX_ITEMS) usage_fail("too many path rules");
      paths[path_count].path = value;
      paths[path_count++].kind = option;
      break;
    case 'b': if (bind_count >= MAX_ITEMS) usage_fail("too many ports"); bind_ports[bind_count++] = parse_number(value, 65535); break;
    case 'c': if (connect_count >= MAX_ITEMS) usage_fail("too many ports"); connect_ports[connect_count++] = parse_number(value, 65535); break;
    case 'k': if (keep_count >= MAX_ITEMS) usage_fail("too many fds"); keep[keep_count++] = (int)parse_number(value, INT_MAX); break;
    case 'A': apparmor_label = value; break;
    case 'T': attr_root = value; break;
    case 'g': gid = parse_number(value, UINT32_MAX - 1); break;
    case 'u': uid = parse_number(value, UINT32_MAX - 1); break;
    case 'V': abi_cap = parse_number(value, 1000); break;
    case 'C': {
      char *end;
      errno = 0;
      keep_caps = strtoull(value, &end, 0);
      if (errno || *end || end == value || value[0] == '-') usage_fail("bad -C mask");
      set_caps = 1;
      break;
    }
    case 'F':
      if (socket_count >= MAX_ITEMS) usage_fail("too many socket grants");
      socket_grants[socket_count++] = parse_socket_grant(value);
      break;
    case 'P':
      {
        size_t letters = strspn(value, "rwx");
        if (!letters || (value[letters] != 0 && (value[letters] != ':' || value[letters + 1] != '/' || strstr(value, "/..") != NULL)))
          usage_fail("bad -P (RIGHTS of r, w, x, then optionally :/SUBPATH without ..)");
        if (own_proc_count == (int)(sizeof own_procs / sizeof own_procs[0])) usage_fail("too many -P");
        own_procs[own_proc_count++] = value;
      }
      break;
    }
  }
  if (i >= argc) usage_fail("no command after --");
  char **command = &argv[i];

  const char *channel = getenv("NODE_CHANNEL_FD");
  if (channel && *channel) keep[keep_count++] = (int)parse_number(channel, INT_MAX);
  mark_inherited_cloexec(keep, keep_count);

  if (set_caps) prepare_capabilities(keep_caps);
  if (gid >= 0) {
    gid_t groups[1] = { (gid_t)gid };
    if (setgroups(1, groups) != 0) die("setgroups", NULL);
    if (setgid((gid_t)gid) != 0) die("setgid", NULL);
  }
  if (uid >= 0 && setuid((uid_t)uid) != 0) die("setuid", NULL);
  if (set_caps) set_capabilities(keep_caps);

  /* AppArmor before no_new_privs: NNP would refuse a transition that is not a subset. */
  if (apparmor_label) write_apparmor_exec(attr_root, apparmor_label, stack);

  int use_landlock = force_landlock || path_count > 0 || handle_net || scoped || own_proc_count > 0;
  if (!skip_nnp || use_landlock || socket_filter) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("prctl(PR_SET_NO_NEW_PRIVS)", NULL);
  }

  if (use_landlock) {
    int abi = landlock_abi();
    if (abi_cap >= 0 && abi > abi_cap) abi = (int)abi_cap;
    if (abi < 1) { errno = EOPNOTSUPP; die("Landlock is not available", NULL); }
    struct ruleset_attr attr = { fs_rights_for_abi(abi), 0, 0 };
    size_t attr_size = 8;
    if (handle_net && abi >= 4) { attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP; attr_size = 16; }
    if (scoped && abi >= 6) { attr.scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL; attr_size = 24; }
    int ruleset = (int)syscall(__NR_landlock_create_ruleset, &attr, attr_size, 0);
    if (ruleset < 0) die("landlock_create_ruleset", NULL);
    for (int p = 0; p < path_count; p++) {
      int fd = open_rule_path(paths[p].path);
      if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) continue; /* missing paths grant nothing: fail closed */
        if (errno == ELOOP) {
          fprintf(stderr, "hatter-launch: not granting %s: a symlink is on the way (planted after the policy was resolved?)\n", paths[p].path);
          continue;
        }
        die("cannot open", paths[p].path);
      }
      struct stat st;
      if (fstat(fd, &st) != 0) die("cannot stat", paths[p].path);
      struct path_beneath_attr rule = { rights_for_kind(paths[p].kind, attr.handled_access_fs), fd };
      if (!S_ISDIR(st.st_mode)) rule.allowed_access &= FILE_RIGHTS;
      if (rule.allowed_access && syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule, 0) != 0)
        die("landlock_add_rule", paths[p].path);
      close(fd);
    }
    for (int p = 0; p < own_proc_count; p++) {
      /* The worker's own /proc/<pid> (what /proc/self resolves to), or one entry of it: its pid survives
         execve. Never through a symlink: /proc/<pid>/root and cwd lead out of /proc. */
      const char *colon = strchr(own_procs[p], ':');
      size_t letters = colon ? (size_t)(colon - own_procs[p]) : strlen(own_procs[p]);
      char own[PATH_MAX];
      snprintf(own, sizeof own, "/proc/%d%s", (int)getpid(), colon ? colon + 1 : "");
      int fd = open_rule_path(own);
      if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue; /* grants nothing: fail closed */
        die("cannot open", own);
      }
      struct stat st;
      if (fstat(fd, &st) != 0) die("cannot stat", own);
      struct path_beneath_attr rule = { 0, fd };
      for (size_t k = 0; k < letters; k++) rule.allowed_access |= rights_for_kind(own_procs[p][k], attr.handled_access_fs);
      if (!S_ISDIR(st.st_mode)) rule.allowed_access &= FILE_RIGHTS;
      if (S_ISLNK(st.st_mode)) rule.allowed_access = 0;
      if (rule.allowed_access && syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule, 0) != 0) die("landlock_add_rule", own);
      close(fd);
    }
    if (attr.handled_access_net) {
      for (int p = 0; p < bind_count; p++) {
        struct net_port_attr rule = { NET_BIND_TCP, (uint64_t)bind_ports[p] };
        if (syscall(__NR_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &rule, 0) != 0) die("landlock_add_rule (bind port)", NULL);
      }
      for (int p = 0; p < connect_count; p++) {
        struct net_port_attr rule = { NET_CONNECT_TCP, (uint64_t)connect_ports[p] };
        if (syscall(__NR_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &rule, 0) != 0) die("landlock_add_rule (connect port)", NULL);
      }
    }
    /* ABI 7 (Linux 6.15): by default the kernel audits a domain's denials only until the next execve, i.e.
       the launcher's and never the worker's. LOG_NEW_EXEC_ON audits the worker too (nothing is written while
       the kernel's audit is off). Same-exec logging stays on: a denial in the launcher itself (execvp's
       PATH search) is as real as one in the worker. */
    unsigned int restrict_flags = abi >= 7 ? LL_RESTRICT_SELF_LOG_NEW_EXEC_ON : 0;
    if (syscall(__NR_landlock_restrict_self, ruleset, restrict_flags) != 0) die("landlock_restrict_self", NULL);
    close(ruleset);
  }

  if (socket_filter) install_socket_filter(socket_grants, socket_count);

  execvp(command[0], command);
  die("cannot execute", command[0]);
  return 125;
}
