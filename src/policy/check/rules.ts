// Per-class semantic checks on the words of a rule (apparmor_parser parity, policy-language.md §5).
// Each function takes the rule's facts (already variable-expanded) and returns problems; the caller
// attaches locations.
import {
  CAPABILITIES, CONFLICTING_FLAGS, DBUS_ACCESS, ERRNO_NAMES, IO_URING_ACCESS, LOCAL_ONLY_NET_ACCESS, MOUNT_OPTIONS,
  MQUEUE_ACCESS, NETLINK_TYPES, NETWORK_ACCESS, NETWORK_DOMAINS, NETWORK_PROTOCOLS, NETWORK_TYPES, PROFILE_FLAGS,
  PROFILE_MODE_FLAGS, PTRACE_ACCESS, RLIMITS, SIGNAL_ACCESS, SIGNALS, SIZE_UNITS, TIME_UNITS, USERNS_ACCESS, closestWord,
} from '../vocabulary.js';

export interface RuleProblem {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  /** Problems apparmor_parser only warns about. */
  readonly severity?: 'warning';
  /** The offending word as written, so the diagnostic can point at it. */
  readonly word?: string;
}

export interface ConditionFact {
  readonly key: string;
  readonly operator: '=' | 'in';
  readonly values: readonly string[];
  /** Written as `key=(a b)` (parenthesised list) rather than `key=a`. */
  readonly list: boolean;
  /** Inside `peer=(…)`. */
  readonly peer: boolean;
}

export interface RuleFacts {
  readonly class: string;
  readonly access: readonly string[];
  readonly words: readonly string[];
  readonly conditions: readonly ConditionFact[];
  readonly target?: string;
  /** A bare `peer=LABEL` (signal, ptrace) is a condition with key `peer` and peer=false. */
}

function unknown(what: string, word: string, known: readonly string[], code: string): RuleProblem {
  const close = closestWord(word, known);
  return { code, message: `unknown ${what} '${word}'`, word, ...(close && close !== word ? { hint: `did you mean '${close}'?` } : {}) };
}

export function checkCapabilityNames(names: readonly string[]): RuleProblem[] {
  const problems: RuleProblem[] = [];
  for (const name of names) {
    if (!CAPABILITIES.includes(name)) {
      const problem = unknown('capability', name, CAPABILITIES, 'check/unknown-capability');
      problems.push(/^cap_/i.test(name) ? { ...problem, hint: `capability names are lowercase without CAP_: '${name.replace(/^cap_/i, '').toLowerCase()}'` } : problem);
    }
  }
  return problems;
}

const ALLOWED_CONDITIONS: Readonly<Record<string, readonly string[]>> = {
  network: ['ip', 'port', 'peer.ip', 'peer.port', 'interface', 'label', 'peer.label'],
  unix: ['type', 'protocol', 'addr', 'label', 'attr', 'opt', 'peer.addr', 'peer.label'],
  dbus: ['bus', 'path', 'interface', 'member', 'name', 'peer.name', 'peer.label'],
  signal: ['set', 'peer'],
  ptrace: ['peer'],
  mount: ['fstype', 'vfstype', 'options'],
  remount: ['fstype', 'vfstype', 'options'],
  umount: ['fstype', 'vfstype', 'options'],
  pivot_root: ['oldroot'],
  io_uring: ['label'],
  mqueue: ['type', 'label'],
  userns: [],
  all: [],
};

/** Classes whose `peer=( … )` may be empty (apparmor_parser accepts it; network and the bare-label classes do not). */
const EMPTY_PEER_LIST_CLASSES: ReadonlySet<string> = new Set(['dbus', 'unix']);

function isEmptyPeerList(condition: ConditionFact): boolean {
  return condition.key === 'peer' && !condition.peer && condition.list && condition.values.length === 0;
}

const ACCESS_WORDS: Readonly<Record<string, readonly string[]>> = {
  network: NETWORK_ACCESS, unix: NETWORK_ACCESS, dbus: DBUS_ACCESS, signal: SIGNAL_ACCESS, ptrace: PTRACE_ACCESS,
  io_uring: IO_URING_ACCESS, mqueue: MQUEUE_ACCESS, userns: USERNS_ACCESS,
};

/** Checks shared by every non-file class, then the class-specific ones. */
export function checkRuleFacts(facts: RuleFacts): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const allowed = ALLOWED_CONDITIONS[facts.class];
  const seen = new Map<string, number>();
  for (const condition of facts.conditions) {
    const key = (condition.peer ? 'peer.' : '') + condition.key.replace(/:$/, '');
    if (isEmptyPeerList(condition) && EMPTY_PEER_LIST_CLASSES.has(facts.class)) {
      // apparmor_parser accepts `dbus peer=(),` and `unix peer=(),`: no peer conditions, any peer.
      seen.set('peer', (seen.get('peer') ?? 0) + 1);
      continue;
    }
    if (allowed && !allowed.includes(key)) {
      problems.push({ code: 'check/unknown-condition', message: `'${condition.peer ? `peer=(${condition.key}=…)` : `${condition.key}=`}' is not a condition of ${facts.class} rules`, ...(allowed.length ? { hint: `${facts.class} rules take ${allowed.map((a) => a.replace('peer.', 'peer=(') + (a.startsWith('peer.') ? ')' : '=')).join(' ')}` } : {}) });
      continue;
    }
    seen.set(key, (seen.get(key) ?? 0) + 1);
    if (condition.values.length === 0 || condition.values.some((v) => v === '')) {
      problems.push({ code: 'check/empty-condition', message: `'${condition.key}=' needs a value` });
    }
  }
  const repeatable = facts.class === 'signal' ? ['set'] : facts.class === 'mount' || facts.class === 'remount' || facts.class === 'umount' ? ['options', 'fstype', 'vfstype'] : [];
  for (const [key, count] of seen) {
    if (count > 1 && !repeatable.includes(key)) {
      problems.push({ code: 'check/repeated-condition', message: `'${key.replace('peer.', 'peer=')}=' is given ${count} times; a rule takes it once` });
    }
  }
  const accessWords = ACCESS_WORDS[facts.class];
  if (accessWords) {
    for (const word of facts.access) {
      if (facts.class === 'mqueue' && /^[rw]+$/.test(word)) continue;
      if (!accessWords.includes(word)) problems.push(unknown(`${facts.class} access`, word, accessWords, 'check/unknown-access'));
    }
  }
  switch (facts.class) {
    case 'network': problems.push(...checkNetwork(facts)); break;
    case 'unix': problems.push(...checkUnix(facts)); break;
    case 'dbus': problems.push(...checkDbus(facts)); break;
    case 'signal': problems.push(...checkSignal(facts)); break;
    case 'ptrace': problems.push(...noWords(facts, 'ptrace')); break;
    case 'mount': case 'remount': case 'umount': problems.push(...checkMount(facts)); break;
    case 'io_uring': problems.push(...noWords(facts, 'io_uring')); break;
    case 'userns': problems.push(...noWords(facts, 'userns')); break;
    case 'mqueue': problems.push(...checkMqueue(facts)); break;
    case 'all':
      if (facts.access.length || facts.words.length || facts.conditions.length) {
        problems.push({ code: 'check/all-takes-nothing', message: "'all' takes no access list or conditions: write 'all,'" });
      }
      break;
    default: break;
  }
  return problems;
}

function noWords(facts: RuleFacts, what: string): RuleProblem[] {
  return facts.words.map((word) => ({ code: 'check/unexpected-word', message: `unexpected '${word}' in ${what} rule` }));
}

function conditionValues(facts: RuleFacts, key: string, peer: boolean): string[] {
  return facts.conditions.filter((c) => c.key === key && c.peer === peer).flatMap((c) => c.values);
}

function hasPeer(facts: RuleFacts): boolean {
  return facts.conditions.some((c) => c.peer);
}

function localOnlyWithPeer(facts: RuleFacts): RuleProblem[] {
  if (!hasPeer(facts)) return [];
  const local = facts.access.filter((a) => LOCAL_ONLY_NET_ACCESS.includes(a));
  return local.length ? [{ code: 'check/local-access-with-peer', message: `'${local.join(' ')}' concerns only the local socket and cannot be combined with peer=(…)` }] : [];
}

function checkNetwork(facts: RuleFacts): RuleProblem[] {
  const problems: RuleProblem[] = [...localOnlyWithPeer(facts)];
  let domain: string | undefined;
  let type: string | undefined;
  let protocol: string | undefined;
  for (const word of facts.words) {
    if (NETWORK_DOMAINS.includes(word) && !domain && !type && !protocol) domain = word;
    else if (NETWORK_TYPES.includes(word) && !type && !protocol) type = word;
    else if (NETWORK_PROTOCOLS.includes(word) && !protocol && !type) protocol = word;
    else if (NETWORK_DOMAINS.includes(word) || NETWORK_TYPES.includes(word) || NETWORK_PROTOCOLS.includes(word)) {
      problems.push({ code: 'check/unknown-network-word', word, message: `'${word}' is out of place: a network rule is 'network [DOMAIN] [TYPE or PROTOCOL]' (one domain, then one type or one protocol, not both)` });
    } else problems.push(unknown('network domain, type or protocol', word, [...NETWORK_DOMAINS, ...NETWORK_TYPES, ...NETWORK_PROTOCOLS], 'check/unknown-network-word'));
  }
  if (protocol && domain && domain !== 'inet' && domain !== 'inet6') {
    problems.push({ code: 'check/protocol-needs-inet', message: `protocol '${protocol}' applies to inet and inet6 sockets, not '${domain}'`, hint: `use a socket type instead (e.g. 'network ${domain} stream,')` });
  } else if (protocol === 'icmp' && domain === 'inet6') {
    problems.push({ code: 'check/protocol-needs-inet', message: "'icmp' is an inet (IPv4) protocol; inet6 has no 'icmp' protocol here", hint: "write 'network inet icmp,' or 'network inet6 raw,'" });
  }
  if (domain === 'netlink' && type && !NETLINK_TYPES.includes(type)) {
    problems.push({ code: 'check/bad-netlink-type', severity: 'warning', message: `netlink sockets are only ${NETLINK_TYPES.join(' or ')}; a '${type}' rule never matches` });
  }
  const usesAddress = facts.conditions.some((c) => c.key === 'ip' || c.key === 'port');
  if (usesAddress && domain && domain !== 'inet' && domain !== 'inet6') {
    problems.push({ code: 'check/address-needs-inet', message: `ip= and port= apply only to inet and inet6 sockets, not '${domain}'` });
  }
  for (const c of facts.conditions) {
    for (const value of c.values) {
      if (c.key === 'ip' && !validIpCondition(value)) problems.push({ code: 'check/bad-ip', word: value, message: `'${value}' is not an IP address, address range or subnet (or 'none')` });
      if (c.key === 'port' && !validPortCondition(value)) problems.push({ code: 'check/bad-port', word: value, message: `'${value}' is not a port (0-65535) or port range LOW-HIGH` });
    }
    if ((c.key === 'ip' || c.key === 'port') && (c.operator === 'in' || c.list)) {
      problems.push({ code: 'check/condition-takes-one-value', message: `'${c.key}=' takes one value` });
    }
  }
  return problems;
}

export function validPortCondition(value: string): boolean {
  const match = /^(\d+)(?:-(\d+))?$/.exec(value);
  if (!match) return false;
  const low = Number(match[1]);
  const high = match[2] === undefined ? low : Number(match[2]);
  return low <= 65535 && high <= 65535 && low <= high;
}

export function validIpCondition(value: string): boolean {
  if (value === 'none') return true;
  const slash = value.indexOf('/');
  if (slash >= 0) {
    const address = value.slice(0, slash);
    const bits = value.slice(slash + 1);
    if (!/^\d+$/.test(bits)) return false;
    const family = ipFamily(address);
    if (!family) return false;
    return Number(bits) <= (family === 4 ? 32 : 128);
  }
  const dash = value.indexOf('-');
  if (dash >= 0) {
    const low = value.slice(0, dash);
    const high = value.slice(dash + 1);
    const family = ipFamily(low);
    if (!family || ipFamily(high) !== family) return false;
    return compareAddresses(parseAddress(low, family), parseAddress(high, family)) <= 0;
  }
  return ipFamily(value) !== undefined;
}

function ipFamily(text: string): 4 | 6 | undefined {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(text)) {
    return text.split('.').every((part) => Number(part) <= 255) ? 4 : undefined;
  }
  if (/^[0-9a-fA-F:]+$/.test(text) && text.includes(':')) {
    const halves = text.split('::');
    if (halves.length > 2) return undefined;
    const groups = halves.flatMap((h) => (h ? h.split(':') : []));
    if (groups.some((g) => g.length === 0 || g.length > 4)) return undefined;
    return (halves.length === 2 ? groups.length < 8 : groups.length === 8) ? 6 : undefined;
  }
  return undefined;
}

function parseAddress(text: string, family: 4 | 6): number[] {
  if (family === 4) return text.split('.').map(Number);
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':').map((g) => parseInt(g, 16)) : [];
  const right = tail ? tail.split(':').map((g) => parseInt(g, 16)) : [];
  return [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
}

function compareAddresses(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function checkUnix(facts: RuleFacts): RuleProblem[] {
  const problems: RuleProblem[] = [...localOnlyWithPeer(facts)];
  problems.push(...noWords(facts, 'unix'));
  if (facts.access.includes('bind') && facts.conditions.some((c) => c.key === 'label' && !c.peer)) {
    problems.push({ code: 'check/bind-with-label', message: "'bind' cannot be combined with label=: a socket gets its label when it is created" });
  }
  for (const c of facts.conditions) {
    if ((c.key === 'type' || c.key === 'protocol') && (c.operator === 'in' || c.list || c.values.length > 1)) {
      problems.push({ code: 'check/condition-takes-one-value', message: `'${c.key}=' takes one value` });
    }
  }
  return problems;
}

function checkDbus(facts: RuleFacts): RuleProblem[] {
  const problems: RuleProblem[] = [...noWords(facts, 'dbus')];
  const has = (key: string, peer = false) => facts.conditions.some((c) => c.key === key && c.peer === peer);
  const message = has('path') || has('interface') || has('member') || hasPeer(facts);
  const service = has('name');
  const access = new Set(facts.access.map((a) => (a === 'r' || a === 'read' ? 'receive' : a === 'w' || a === 'write' ? 'send' : a === 'rw' ? 'sendreceive' : a)));
  const sends = access.has('send') || access.has('receive') || access.has('sendreceive');
  if (access.has('bind') && message) problems.push({ code: 'check/dbus-bind-with-message', message: "'bind' applies to service names (name=) and cannot be combined with path=, interface=, member= or peer=" });
  if (sends && service) problems.push({ code: 'check/dbus-send-with-name', message: "'send'/'receive' apply to messages and cannot be combined with name= (which is for bind)" });
  if (message && service) problems.push({ code: 'check/dbus-mixed-conditions', message: 'name= (bind rules) cannot be combined with path=, interface=, member= or peer=' });
  if (access.has('eavesdrop') && (message || service)) problems.push({ code: 'check/dbus-eavesdrop-conditions', message: "'eavesdrop' takes only bus=" });
  for (const c of facts.conditions) {
    if (c.operator === 'in' || c.values.length > 1) problems.push({ code: 'check/condition-takes-one-value', message: `dbus '${c.key}=' takes one value` });
  }
  return problems;
}

function checkSignal(facts: RuleFacts): RuleProblem[] {
  const problems: RuleProblem[] = [...noWords(facts, 'signal')];
  for (const c of facts.conditions) {
    if (c.key === 'set') {
      if (c.operator === 'in') problems.push({ code: 'check/condition-takes-one-value', message: "signal 'set' is written set=(…), not 'set in'" });
      for (const name of c.values) if (!validSignal(name)) problems.push(unknown('signal', name, SIGNALS, 'check/unknown-signal'));
    }
  }
  return problems;
}

export function validSignal(name: string): boolean {
  if (SIGNALS.includes(name)) return true;
  const rt = /^rtmin\+(\d+)$/.exec(name);
  return rt !== null && Number(rt[1]) <= 32;
}

const MOUNT_CONFLICTS: readonly (readonly [string, string])[] = [
  ['ro', 'rw'], ['suid', 'nosuid'], ['dev', 'nodev'], ['exec', 'noexec'], ['sync', 'async'], ['mand', 'nomand'],
  ['atime', 'noatime'], ['diratime', 'nodiratime'], ['acl', 'noacl'], ['relatime', 'norelatime'], ['iversion', 'noiversion'],
  ['strictatime', 'nostrictatime'], ['lazytime', 'nolazytime'], ['user', 'nouser'], ['symfollow', 'nosymfollow'],
  ['verbose', 'silent'],
];
const MOUNT_SYNONYMS: Readonly<Record<string, string>> = { r: 'ro', 'read-only': 'ro', w: 'rw', 'read-write': 'rw', B: 'bind', R: 'rbind', M: 'move', loud: 'verbose' };
/** Propagation changes act on a mount point only; a source is an error. */
const PROPAGATION = ['unbindable', 'runbindable', 'private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared'];

function checkMount(facts: RuleFacts): RuleProblem[] {
  const problems: RuleProblem[] = [];
  for (const c of facts.conditions) {
    if (c.key !== 'options') continue;
    const options = c.values.map((v) => MOUNT_SYNONYMS[v] ?? v.replace(/^make-/, ''));
    for (const value of c.values) {
      if (!MOUNT_OPTIONS.includes(value)) problems.push(unknown('mount option', value, MOUNT_OPTIONS, 'check/unknown-mount-option'));
    }
    if (c.operator === '=') {
      for (const [a, b] of MOUNT_CONFLICTS) {
        if (options.includes(a) && options.includes(b)) problems.push({ code: 'check/conflicting-mount-options', message: `mount options '${a}' and '${b}' contradict each other in options=(…); use 'options in (…)' to allow either` });
      }
    }
    if (facts.class === 'mount' && facts.words.length > 0 && facts.target !== undefined) {
      const bad = options.filter((o) => PROPAGATION.includes(o) || o === 'remount');
      if (bad.length) problems.push({ code: 'check/mount-option-without-source', message: `mount option '${bad[0]}' changes an existing mount point and cannot have a source ('${facts.words[0]}')`, hint: `write 'mount options=(${bad[0]}) -> MOUNTPOINT,'` });
    }
  }
  return problems;
}

function checkMqueue(facts: RuleFacts): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const types = conditionValues(facts, 'type', false);
  for (const type of types) if (type !== 'posix' && type !== 'sysv') problems.push({ code: 'check/bad-mqueue-type', message: `mqueue type must be 'posix' or 'sysv', not '${type}'` });
  if (facts.words.length > 1) problems.push({ code: 'check/unexpected-word', message: `mqueue rules take one queue name, got '${facts.words.join(' ')}'` });
  const name = facts.words[0];
  if (name !== undefined) {
    const posix = name.startsWith('/') || name.startsWith('@{');
    const sysv = /^\d+$/.test(name);
    if (!posix && !sysv) problems.push({ code: 'check/bad-mqueue-name', message: `'${name}' is not a queue name: POSIX names start with '/', SysV keys are positive integers` });
    else if (types.includes('sysv') && !sysv) problems.push({ code: 'check/bad-mqueue-name', message: `'${name}' is not a SysV queue key (a positive integer)` });
    else if (types.includes('posix') && !posix) problems.push({ code: 'check/bad-mqueue-name', message: `'${name}' is not a POSIX queue name (starts with '/')` });
  }
  return problems;
}

/** `flags=(…)`: known names, one profile mode, no contradicting pairs, valid values. */
export function checkFlags(flags: readonly string[], isHat: boolean, expand: (text: string) => string = (t) => t): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const modes: string[] = [];
  const names: string[] = [];
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const name = eq >= 0 ? flag.slice(0, eq) : flag;
    const value = eq >= 0 ? flag.slice(eq + 1) : undefined;
    names.push(name);
    if (name === 'kill.signal' || name === 'error' || name === 'attach_disconnected.path' || name === 'attach_disconnected.ipc') {
      if (value === undefined && name !== 'attach_disconnected.ipc') { problems.push({ code: 'check/flag-needs-value', message: `flag '${name}' needs a value: ${name}=…` }); continue; }
      if (name === 'kill.signal' && !(value !== undefined && validSignal(value.toLowerCase()) && value !== 'exists')) problems.push({ code: 'check/bad-flag-value', word: flag, message: `'${value}' is not a signal name for kill.signal=` });
      if (name === 'error' && !(value !== undefined && ERRNO_NAMES.includes(value.toUpperCase()) || value === 'ENOANO')) problems.push({ code: 'check/bad-flag-value', word: flag, message: `'${value}' is not an errno name for error= (e.g. EPERM, EACCES, ENOENT)` });
      if (name.startsWith('attach_disconnected.') && value !== undefined && !expand(value).startsWith('/')) problems.push({ code: 'check/bad-flag-value', word: flag, message: `${name}= needs an absolute path starting with '/', not '${value}'` });
      continue;
    }
    if (value !== undefined) { problems.push({ code: 'check/unknown-flag', word: flag, message: `flag '${name}' does not take a value` }); continue; }
    if (name === 'debug') continue;
    if (!PROFILE_FLAGS.includes(name)) { problems.push(unknown('profile flag', name, PROFILE_FLAGS, 'check/unknown-flag')); continue; }
    if (PROFILE_MODE_FLAGS.includes(name)) modes.push(name);
  }
  if (new Set(modes).size > 1) problems.push({ code: 'check/conflicting-profile-modes', message: `a profile has one mode, but flags give ${[...new Set(modes)].join(' and ')}` });
  for (const [a, b] of CONFLICTING_FLAGS) {
    if (names.includes(a) && names.includes(b)) problems.push({ code: 'check/conflicting-flags', message: `flags '${a}' and '${b}' contradict each other` });
  }
  const ipc = flags.filter((f) => f.startsWith('attach_disconnected.ipc'));
  if (ipc.length && names.includes('no_attach_disconnected')) problems.push({ code: 'check/conflicting-flags', message: "flags 'attach_disconnected.ipc' and 'no_attach_disconnected' contradict each other" });
  if (new Set(ipc).size > 1) problems.push({ code: 'check/conflicting-flags', message: `attach_disconnected.ipc is given different values (${ipc.join(', ')})` });
  const paths = flags.filter((f) => f.startsWith('attach_disconnected.path'));
  if (new Set(paths).size > 1) problems.push({ code: 'check/conflicting-flags', message: `attach_disconnected.path is given different values (${paths.join(', ')})` });
  void isHat;
  return problems;
}

/** `set rlimit NAME <= VALUE`: known resource and a value in its unit. */
export function checkRlimit(name: string, value: string): RuleProblem[] {
  const kind = RLIMITS[name];
  if (!kind) return [unknown('rlimit', name, Object.keys(RLIMITS), 'check/unknown-rlimit')];
  if (value === 'infinity') return [];
  const bad = (why: string): RuleProblem[] => [{ code: 'check/bad-rlimit-value', message: `'${value}' is not a valid value for rlimit ${name}: ${why}` }];
  switch (kind) {
    case 'nice': {
      if (!/^[+-]?\d+$/.test(value)) return bad('nice takes an integer from -20 to 19');
      const n = Number(value);
      return n >= -20 && n <= 19 ? [] : bad('nice takes an integer from -20 to 19');
    }
    case 'count':
      return /^\d+$/.test(value) ? [] : bad('it takes a plain number');
    case 'size': {
      const match = /^(\d+)([A-Za-z]*)$/.exec(value);
      if (!match || SIZE_UNITS[match[2]!.toLowerCase()] === undefined) return bad('sizes take an optional K, M or G (KB, MB, GB) unit');
      return [];
    }
    case 'time': {
      const match = /^(\d+)\s*([A-Za-z]*)$/.exec(value);
      if (!match) return bad('it takes a number with an optional time unit (us, ms, s, min, h, d, week)');
      const unit = match[2]!.toLowerCase();
      if (unit === 'm') return bad("'m' is ambiguous: write 'ms' or 'min'");
      if (unit && TIME_UNITS[unit] === undefined) return bad('unknown time unit');
      if (name === 'cpu' && unit && TIME_UNITS[unit]! < 1e6) return bad('cpu limits are whole seconds or larger');
      return [];
    }
  }
}
