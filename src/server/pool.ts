// One pool of worker processes for one hat (label). Lives in the supervisor: it starts workers through
// the confinement backend, hands them connections (least connections first), queues connections when
// every worker is full (bounded; beyond it the front answers 503), replaces workers that retire or
// crash, with a growing delay after repeated failures so a worker that cannot start never spins.
import type { ChildProcess } from 'node:child_process';
import type { PoolSettings } from './config.js';
import { closeHandle, discardHandle } from './handles.js';
import { LogLineGate } from './peer-log.js';
import { checkFromWorker, sendHandle, sendMessage, type FromWorker, type ToWorker, type WorkerStats } from './protocol.js';
import { HISTOGRAM_BUCKETS, mergeInto, newHistogram, quantileMs } from './stats.js';
import { PoolConnections } from './client-limits.js';

export type WorkerState = 'starting' | 'ready' | 'draining' | 'dead';

export interface PoolWorker {
  readonly id: number;
  readonly child: ChildProcess;
  state: WorkerState;
  connections: number;
  stats: WorkerStats;
  readonly startedAt: number;
  readyAt?: number;
  /** The backend confirmed this process is confined as prepared (undefined: not checked yet). */
  verified?: boolean;
  /** The worker said 'ready' before its confinement was confirmed: it becomes ready once it is. */
  readyPending?: boolean;
  retireReason?: string;
  /** When it began draining: one that outlives its requests' timeout by far is killed. */
  drainingSince?: number;
  exitCode?: number | null;
  exitSignal?: NodeJS.Signals | null;
  /** It sent an invalid message: killed, and nothing more it sends is read. */
  condemned?: boolean;
  /** Its access-log lines: its own label only, at a bounded rate. */
  readonly log: LogLineGate;
}

export interface PoolDependencies {
  /** Start one worker (already confined) with an IPC channel; the pool sends it `init`. */
  spawnWorker(pool: Pool, id: number): ChildProcess;
  initMessage(pool: Pool, worker: PoolWorker): ToWorker;
  /**
   * Check that a started worker really runs confined as prepared (backend.verify). A worker that fails
   * is killed and never gets a connection. Absent: every worker counts as verified.
   */
  verifyWorker?(pool: Pool, pid: number): Promise<{ readonly ok: boolean; readonly detail: string }>;
  /** A worker gave a connection back (another hat, or draining): route it again. */
  onHandBack(handle: unknown, bytes: string): void;
  /**
   * Is what a worker sent beside `handback` a client connection of ours (not a socket it opened or a
   * listener)? Absent: any handle is taken.
   */
  acceptsConnection?(handle: unknown): boolean;
  /** The pool cannot take a connection: the front answers 503 (429: the client address holds its share). */
  onReject(handle: unknown, pool: Pool, status: 503 | 429): void;
  onLog(lines: readonly string[]): void;
  onEvent(text: string): void;
  /** strict mode: the pool's worker sockets changed. */
  onWorkersChanged?(pool: Pool): void;
}

interface Queued {
  readonly handle: unknown;
  readonly bytes: string;
  readonly deadline: number;
  readonly id: number;
}

const EMPTY_STATS: WorkerStats = { requests: 0, errors: 0, inFlight: 0, connections: 0, histogram: [] };
const MAX_BACKOFF_MS = 10_000;
const HEALTHY_AFTER_MS = 5_000;
/** A worker that misses stats for this long while serving is stuck (a synchronous loop): killed. */
const STUCK_GRACE_MS = 2_000;
/** Start another worker (up to max) when the least busy one holds this many connections. */
const SPREAD_AT = 4;
const SPREAD_WAIT_MS = 500;
/** How long a connection may wait in the queue for a worker before the front answers 503. */
const QUEUE_WAIT_MS = 10_000;
/** Upper bound on worker starts per pool and second, whatever the reason. */
const SPAWNS_PER_SECOND = 10;

let nextWorkerId = 1;

export class Pool {
  readonly workers: PoolWorker[] = [];
  private readonly queue: Queued[] = [];
  private readonly retired = { requests: 0, errors: 0, histogram: newHistogram() };
  private failures = 0;
  /** When the workers of the last second were started (see SPAWNS_PER_SECOND). */
  private readonly recentSpawns: number[] = [];
  private spawnTimer: NodeJS.Timeout | undefined;
  private readonly sweepTimer: NodeJS.Timeout;
  private stopping = false;
  private readonly lastStatsAt = new Map<PoolWorker, number>();
  /** Called on each worker's next stats message (refreshStats). */
  private readonly statsWaiters = new Map<PoolWorker, (() => void)[]>();
  /** fair sharing: connections per client address, and which full worker to ask to shed an idle one. */
  private readonly clients: PoolConnections<PoolWorker>;
  rejected = 0;
  crashes = 0;
  /** Workers killed because the backend could not confirm their confinement. */
  verifyFailures = 0;
  private lastVerifyFailure: string | undefined;
  /** Messages from workers that failed validation; each one got its sender killed and replaced. */
  invalidMessages = 0;
  private lastInvalidMessage: string | undefined;
  /** Access-log lines of workers that are gone, dropped for their rate. */
  private retiredLogDropped = 0;

  constructor(
    readonly label: string,
    readonly hat: string | null,
    readonly settings: PoolSettings,
    readonly summary: Readonly<Record<string, unknown>>,
    readonly generation: number,
    private readonly deps: PoolDependencies,
  ) {
    this.clients = new PoolConnections(settings.maxConnectionsPerClient);
    this.sweepTimer = setInterval(() => this.sweep(), 250);
    this.sweepTimer.unref();
  }

  /** Draining or stopped: takes no more connections. */
  get closed(): boolean {
    return this.stopping;
  }

  get live(): PoolWorker[] {
    return this.workers.filter((w) => w.state === 'starting' || w.state === 'ready');
  }

  /** Start the minimum number of workers; resolves when they are ready (or failed). */
  async start(timeoutMs = 10_000): Promise<void> {
    this.ensureMin();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.workers.some((w) => w.state === 'starting')) await new Promise((r) => setTimeout(r, 20));
  }

  dispatch(handle: unknown, bytes: string, admitted?: number): void {
    if (this.stopping) { this.reject(handle, 'pool draining', admitted); return; }
    let id = admitted;
    if (id === undefined) {
      const admission = this.clients.admit(handle);
      if ('refused' in admission) { this.reject(handle, admission.refused, undefined, 429); return; }
      id = admission.id;
    }
    const worker = this.pick();
    if (worker) {
      this.give(worker, handle, bytes, id);
      return;
    }
    if (this.queue.length >= this.settings.queue) {
      const displaced = this.clients.displacedBy(id, this.queue.map((queued) => queued.id));
      if (displaced === undefined) { this.reject(handle, `queue full: ${this.queue.length} waiting`, id); return; }
      // fair sharing: the client holding the most connections here gives up its latest queued one
      const [evicted] = this.queue.splice(this.queue.findIndex((queued) => queued.id === displaced), 1);
      this.reject(evicted!.handle, 'queue full: its client holds more connections than the newcomer\'s', evicted!.id, 429);
    }
    this.queue.push({ handle, bytes, deadline: Date.now() + QUEUE_WAIT_MS, id });
    this.grow();
    this.shedIdle();
  }

  /**
   * fair sharing: connections wait and the pool cannot grow, every worker is full. Ask full workers to
   * close their longest-idle keep-alive connection (one per waiting connection) before anyone gets 503.
   */
  private shedIdle(): void {
    if (this.queue.length === 0) return;
    const live = this.live;
    if (live.length < this.settings.max || live.some((w) => w.state === 'starting')) return;
    const full = live.filter((w) => w.connections >= this.settings.connectionsPerWorker);
    if (full.length < live.length) return;
    for (const worker of this.clients.shedTargets(this.queue.length, full)) sendMessage(worker.child as never, { type: 'shed' } satisfies ToWorker);
  }

  /**
   * The least busy ready worker with room. To spread load over processes (cores), once the least busy
   * one holds SPREAD_AT connections and the pool may grow, a new worker starts and connections wait
   * for it briefly instead of piling onto the first.
   */
  private pick(): PoolWorker | undefined {
    let best: PoolWorker | undefined;
    for (const worker of this.workers) {
      if (worker.state !== 'ready' || worker.connections >= this.settings.connectionsPerWorker) continue;
      if (!best || worker.connections < best.connections) best = worker;
    }
    if (best && best.connections >= SPREAD_AT && this.live.length < this.settings.max) {
      if (!this.workers.some((w) => w.state === 'starting')) this.grow();
      // Wait for the newcomer only briefly: a slow start must not hold connections back.
      if (this.workers.some((w) => w.state === 'starting' && Date.now() - w.startedAt < SPREAD_WAIT_MS)) return undefined;
    }
    return best;
  }

  private give(worker: PoolWorker, handle: unknown, bytes: string, id: number): void {
    worker.connections++;
    this.clients.placed(id, worker);
    sendHandle(worker.child as never, { type: 'connection', bytes, id } satisfies ToWorker, handle, () => {
      worker.connections--;
      this.dispatch(handle, bytes, id);
    });
  }

  private reject(handle: unknown, why: string, id?: number, status: 503 | 429 = 503): void {
    if (id !== undefined) this.clients.drop(id);
    this.rejected++;
    this.deps.onEvent(`${this.label}: connection refused (${why})`);
    this.deps.onReject(handle, this, status);
  }

  private pump(): void {
    while (this.queue.length) {
      const worker = this.pick();
      if (!worker) break;
      const next = this.queue.shift()!;
      this.give(worker, next.handle, next.bytes, next.id);
    }
    if (this.queue.length) this.grow();
  }

  /** More workers when connections wait, up to max. */
  private grow(): void {
    const live = this.live;
    const starting = live.filter((w) => w.state === 'starting').length;
    if (live.length < this.settings.max && starting === 0) this.scheduleSpawn();
  }

  private ensureMin(): void {
    if (this.stopping) return;
    if (this.live.length < Math.max(this.settings.min, this.queue.length ? 1 : 0)) this.scheduleSpawn();
  }

  private scheduleSpawn(): void {
    if (this.stopping || this.spawnTimer) return;
    const backoff = this.failures === 0 ? 0 : Math.min(MAX_BACKOFF_MS, 100 * 2 ** (this.failures - 1));
    // However workers leave (a retire message is the worker's word), a pool starts at most
    // SPAWNS_PER_SECOND a second: a site cannot make the supervisor spawn in a tight loop.
    const now = Date.now();
    while (this.recentSpawns.length && this.recentSpawns[0]! <= now - 1000) this.recentSpawns.shift();
    const rate = this.recentSpawns.length < SPAWNS_PER_SECOND ? 0 : this.recentSpawns[0]! + 1000 - now;
    const delay = Math.max(backoff, rate);
    if (delay === 0) {
      this.spawn();
      if (this.live.length < this.settings.min) this.scheduleSpawn();
      return;
    }
    if (backoff > 0) this.deps.onEvent(`${this.label}: restarting a worker in ${delay} ms (${this.failures} failure${this.failures === 1 ? '' : 's'} in a row)`);
    this.spawnTimer = setTimeout(() => {
      this.spawnTimer = undefined;
      if (this.stopping) return;
      this.spawn();
      if (this.live.length < this.settings.min) this.scheduleSpawn();
    }, delay);
  }

  private spawn(): void {
    this.recentSpawns.push(Date.now());
    const id = nextWorkerId++;
    let child: ChildProcess;
    try {
      child = this.deps.spawnWorker(this, id);
    } catch (error) {
      this.failures++;
      this.deps.onEvent(`${this.label}: cannot start a worker: ${(error as Error).message}`);
      this.scheduleSpawn();
      return;
    }
    const worker: PoolWorker = { id, child, state: 'starting', connections: 0, stats: EMPTY_STATS, startedAt: Date.now(), log: new LogLineGate(this.label) };
    this.workers.push(worker);
    child.on('message', (message: unknown, handle: unknown) => this.receive(worker, message, handle));
    child.on('error', (error) => this.deps.onEvent(`${this.label}: worker ${id}: ${error.message}`));
    child.on('exit', (code, signal) => this.onExit(worker, code, signal));
    sendMessage(child as never, this.deps.initMessage(this, worker));
    this.verify(worker);
  }

  /** Confirm the worker's confinement before it may serve; refuse (kill, count, back off) otherwise. */
  private verify(worker: PoolWorker): void {
    const check = this.deps.verifyWorker;
    const pid = worker.child.pid;
    if (!check) { worker.verified = true; return; }
    if (pid === undefined) return; // spawn failed: 'error' and 'exit' follow
    check(this, pid).then(
      (result) => result,
      (error: Error) => ({ ok: false, detail: `cannot verify process ${pid}: ${error.message}` }),
    ).then((result) => {
      if (worker.state === 'dead') return;
      if (result.ok) {
        worker.verified = true;
        if (worker.readyPending) this.markReady(worker);
        return;
      }
      worker.verified = false;
      this.verifyFailures++;
      this.failures++;
      this.lastVerifyFailure = result.detail;
      this.deps.onEvent(`REFUSED ${this.label}: worker ${worker.id} (pid ${pid}) is not confined as prepared: ${result.detail}; killing it`);
      if (worker.state === 'starting' || worker.state === 'ready') {
        worker.state = 'draining';
        worker.retireReason = 'confinement not verified';
      }
      worker.child.kill('SIGKILL');
    });
  }

  private markReady(worker: PoolWorker): void {
    worker.readyPending = false;
    if (worker.state === 'starting') worker.state = 'ready';
    worker.readyAt = Date.now();
    this.lastStatsAt.set(worker, Date.now());
    this.deps.onWorkersChanged?.(this);
    this.pump();
  }

  /**
   * A message from a worker. Workers run the sites' code, so any of them may be run by an attacker:
   * the message is validated before a field of it is read, and one that is invalid (wrong shape, a
   * handle where none belongs or one that is not a client connection of ours, a log line in another
   * label's name) gets its sender killed and replaced. Never throws.
   */
  private receive(worker: PoolWorker, raw: unknown, handle: unknown): void {
    const hasHandle = handle !== undefined && handle !== null;
    try {
      if (worker.condemned || worker.state === 'dead') { discardHandle(handle); return; }
      const checked = checkFromWorker(raw, hasHandle);
      if (!checked.ok) { discardHandle(handle); this.condemn(worker, checked.reason); return; }
      const message = checked.message;
      if (hasHandle && this.deps.acceptsConnection && !this.deps.acceptsConnection(handle)) {
        discardHandle(handle);
        this.condemn(worker, `${message.type}: the handle is not a client connection on a listening socket`);
        return;
      }
      if (message.type === 'log') {
        const admitted = worker.log.admit(message.lines);
        if ('forged' in admitted) { this.condemn(worker, `log: ${admitted.forged}`); return; }
        this.deps.onLog(admitted.lines);
        return;
      }
      this.onMessage(worker, message, handle);
    } catch (error) {
      if (hasHandle) discardHandle(handle);
      this.condemn(worker, `handling its message failed: ${(error as Error).message}`);
    }
  }

  /** Kill a worker that sent an invalid message; its exit counts as a failure for the restart delay. */
  private condemn(worker: PoolWorker, reason: string): void {
    if (worker.condemned) return;
    worker.condemned = true;
    this.invalidMessages++;
    this.lastInvalidMessage = reason;
    this.deps.onEvent(`REFUSED ${this.label}: worker ${worker.id} (pid ${worker.child.pid}) sent an invalid message (${reason}); killing it`);
    if (worker.state === 'starting' || worker.state === 'ready') {
      worker.state = 'draining';
      worker.retireReason = 'invalid message';
      this.deps.onWorkersChanged?.(this);
    }
    try { worker.child.kill('SIGKILL'); } catch { /* already gone */ }
    this.ensureMin();
  }

  private onMessage(worker: PoolWorker, message: FromWorker, handle: unknown): void {
    switch (message.type) {
      case 'ready':
        if (worker.verified === true) this.markReady(worker);
        else if (worker.verified === undefined) worker.readyPending = true;
        break;
      case 'released':
        worker.connections = Math.max(0, worker.connections - 1);
        this.clients.released(worker, message.id);
        this.pump();
        break;
      case 'handback':
        worker.connections = Math.max(0, worker.connections - 1);
        this.clients.released(worker, message.id);
        this.deps.onHandBack(handle, message.bytes);
        this.pump();
        break;
      case 'stats': {
        worker.stats = message;
        this.lastStatsAt.set(worker, Date.now());
        const waiters = this.statsWaiters.get(worker);
        this.statsWaiters.delete(worker);
        for (const waiter of waiters ?? []) waiter();
        break;
      }
      case 'log':
        break;
      case 'retire':
        if (worker.state === 'ready' || worker.state === 'starting') {
          worker.state = 'draining';
          worker.retireReason = message.reason;
          this.deps.onEvent(`${this.label}: worker ${worker.id} (pid ${worker.child.pid}) retires: ${message.reason}`);
          this.deps.onWorkersChanged?.(this);
          this.ensureMin();
          this.pump();
        }
        break;
    }
  }

  private onExit(worker: PoolWorker, code: number | null, signal: NodeJS.Signals | null): void {
    const wasReady = worker.readyAt !== undefined;
    const expected = (worker.state === 'draining' && !worker.condemned) || this.stopping;
    worker.state = 'dead';
    worker.exitCode = code;
    worker.exitSignal = signal;
    this.lastStatsAt.delete(worker);
    for (const waiter of this.statsWaiters.get(worker) ?? []) waiter();
    this.statsWaiters.delete(worker);
    this.clients.workerGone(worker);
    this.retiredLogDropped += worker.log.dropped;
    this.retired.requests += worker.stats.requests;
    this.retired.errors += worker.stats.errors;
    mergeInto(this.retired.histogram, worker.stats.histogram);
    this.workers.splice(this.workers.indexOf(worker), 1);
    if (!expected) {
      if (!worker.condemned) this.crashes++;
      const lived = Date.now() - (worker.readyAt ?? worker.startedAt);
      if (!wasReady || lived < HEALTHY_AFTER_MS) this.failures++;
      else this.failures = 0;
      // A worker killed for an invalid message counts like a crash for the restart delay, so a site whose
      // code forges messages right after each start cannot make the supervisor spawn in a tight loop.
      if (worker.condemned) this.deps.onEvent(`${this.label}: worker ${worker.id} (pid ${worker.child.pid}) killed for an invalid message`);
      else this.deps.onEvent(`${this.label}: worker ${worker.id} (pid ${worker.child.pid}) ${wasReady ? 'died' : 'failed to start'} (${signal ?? `exit ${code}`})`);
    } else if (wasReady) this.failures = 0;
    this.deps.onWorkersChanged?.(this);
    this.ensureMin();
    this.pump();
  }

  private sweep(): void {
    const now = Date.now();
    this.pump();
    while (this.queue.length && this.queue[0]!.deadline <= now) { const late = this.queue.shift()!; this.reject(late.handle, 'waited too long for a worker', late.id); }
    this.clients.resetSheds();
    this.shedIdle();
    // A worker whose event loop is stuck sends no stats: kill it (its connections are lost).
    for (const worker of this.workers) {
      if (worker.state === 'draining' && !this.stopping) {
        // A retired worker finishes its requests (each within requestTimeoutMs) and gives idle
        // connections back; one that stays on (a site's code that announced retirement and kept
        // running) would hold a process per retire message: killed.
        worker.drainingSince ??= now;
        if (now - worker.drainingSince > this.settings.requestTimeoutMs + 2 * STUCK_GRACE_MS) {
          this.deps.onEvent(`${this.label}: worker ${worker.id} (pid ${worker.child.pid}) did not finish draining; killing it`);
          worker.drainingSince = Number.POSITIVE_INFINITY;
          worker.child.kill('SIGKILL');
        }
        continue;
      }
      if (worker.state === 'dead' || worker.readyAt === undefined) continue;
      const last = this.lastStatsAt.get(worker) ?? now;
      if (now - last > this.settings.requestTimeoutMs + STUCK_GRACE_MS) {
        this.deps.onEvent(`${this.label}: worker ${worker.id} (pid ${worker.child.pid}) is unresponsive; killing it`);
        this.lastStatsAt.set(worker, now);
        if (worker.state !== 'draining') { worker.state = 'draining'; worker.retireReason = 'unresponsive'; this.failures++; this.ensureMin(); }
        worker.child.kill('SIGKILL');
      }
    }
  }

  /** Stop taking connections; workers finish what they have (handing idle connections back if asked). */
  async drain(handBack: boolean, deadlineMs: number): Promise<void> {
    this.stopping = true;
    if (this.spawnTimer) { clearTimeout(this.spawnTimer); this.spawnTimer = undefined; }
    for (const queued of this.queue.splice(0)) {
      this.clients.drop(queued.id);
      if (handBack) this.deps.onHandBack(queued.handle, queued.bytes);
      else closeHandle(queued.handle);
    }
    for (const worker of this.workers) {
      if (worker.state === 'dead') continue;
      if (worker.state === 'starting') { worker.state = 'draining'; worker.child.kill('SIGTERM'); continue; }
      worker.state = 'draining';
      sendMessage(worker.child as never, { type: 'drain', handBack } satisfies ToWorker);
    }
    const deadline = Date.now() + deadlineMs;
    while (this.workers.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    for (const worker of this.workers) worker.child.kill('SIGKILL');
    while (this.workers.length && Date.now() < deadline + 2000) await new Promise((r) => setTimeout(r, 25));
    clearInterval(this.sweepTimer);
  }

  /**
   * Ask every live worker for its counters now and wait (at most `timeoutMs`) for the answers, so the
   * status page shows current numbers rather than those of the last periodic report.
   */
  async refreshStats(timeoutMs: number): Promise<void> {
    const live = this.workers.filter((w) => w.state === 'ready' || w.state === 'draining');
    await Promise.all(live.map((worker) => new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      const waiters = this.statsWaiters.get(worker) ?? [];
      waiters.push(() => { clearTimeout(timer); resolve(); });
      this.statsWaiters.set(worker, waiters);
      sendMessage(worker.child as never, { type: 'stats?' } satisfies ToWorker);
    })));
  }

  status(): Record<string, unknown> {
    const histogram = newHistogram();
    mergeInto(histogram, this.retired.histogram);
    let requests = this.retired.requests;
    let errors = this.retired.errors;
    for (const worker of this.workers) {
      requests += worker.stats.requests;
      errors += worker.stats.errors;
      if (worker.stats.histogram.length === HISTOGRAM_BUCKETS) mergeInto(histogram, worker.stats.histogram);
    }
    return {
      label: this.label,
      hat: this.hat,
      generation: this.generation,
      confinement: this.summary,
      settings: this.settings,
      workers: this.workers.map((w) => ({
        id: w.id, pid: w.child.pid ?? null, state: w.state, connections: w.connections,
        requests: w.stats.requests, errors: w.stats.errors, inFlight: w.stats.inFlight,
        startedAt: new Date(w.startedAt).toISOString(), ...(w.retireReason ? { retireReason: w.retireReason } : {}),
      })),
      queue: this.queue.length,
      requests,
      errors,
      rejected: this.rejected,
      crashes: this.crashes,
      verifyFailures: this.verifyFailures,
      invalidMessages: this.invalidMessages,
      ...(this.lastInvalidMessage ? { lastInvalidMessage: this.lastInvalidMessage } : {}),
      logLinesDropped: this.retiredLogDropped + this.workers.reduce((sum, w) => sum + w.log.dropped, 0),
      ...(this.lastVerifyFailure ? { lastVerifyFailure: this.lastVerifyFailure } : {}),
      latencyMs: { p50: quantileMs(histogram, 0.5), p90: quantileMs(histogram, 0.9), p99: quantileMs(histogram, 0.99) },
    };
  }
}
