// Fair sharing of connections. A client is counted by its address: an IPv4 address, or an IPv6 /64
// (what one customer, or one host with privacy addresses, usually gets), so one host cannot hold a
// pool's or the front's capacity alone. When the capacity is reached, an idle connection (no request in
// progress) is closed to make room, the one idle the longest first, before anything is refused.
// Pure apart from reading a raw handle's peer address.

/** The key a per-client limit counts by. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) counts as the IPv4 address. */
export function clientKey(address: string | undefined): string {
  if (!address) return '?';
  const zone = address.indexOf('%');
  const bare = (zone < 0 ? address : address.slice(0, zone)).toLowerCase();
  if (!bare.includes(':')) return bare;
  const groups = expandIPv6(bare);
  if (!groups) return bare;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (with `::` and a trailing dotted IPv4 part); undefined if malformed. */
export function expandIPv6(address: string): number[] | undefined {
  let text = address;
  const tail: number[] = [];
  const dotted = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (dotted) {
    const bytes = dotted.slice(1, 5).map(Number);
    if (bytes.some((b) => b > 255)) return undefined;
    tail.push((bytes[0]! << 8) | bytes[1]!, (bytes[2]! << 8) | bytes[3]!);
    const prefix = text.slice(0, dotted.index);
    if (prefix.endsWith('::')) text = prefix;
    else if (prefix.endsWith(':')) text = prefix.slice(0, -1);
    else return undefined;
  }
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const group of part.split(':')) {
      if (!/^[0-9a-f]{1,4}$/.test(group)) return undefined;
      out.push(parseInt(group, 16));
    }
    return out;
  };
  const want = 8 - tail.length;
  const gap = text.indexOf('::');
  let groups: number[] | undefined;
  if (gap < 0) {
    groups = parse(text);
    if (!groups || groups.length !== want) return undefined;
  } else {
    if (text.indexOf('::', gap + 1) >= 0) return undefined;
    const head = parse(text.slice(0, gap));
    const rest = parse(text.slice(gap + 2));
    if (!head || !rest || head.length + rest.length >= want) return undefined;
    groups = [...head, ...new Array<number>(want - head.length - rest.length).fill(0), ...rest];
  }
  return [...groups, ...tail];
}

/** The peer address of a raw TCP handle received over IPC (as the kernel reports it, not as anyone claims). */
export function handlePeerAddress(handle: unknown): string | undefined {
  const getpeername = (handle as { getpeername?: (out: { address?: string }) => number } | null)?.getpeername;
  if (typeof getpeername !== 'function') return undefined;
  const out: { address?: string } = {};
  try {
    return getpeername.call(handle, out) === 0 ? out.address : undefined;
  } catch {
    return undefined;
  }
}

export interface ConnectionLimits {
  /** Connections held at once (Infinity: no bound). */
  readonly max: number;
  /** Connections one client key holds at once (Infinity: no bound). */
  readonly perClient: number;
}

export type Admission<T> =
  | { readonly admitted: true; /** An idle connection that was dropped from the table to make room: close it. */ readonly shed?: T }
  | { readonly admitted: false; /** 'client': the address holds its share; 'full': no idle connection to shed. */ readonly reason: 'client' | 'full' };

interface Entry {
  readonly key: string;
  /** When it became idle (no request in progress); undefined while busy. */
  idleSince: number | undefined;
}

/**
 * The connections one process holds, by client key, with their idle state. `admit` applies the
 * per-client bound first (a client over its share is refused even when there is room), then the total
 * bound, making room by shedding the connection idle the longest.
 */
export class ConnectionTable<T> {
  private readonly entries = new Map<T, Entry>();
  private readonly perClient = new Map<string, number>();

  constructor(private limits: ConnectionLimits) {}

  get size(): number { return this.entries.size; }

  setLimits(limits: ConnectionLimits): void { this.limits = limits; }

  count(key: string): number { return this.perClient.get(key) ?? 0; }

  has(item: T): boolean { return this.entries.has(item); }

  /** Take a new connection (busy until marked idle), or say why not. */
  admit(item: T, key: string): Admission<T> {
    if (this.entries.has(item)) return { admitted: true };
    if (this.count(key) >= this.limits.perClient) return { admitted: false, reason: 'client' };
    let shed: T | undefined;
    if (this.entries.size >= this.limits.max) {
      shed = this.oldestIdle();
      if (shed === undefined) return { admitted: false, reason: 'full' };
      this.remove(shed);
    }
    this.entries.set(item, { key, idleSince: undefined });
    this.perClient.set(key, this.count(key) + 1);
    return shed === undefined ? { admitted: true } : { admitted: true, shed };
  }

  idle(item: T, now: number): void {
    const entry = this.entries.get(item);
    if (entry && entry.idleSince === undefined) entry.idleSince = now;
  }

  busy(item: T): void {
    const entry = this.entries.get(item);
    if (entry) entry.idleSince = undefined;
  }

  remove(item: T): void {
    const entry = this.entries.get(item);
    if (!entry) return;
    this.entries.delete(item);
    const left = this.count(entry.key) - 1;
    if (left > 0) this.perClient.set(entry.key, left);
    else this.perClient.delete(entry.key);
  }

  /** The connection idle the longest (ties: the one admitted first); undefined when none is idle. */
  oldestIdle(): T | undefined {
    let best: T | undefined;
    let bestSince = Infinity;
    for (const [item, entry] of this.entries) {
      if (entry.idleSince !== undefined && entry.idleSince < bestSince) { best = item; bestSince = entry.idleSince; }
    }
    return best;
  }
}

/**
 * A pool's side of fair sharing (lives in the supervisor): every connection entering the pool gets an
 * id and is counted against its client address (the kernel's peer address of the handle), until the
 * worker holding it reports it released or handed back (a worker can only release ids it was given),
 * or the worker dies. When connections wait and every worker is full, `shedTargets` says which workers
 * to ask to close their longest-idle connection: one request per waiting connection, round robin.
 */
export class PoolConnections<W> {
  private readonly table: ConnectionTable<number>;
  private readonly holders = new Map<number, W | undefined>();
  /** Each connection's client key, for choosing whom a full queue makes room at the expense of. */
  private readonly clientOf = new Map<number, string>();
  private nextId = 1;
  private shedsInFlight = 0;
  private cursor = 0;

  constructor(perClient: number) {
    this.table = new ConnectionTable({ max: Infinity, perClient });
  }

  get size(): number { return this.table.size; }

  /** A connection entering the pool: its id, or why it is refused (the client holds its share). */
  admit(handle: unknown): { readonly id: number } | { readonly refused: string } {
    const key = clientKey(handlePeerAddress(handle));
    const id = this.nextId++;
    if (!this.table.admit(id, key).admitted) return { refused: `client ${key} holds ${this.table.count(key)} connections (pool.maxConnectionsPerClient)` };
    this.holders.set(id, undefined);
    this.clientOf.set(id, key);
    return { id };
  }

  /** The connection went to `worker`. */
  placed(id: number, worker: W): void {
    if (this.holders.has(id)) this.holders.set(id, worker);
  }

  /** `worker` says it no longer holds connection `id` (closed, or handed back). */
  released(worker: W, id: number | undefined): void {
    if (this.shedsInFlight > 0) this.shedsInFlight--;
    if (id === undefined || this.holders.get(id) !== worker) return;
    this.drop(id);
  }

  /** The connection left without reaching a worker (refused, queue timeout, drain), or its give failed. */
  drop(id: number): void {
    this.holders.delete(id);
    this.clientOf.delete(id);
    this.table.remove(id);
  }

  /**
   * The queue is full and connection `newcomer` arrives: the queued connection (the latest of its
   * client) to refuse in its place, when some client holds more connections in this pool than the
   * newcomer's client does; undefined when the newcomer's client is among the heaviest (it is refused).
   * So one client's connections cannot keep a pool's queue full against everyone else.
   */
  displacedBy(newcomer: number, queued: readonly number[]): number | undefined {
    const held = (id: number): number => this.table.count(this.clientOf.get(id) ?? '');
    let victim: number | undefined;
    for (const id of queued) if (victim === undefined || held(id) >= held(victim)) victim = id;
    return victim !== undefined && held(victim) > held(newcomer) ? victim : undefined;
  }

  /** A worker exited: whatever it held is gone. */
  workerGone(worker: W): void {
    for (const [id, holder] of this.holders) if (holder === worker) this.drop(id);
  }

  /** Workers to ask for one idle connection each, so that `waiting` connections find room. */
  shedTargets(waiting: number, full: readonly W[]): W[] {
    const targets: W[] = [];
    if (full.length === 0) return targets;
    for (let wanted = waiting - this.shedsInFlight; wanted > 0; wanted--) {
      targets.push(full[this.cursor++ % full.length]!);
      this.shedsInFlight++;
    }
    return targets;
  }

  /** Forget unanswered shed requests (a worker with nothing idle never answers): ask again later. */
  resetSheds(): void { this.shedsInFlight = 0; }
}
