// The sockets a hat lets a worker create, as AppArmor decides socket creation: `network [DOMAIN]
// [TYPE|PROTOCOL]` rules, `unix` rules (AF_UNIX) and `all,`, minus their `deny` forms. Under Landlock the
// launcher enforces the result with a seccomp filter on socket()/socketpair() (-Y, -F), EACCES otherwise.
//
// Narrowed, never widened (what a filter that sees only family, type and protocol cannot keep):
// - a rule with an access list that lacks `create` grants no creation (AppArmor: the same);
// - an allow rule with conditions (ip=, port=, peer=, addr=, label=...) grants nothing: creation cannot
//   be limited to an address, so the rule is dropped rather than widened to every address;
// - a `deny` of one protocol inside a grant of every protocol denies the whole family/type;
// - a deny rule with conditions cannot be kept (it concerns bind/connect/send, after creation): reported.
import type { HatOtherRule } from './hat-rules.js';

/** One allowed triple; undefined fields match any value. */
export interface SocketGrant {
  readonly family?: number;
  readonly type?: number;
  readonly protocol?: number;
  /** Only from socketpair(): a connected pair reaches no other process. */
  readonly pairOnly?: boolean;
}

export interface SocketPolicy {
  /** True: every socket may be created (no filter needed). */
  readonly all: boolean;
  readonly grants: readonly SocketGrant[];
  /** One line per rule that could not be kept exactly, with where it came from. */
  readonly narrowed: readonly string[];
  readonly widened: readonly string[];
}

/** socketpair(AF_UNIX, any type): allowed for every worker under Landlock (see landlock-translate). */
export const UNIX_SOCKETPAIR: SocketGrant = { family: 1, pairOnly: true };

/** Linux address family numbers by AppArmor domain name. */
export const ADDRESS_FAMILIES: Readonly<Record<string, number>> = {
  unix: 1, inet: 2, ax25: 3, ipx: 4, appletalk: 5, netrom: 6, bridge: 7, atmpvc: 8, x25: 9, inet6: 10, rose: 11,
  netbeui: 13, security: 14, key: 15, netlink: 16, packet: 17, ash: 18, econet: 19, atmsvc: 20, rds: 21, sna: 22,
  irda: 23, pppox: 24, wanpipe: 25, llc: 26, ib: 27, mpls: 28, can: 29, tipc: 30, bluetooth: 31, iucv: 32, rxrpc: 33,
  isdn: 34, phonet: 35, ieee802154: 36, caif: 37, alg: 38, nfc: 39, vsock: 40, kcm: 41, qipcrtr: 42, smc: 43, xdp: 44,
  mctp: 45,
};
const FAMILY_LIMIT = 46;
export const SOCKET_TYPES: Readonly<Record<string, number>> = { stream: 1, dgram: 2, raw: 3, rdm: 4, seqpacket: 5, dccp: 6, packet: 10 };
/** tcp/udp/icmp: a type and its protocol numbers (0 = the family's default) in inet and inet6. */
const PROTOCOLS: Readonly<Record<string, { type: number; inet: readonly number[]; inet6: readonly number[] }>> = {
  tcp: { type: 1, inet: [0, 6], inet6: [0, 6] },
  udp: { type: 2, inet: [0, 17], inet6: [0, 17] },
  icmp: { type: 3, inet: [1], inet6: [58] },
};
const TYPE_NUMBERS = Object.values(SOCKET_TYPES);

/** One cell of the family × type grid: every protocol, these protocols, or none. */
type Cell = 'all' | Set<number>;

function where(rule: HatOtherRule): string {
  return `${rule.source.file}:${rule.source.line}`;
}

/** The cells a rule names, each with the protocols it names (undefined = every protocol); undefined: cannot tell. */
function cellsOf(rule: HatOtherRule): { family: number; type: number; protocols?: readonly number[] }[] | undefined {
  const words = rule.words.filter((w) => !(rule.access ?? []).includes(w));
  let families: number[] = [...Array(FAMILY_LIMIT).keys()].slice(1);
  let types = TYPE_NUMBERS;
  let protocol: string | undefined;
  if (rule.kind === 'unix') {
    families = [ADDRESS_FAMILIES.unix!];
    const typeCondition = rule.conditions?.type;
    if (typeCondition) types = typeCondition.map((t) => SOCKET_TYPES[t]).filter((t): t is number => t !== undefined);
  }
  for (const word of words) {
    if (ADDRESS_FAMILIES[word] !== undefined) families = [ADDRESS_FAMILIES[word]!];
    else if (SOCKET_TYPES[word] !== undefined) types = [SOCKET_TYPES[word]!];
    else if (PROTOCOLS[word]) protocol = word;
    else return undefined;
  }
  const cells: { family: number; type: number; protocols?: readonly number[] }[] = [];
  for (const family of families) {
    if (protocol) {
      const known = PROTOCOLS[protocol]!;
      const numbers = family === ADDRESS_FAMILIES.inet ? known.inet : family === ADDRESS_FAMILIES.inet6 ? known.inet6 : undefined;
      if (numbers && types.includes(known.type)) cells.push({ family, type: known.type, protocols: numbers });
      continue;
    }
    for (const type of types) cells.push({ family, type });
  }
  return cells;
}

/** Does the rule concern creating a socket (AppArmor's `create` access)? */
function governsCreate(rule: HatOtherRule): boolean {
  const access = rule.access ?? [];
  if (access.length) return access.includes('create');
  // Without an access list a unix rule with peer= implies only the peer permissions.
  return !(rule.kind === 'unix' && Object.keys(rule.conditions ?? {}).some((key) => key === 'peer' || key.startsWith('peer.')));
}

const CREATION_CONDITIONS = new Set(['type', 'protocol']);

/** What the hat's rules (plus the runtime's own needs) let a worker create. */
export function grantedSockets(rules: readonly HatOtherRule[], runtime: readonly SocketGrant[] = []): SocketPolicy {
  const grid = new Map<number, Cell>(); // key family * 16 + type
  const narrowed: string[] = [];
  const widened: string[] = [];
  const key = (family: number, type: number) => family * 16 + type;
  let everything = false;
  const relevant = rules.filter((r) => r.kind === 'network' || r.kind === 'unix' || (r.kind === 'file-all' && !r.deny));
  for (const rule of relevant.filter((r) => !r.deny)) {
    if (rule.kind === 'file-all' || (rule.kind === 'network' && rule.words.length === 0 && !rule.conditions)) everything = true;
    if (rule.kind === 'file-all' || !governsCreate(rule)) continue;
    const conditions = Object.keys(rule.conditions ?? {}).filter((k) => !(rule.kind === 'unix' && CREATION_CONDITIONS.has(k)));
    if (conditions.length) {
      narrowed.push(`${rule.text} ${rule.words.join(' ')} (${conditions.join(', ')}=...) at ${where(rule)}: creation cannot be limited by ${conditions.join(', ')}; the rule grants no socket`);
      continue;
    }
    const cells = cellsOf(rule);
    if (!cells) { narrowed.push(`${rule.text} ${rule.words.join(' ')} at ${where(rule)}: not understood; grants no socket`); continue; }
    for (const cell of cells) {
      const current = grid.get(key(cell.family, cell.type));
      if (current === 'all' || !cell.protocols) grid.set(key(cell.family, cell.type), 'all');
      else grid.set(key(cell.family, cell.type), new Set([...(current ?? []), ...cell.protocols]));
    }
  }
  if (everything) for (let family = 1; family < FAMILY_LIMIT; family++) for (const type of TYPE_NUMBERS) grid.set(key(family, type), 'all');
  let denials = false;
  for (const rule of relevant.filter((r) => r.deny)) {
    if (!governsCreate(rule)) continue;
    if (rule.conditions && Object.keys(rule.conditions).some((k) => !(rule.kind === 'unix' && CREATION_CONDITIONS.has(k)))) {
      widened.push(`deny ${rule.text} ${rule.words.join(' ')} at ${where(rule)}: its conditions concern bind/connect/send, which the socket filter cannot see; not kept`);
      continue;
    }
    const cells = cellsOf(rule);
    if (!cells) continue;
    denials = true;
    for (const cell of cells) {
      const current = grid.get(key(cell.family, cell.type));
      if (!current) continue;
      if (!cell.protocols) grid.delete(key(cell.family, cell.type));
      else if (current === 'all') {
        grid.delete(key(cell.family, cell.type));
        narrowed.push(`deny ${rule.text} ${rule.words.join(' ')} at ${where(rule)}: one protocol cannot be carved out of a whole type; the type is denied`);
      } else {
        for (const p of cell.protocols) current.delete(p);
        if (current.size === 0) grid.delete(key(cell.family, cell.type));
      }
    }
  }
  const grants: SocketGrant[] = [...runtime];
  const families = new Map<number, number[]>();
  for (const [k, cell] of grid) {
    const family = Math.floor(k / 16);
    const type = k % 16;
    if (cell === 'all') families.set(family, [...(families.get(family) ?? []), type]);
    else for (const protocol of cell) grants.push({ family, type, protocol });
  }
  const complete = families.size === FAMILY_LIMIT - 1 && [...families.values()].every((types) => types.length === TYPE_NUMBERS.length);
  if (everything && !denials && complete) return { all: true, grants: [], narrowed, widened };
  for (const [family, types] of [...families].sort(([a], [b]) => a - b)) {
    if (types.length === TYPE_NUMBERS.length) grants.push({ family });
    else for (const type of types.sort((a, b) => a - b)) grants.push({ family, type });
  }
  return { all: false, grants: dedupe(grants), narrowed, widened };
}

function dedupe(grants: readonly SocketGrant[]): SocketGrant[] {
  const seen = new Set<string>();
  return grants.filter((g) => { const k = socketGrantText(g); if (seen.has(k)) return false; seen.add(k); return true; });
}

/** The launcher's -F argument: FAMILY:TYPE:PROTOCOL with * for any. */
export function socketGrantText(grant: SocketGrant): string {
  const field = (value: number | undefined) => (value === undefined ? '*' : String(value));
  return `${field(grant.family)}:${field(grant.type)}:${field(grant.protocol)}${grant.pairOnly ? ':pair' : ''}`;
}

/** Runtime needs by name: `unix stream`, `inet stream` ... */
export function socketNeed(family: keyof typeof ADDRESS_FAMILIES, type?: keyof typeof SOCKET_TYPES): SocketGrant {
  return { family: ADDRESS_FAMILIES[family]!, ...(type ? { type: SOCKET_TYPES[type]! } : {}) };
}

/** For people: `inet stream`, `unix (socketpair)`, `inet6 stream tcp`, `any`. */
export function socketGrantName(grant: SocketGrant): string {
  const family = grant.family === undefined ? 'any family' : Object.keys(ADDRESS_FAMILIES).find((name) => ADDRESS_FAMILIES[name] === grant.family) ?? `family ${grant.family}`;
  const type = grant.type === undefined ? '' : ` ${Object.keys(SOCKET_TYPES).find((name) => SOCKET_TYPES[name] === grant.type) ?? `type ${grant.type}`}`;
  const protocol = grant.protocol === undefined ? '' : ` protocol ${grant.protocol}`;
  return `${family}${type}${protocol}${grant.pairOnly ? ' (socketpair only)' : ''}`;
}
