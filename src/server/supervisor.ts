// The supervisor: reads nothing from clients. It binds the listening sockets, starts the front and one
// pool per hat (every process through the confinement backend), relays connection handles between them,
// and answers the status page. Signals only enqueue events; one loop acts on them (nginx's master):
// reload = new pools first, then drain the old ones; stop = drain with a deadline, then kill.
import type { ChildProcess } from 'node:child_process';
import { existsSync, realpathSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { bindAddress, listenError, portOf } from './listen.js';
import { ServeError } from './serve-error.js';
import { fileURLToPath } from 'node:url';
import { nodeRuntimeNeeds, socketNeed, type ConfinementBackend, type ConfinementRequest, type PreparedConfinement } from '../confine/index.js';
import { formatDiagnostic, hatLabel, type Diagnostic } from '../policy/index.js';
import { formatListenAddress, type ListenAddress, type ServeConfig } from './config.js';
import { AccessLog } from './access-log.js';
import { childEnvironment } from './child-env.js';
import { closeHandle, discardHandle, isClientConnection, localAddressOf, type RawHandle } from './handles.js';
import type { PolicyHats } from './policy-hats.js';
import { Pool } from './pool.js';
import { RuntimeDirs } from './runtime-dirs.js';
import { AccountResolver, type PoolAccountIds } from './accounts.js';
import { fastcgiConnectPorts, poolAccounts } from './confinement-needs.js';
import { checkFromFront, sendHandle, sendMessage, type FromFront, type RoutingSnapshot, type ToFront, type ToWorker } from './protocol.js';
import { LogLineGate } from './peer-log.js';
import { UNTRUSTED_INPUT_HAT } from '../web/index.js';
import { createPhpFpmRoot, phpFpmRoutes, sitesNeedingPhpFpm, startSitesPhpFpm, sweepStalePhpFpm, withPhpFpmAddresses, type PhpFpmSites } from './fastcgi/index.js';

export interface SupervisorOutput {
  /** Startup and lifecycle messages (stderr). */
  info(line: string): void;
  warn(line: string): void;
}

export interface SupervisorOptions {
  readonly config: ServeConfig;
  readonly hats: PolicyHats;
  readonly backend: ConfinementBackend;
  readonly backendReason: string;
  readonly output: SupervisorOutput;
  /** Reads the configuration and policy again (SIGHUP). */
  readonly reload?: () => Promise<{ config?: ServeConfig; hats?: PolicyHats; diagnostics: readonly Diagnostic[] }>;
  /** Print every Landlock widening line at startup (default: one summary line per pool). */
  readonly verbose?: boolean;
}

export { ServeError };

type SupervisorEvent = 'reload' | 'stop';

const here = dirname(fileURLToPath(import.meta.url));
const WORKER_SCRIPT = join(here, 'worker.js');
/**
 * V8 flags for workers: keep the hot path's compiled code across idle spells. By default V8 flushes the
 * bytecode (and with it the optimized code) of functions not run for a while, and the memory reducer's
 * idle-time collections age it: a worker's first seconds after half a minute without traffic ran 5 to
 * 20 % slower (hello.php, measured). The heap after idle stayed the same size (about 100 MB RSS per
 * worker either way).
 */
const WORKER_V8_FLAGS = ['--no-flush-bytecode', '--no-memory-reducer'];
const FRONT_SCRIPT = join(here, 'front.js');
/** The compiled tree (holds src/), which every worker must read. */
const CODE_ROOT = resolve(here, '..', '..');
/** How long the status page waits for the workers' current counters. */
const STATUS_REFRESH_MS = 250;

/** Some handler talks FastCGI over a unix socket (its own address, or a PHP-FPM master hatter starts). */
function usesUnixFastcgi(config: ServeConfig): boolean {
  return config.sites.some((site) => [site.handler, ...site.locations.map((l) => l.handler)].some((h) => h?.type === 'fastcgi' && (h.address === undefined || h.address.startsWith('unix:'))));
}

function modulesDir(): string | undefined {
  for (let dir = CODE_ROOT; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', 'yaml'))) return realpathSync(join(dir, 'node_modules'));
    if (dirname(dir) === dir) return undefined;
  }
}

interface Bound {
  readonly handle: RawHandle;
  readonly address: ListenAddress;
  readonly admin: boolean;
}

export class Supervisor {
  config: ServeConfig;
  hats: PolicyHats;
  generation = 1;
  private pools = new Map<string, Pool>();
  private readonly pending = new Map<string, Promise<Pool | undefined>>();
  private readonly draining = new Set<Pool>();
  private readonly prepared = new Map<string, PreparedConfinement>();
  private front: ChildProcess | undefined;
  private frontLabel: string | undefined;
  private frontStats = { rejected: 0, handoffs: 0, connections: 0 };
  private readonly bound: Bound[] = [];
  private readonly events: SupervisorEvent[] = [];
  private wake: (() => void) | undefined;
  private accessLog: AccessLog | undefined;
  /** Messages from the front that failed validation (each one kills and replaces it). */
  private frontInvalidMessages = 0;
  private lastFrontInvalidMessage: string | undefined;
  private readonly frontLog = new LogLineGate('front');
  /** strict mode: each pool's private directory for its workers' sockets. */
  private runtime: RuntimeDirs | undefined;
  private readonly poolDirs = new Map<string, string>();
  private readonly socketDirs = new WeakMap<Pool, string>();
  private stopped = false;
  private readonly startedAt = new Date();
  private frontRestarts = 0;
  /** Running as root with sites that set no `user:` (their workers run as root). */
  private rootWarning: string | undefined;
  private phpFpm: PhpFpmSites | undefined;
  private phpFpmRoot: string | undefined;
  /** Server name → the label its PHP-FPM master runs in. */
  private readonly phpFpmLabels = new Map<string, string>();

  constructor(private readonly options: SupervisorOptions) {
    this.config = options.config;
    this.hats = options.hats;
  }

  get addresses(): ListenAddress[] { return this.bound.filter((b) => !b.admin).map((b) => b.address); }
  get adminAddress(): ListenAddress | null { return this.bound.find((b) => b.admin)?.address ?? null; }

  private routing(): RoutingSnapshot {
    return { config: this.config, hats: this.hats, generation: this.generation };
  }

  /** Bind, start the front and the sites' first pools. Throws ServeError (busy port...). */
  async start(): Promise<void> {
    for (const address of this.config.listen) this.bound.push({ handle: await bindAddress(address), address, admin: false });
    if (this.config.admin) {
      const handle = await bindAddress(this.config.admin);
      this.bound.push({ handle, address: { host: this.config.admin.host, port: portOf(handle) ?? this.config.admin.port }, admin: true });
    }
    // Fix up the ports actually bound (port 0 in tests).
    for (let i = 0; i < this.bound.length; i++) {
      const b = this.bound[i]!;
      this.bound[i] = { ...b, address: { host: b.address.host, port: portOf(b.handle) ?? b.address.port } };
    }
    if (this.config.front.mode === 'strict') this.runtime = RuntimeDirs.create('hatter-serve-');
    // Which hat a site's paths go to (filling in PHP-FPM addresses below changes no route).
    const { Router } = await import('./routing.js');
    const { hatChooser } = await import('./policy-hats.js');
    const router = new Router(this.config, hatChooser(this.hats));
    // PHP-FPM masters a killed hatter serve left running (stale-masters.ts), before starting new ones.
    for (const stale of sweepStalePhpFpm()) {
      this.options.output.warn(`hatter serve: stopped ${stale.masters.length} PHP-FPM master(s) (pid ${stale.masters.join(', ') || '-'}) left running by hatter serve pid ${stale.supervisorPid}, which was killed; removed ${stale.root}`);
    }
    // `phpFpm: true` handlers: one PHP-FPM master per site, started here; workers get its address.
    if (sitesNeedingPhpFpm(this.config).length) {
      this.phpFpmRoot = createPhpFpmRoot();
      this.phpFpm = await startSitesPhpFpm(this.config, router, this.phpFpmRoot, {
        backend: this.options.backend,
        output: this.options.output,
        confine: (hat, runtime) => this.requestConfinement(hat, runtime),
      });
      // The label each master was confined to: its site's first PHP location's, as startSitesPhpFpm chose
      // it (asked before the addresses are filled in: a handler with an address no longer wants PHP-FPM).
      for (const [serverName, route] of phpFpmRoutes(this.config, (i, uri) => router.routeUri(i, uri))) this.phpFpmLabels.set(serverName, route.label);
      this.config = withPhpFpmAddresses(this.config, this.phpFpm.addresses, this.phpFpm.children);
    }
    this.rootWarning = rootWithoutUsers(this.config, process.getuid?.());
    if (this.rootWarning) this.options.output.warn(banner(this.rootWarning));
    this.openAccessLog();
    await this.startFront();
    // Start the pools the sites' front pages need, so the first request does not wait for a spawn.
    const labels = new Map<string, string | null>();
    this.config.sites.forEach((_, i) => { const route = router.routeUri(i, '/'); labels.set(route.label, route.hat); });
    await Promise.all([...labels].map(([label, hat]) => this.poolFor(label, hat).then((pool) => pool?.start())));
  }

  private openAccessLog(): void {
    this.accessLog?.close();
    this.accessLog = new AccessLog(this.config.accessLog, (line) => this.options.output.warn(line));
  }

  private writeLog(lines: readonly string[]): void {
    this.accessLog?.write(lines);
  }

  /** The confinement of the front or of a pool's workers; a pool (strict mode) also gets its private directory. */
  private async prepare(hat: string | null, role: 'front' | 'pool'): Promise<PreparedConfinement | undefined> {
    const label = hatLabel(this.hats.profile, hat);
    const key = `${role}\0${label}`;
    const cached = this.prepared.get(key);
    if (cached) return cached;
    const runtime = nodeRuntimeNeeds();
    const modules = modulesDir();
    const read = [...runtime.read, CODE_ROOT, ...(modules ? [modules] : [])];
    const connectPorts = fastcgiConnectPorts(this.config, this.hats).get(label) ?? [];
    const account = this.accountFor(label);
    if (account === null) return undefined;
    // Only its own directory: never the runtime root, where it could replace another pool's sockets.
    let write: string[] = [];
    if (this.runtime && role === 'pool') {
      let dir = this.poolDirs.get(label);
      if (!dir) { dir = this.runtime.poolDir(account); this.poolDirs.set(label, dir); }
      write = [dir];
    }
    // Sockets the server's own plumbing creates: strict mode's and PHP-FPM's unix sockets, FastCGI over TCP.
    const sockets = [];
    if (this.runtime || usesUnixFastcgi(this.config)) sockets.push(socketNeed('unix', 'stream'));
    if (connectPorts.length) sockets.push(socketNeed('inet', 'stream'), socketNeed('inet6', 'stream'));
    const prepared = await this.requestConfinement(hat, { read, write, exec: runtime.exec, sockets, ...(connectPorts.length ? { connectPorts } : {}) }, account);
    if (!prepared) return undefined;
    for (const warning of startupWarnings(prepared, this.config.policy.file, this.options.verbose ?? false)) this.options.output.warn(`warning: ${warning}`);
    this.prepared.set(key, prepared);
    return prepared;
  }

  /** Ask the backend to prepare the policy's hat (or parent profile) with these runtime needs; its diagnostics are printed. */
  private async requestConfinement(hat: string | null, runtime: ConfinementRequest['runtime'], account: { uid?: number; gid?: number } = {}): Promise<PreparedConfinement | undefined> {
    const result = await this.options.backend.prepare({
      ...account,
      ...(this.config.policy.file ? { policyFile: this.config.policy.file } : {}),
      profile: this.hats.profile,
      hat,
      runtime,
      ...(this.config.landlock?.allowWidening.length ? { allowWidening: this.config.landlock.allowWidening } : {}),
    });
    for (const d of result.diagnostics) this.options.output.warn(formatDiagnostic(d));
    return result.prepared;
  }

  /** uid/gid for a pool from its sites' `user:`/`group:` ({} = none asked, or not root); null = the pool must not start. */
  private accountFor(label: string): PoolAccountIds | null {
    return this.accounts.resolve(poolAccounts(this.config, this.hats).get(label), label, this.config.source);
  }

  private readonly accounts = new AccountResolver((diagnostic) => this.options.output.warn(formatDiagnostic(diagnostic)));

  private async startFront(): Promise<void> {
    const frontHat = this.hats.hats.includes(UNTRUSTED_INPUT_HAT) ? UNTRUSTED_INPUT_HAT : null;
    const prepared = await this.prepare(frontHat, 'front');
    if (!prepared) throw new ServeError('serve/front-confinement', `cannot confine the front process (${frontHat ?? this.hats.profile})`);
    const child = this.options.backend.spawn(prepared, process.execPath, [FRONT_SCRIPT], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: childEnvironment({ HATTER_ROLE: 'front', HATTER_LABEL: prepared.label }),
      serialization: 'json',
    });
    this.front = child;
    this.frontLabel = prepared.label;
    // The front parses untrusted bytes: it must be confined as prepared before it gets a socket.
    const verified = child.pid === undefined ? { ok: false, detail: 'the front process did not start' } : await this.options.backend.verify(prepared, child.pid).catch((error: Error) => ({ ok: false, detail: error.message }));
    if (!verified.ok) {
      child.kill('SIGKILL');
      throw new ServeError('serve/front-not-confined', `REFUSED: the front process is not confined as ${prepared.label}: ${verified.detail}`);
    }
    // Startup waits on the front's own messages, validated like every other one.
    const waiters = new Set<(message: FromFront) => void>();
    const ready = new Promise<void>((resolveReady, reject) => {
      child.once('exit', (code, signal) => reject(new ServeError('serve/front-exited', `the front process exited during startup (${signal ?? `exit ${code}`})`)));
      waiters.add((message) => { if (message.type === 'ready') resolveReady(); });
    });
    child.on('message', (message: unknown, handle: unknown) => {
      const valid = this.receiveFromFront(child, message, handle);
      if (valid) for (const waiter of [...waiters]) waiter(valid);
    });
    child.on('exit', (code, signal) => {
      if (this.stopped || this.front !== child) return;
      // The front died: start another on the same listening sockets (connections it held are lost).
      this.frontRestarts++;
      this.options.output.warn(`hatter serve: the front process died (${signal ?? `exit ${code}`}); restarting it`);
      setTimeout(() => {
        // Stopped meanwhile (a signal to the whole process group reaches the front first): nothing to restart.
        if (this.stopped) return;
        void this.startFront().catch((error: Error) => this.options.output.warn(`hatter serve: ${error.message}`));
      }, Math.min(5000, 100 * 2 ** Math.min(this.frontRestarts, 6)));
    });
    sendMessage(child as never, { type: 'init', routing: this.routing(), adminListener: this.config.admin !== null } satisfies ToFront);
    await ready;
    // The kernel reports a port taken by another server only at listen(), which the front does.
    const listening = new Promise<void>((resolveListening, reject) => {
      let pending = this.bound.length;
      const onMessage = (message: FromFront): void => {
        if (message.type !== 'listening') return;
        const bound = this.bound[message.index];
        if (!bound) return;
        if (message.error) {
          waiters.delete(onMessage);
          reject(listenError(bound.address, message.error));
        } else if (--pending === 0) {
          waiters.delete(onMessage);
          resolveListening();
        }
      };
      waiters.add(onMessage);
    });
    for (const b of this.bound) {
      // keepOpen: the supervisor keeps its copy, so a restarted front listens on the same socket.
      child.send({ type: 'listen', index: this.bound.indexOf(b), admin: b.admin } satisfies ToFront, b.handle as never, { keepOpen: true });
    }
    await listening;
  }

  // ── the trust boundary ─────────────────────────────────────────────────────────────────────────
  // The front and every worker may be run by an attacker (the front parses untrusted bytes; workers
  // run the sites' code). Everything they can make the supervisor do is here and in Pool.receive;
  // each message is validated first (protocol.ts: exact fields, bounds; a handle only beside handoff/
  // handback, and only a client connection accepted on our listening ports), and an invalid one kills
  // its sender. A valid message can only:
  //   front:  handoff    give a client connection to a pool of a label the policy can produce
  //                      (validLabel; no other confinement can be asked for), with opaque bytes
  //           need-pool  start such a pool (strict mode) and learn its workers' socket paths
  //           status?    read the status page; stats: set the front's own counters
  //           log        append lines naming label 'front' to the access log (rate-limited)
  //   worker: handback   give a client connection back to the front, to be routed again
  //           released / ready / retire / stats   change its own entry in its own pool (retiring
  //                      starts a replacement: at most 10 starts per pool and second)
  //           log        append lines naming its own label (rate-limited)
  // Nothing a peer sends names a file, a process, an account or a confinement.

  /**
   * A message from the front: validated, then acted on; never throws. The front parses untrusted bytes,
   * so it is treated as a peer that may be compromised: an invalid message (wrong shape, a handle where
   * none belongs or one that is not a client connection on our listening sockets, a forged log line) is
   * reported, counted, and the front is killed (the exit handler starts another on the same sockets).
   * Returns the message when it was valid.
   */
  private receiveFromFront(child: ChildProcess, raw: unknown, handle: unknown): FromFront | undefined {
    try {
      if (this.condemned.has(child) || this.front !== child) { discardHandle(handle); return undefined; }
      const checked = checkFromFront(raw, handle !== undefined && handle !== null);
      let reason = checked.ok ? undefined : checked.reason;
      if (checked.ok && checked.message.type === 'handoff' && !isClientConnection(handle, this.listenPorts())) reason = 'handoff: the handle is not a client connection on a listening socket';
      if (reason !== undefined) {
        discardHandle(handle);
        this.condemnFront(child, reason);
        return undefined;
      }
      const message = (checked as { message: FromFront }).message;
      if (message.type === 'log') {
        const admitted = this.frontLog.admit(message.lines);
        if ('forged' in admitted) { this.condemnFront(child, `log: ${admitted.forged}`); return undefined; }
        this.writeLog(admitted.lines);
        return message;
      }
      this.onFrontMessage(message, handle);
      return message;
    } catch (error) {
      discardHandle(handle);
      this.condemnFront(child, `handling its message failed: ${(error as Error).message}`);
      return undefined;
    }
  }

  private readonly condemned = new WeakSet<ChildProcess>();

  private condemnFront(child: ChildProcess, reason: string): void {
    this.frontInvalidMessages++;
    this.lastFrontInvalidMessage = reason;
    if (this.condemned.has(child)) return;
    this.condemned.add(child);
    this.options.output.warn(`REFUSED front (pid ${child.pid}): invalid message (${reason}); killing it`);
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }

  /** Where the (non-admin) listening sockets are bound: what a connection handed to us must be accepted on. */
  private listenPorts(): readonly { address: string; port: number }[] {
    // The listening sockets never change after start (reloads keep them): read them once.
    this.listening ??= this.bound.filter((b) => !b.admin).flatMap((b) => localAddressOf(b.handle) ?? []);
    return this.listening;
  }

  private listening: readonly { address: string; port: number }[] | undefined;

  private onFrontMessage(message: FromFront, handle: unknown): void {
    switch (message.type) {
      case 'handoff':
        void this.dispatch(message.label, message.hat, handle, message.bytes).catch((error: Error) => {
          closeHandle(handle);
          this.options.output.warn(`hatter serve: cannot dispatch a connection to ${message.label}: ${error.message}`);
        });
        break;
      case 'status?': {
        // Current counters: each worker reports on request (within STATUS_REFRESH_MS) instead of the
        // status showing what the last once-a-second report said.
        const asking = this.front;
        const pools = [...this.pools.values(), ...this.draining];
        void Promise.all(pools.map((pool) => pool.refreshStats(STATUS_REFRESH_MS))).then(() => {
          if (asking && this.front === asking) sendMessage(asking as never, { type: 'status', seq: message.seq, body: this.status() } satisfies ToFront);
        });
        break;
      }
      case 'need-pool':
        void this.poolFor(message.label, message.hat).then(async (pool) => { if (!pool) return; this.announceSockets(pool); await pool.start(); this.announceSockets(pool); })
          .catch((error: Error) => this.options.output.warn(`hatter serve: cannot start the pool for ${message.label}: ${error.message}`));
        break;
      case 'log':
        break;
      case 'stats':
        this.frontStats = { rejected: message.rejected, handoffs: message.handoffs, connections: message.connections };
        break;
      case 'ready':
      case 'listening':
        break;
    }
  }

  /** Only labels the policy can produce get a pool: a front that misbehaves cannot invent one. */
  private validLabel(label: string, hat: string | null): boolean {
    if (hat === null) return label === this.hats.profile;
    return label === hatLabel(this.hats.profile, hat) && this.hats.hats.includes(hat);
  }

  private poolFor(label: string, hat: string | null): Promise<Pool | undefined> {
    const existing = this.pools.get(label);
    if (existing) return Promise.resolve(existing);
    if (!this.validLabel(label, hat)) return Promise.resolve(undefined);
    const key = `${this.generation}\0${label}`;
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.createPool(label, hat).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return pending;
  }

  private async createPool(label: string, hat: string | null): Promise<Pool | undefined> {
    const prepared = await this.prepare(hat, 'pool');
    if (!prepared) return undefined;
    const generation = this.generation;
    const socketDir = this.poolDirs.get(label);
    const pool = new Pool(label, hat, this.config.pool, prepared.summary, generation, {
      spawnWorker: (p, id) => this.options.backend.spawn(prepared, process.execPath, [...WORKER_V8_FLAGS, WORKER_SCRIPT], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: childEnvironment({ HATTER_ROLE: 'worker', HATTER_HAT: p.hat ?? '', HATTER_LABEL: p.label, HATTER_WORKER_ID: String(id) }),
        serialization: 'json',
      }),
      verifyWorker: (_p, pid) => this.options.backend.verify(prepared, pid),
      initMessage: (p, worker) => ({
        type: 'init', routing: this.routing(), label: p.label, hat: p.hat, workerId: worker.id,
        ...(socketDir ? { strictSocket: join(socketDir, `w${worker.id}.sock`) } : {}),
      } satisfies ToWorker),
      onHandBack: (h, bytes) => this.returnToFront(h, bytes),
      acceptsConnection: (h) => isClientConnection(h, this.listenPorts()),
      onReject: (h, p, status) => {
        sendHandle(this.front as never, { type: 'reject', status, retryAfter: 1, label: p.label } satisfies ToFront, h);
      },
      onLog: (lines) => this.writeLog(lines),
      onEvent: (text) => this.options.output.info(`hatter serve: ${text}`),
      onWorkersChanged: (p) => this.announceSockets(p),
    });
    if (this.generation !== generation) { void pool.drain(false, 0); return this.poolFor(label, hat); }
    if (socketDir) this.socketDirs.set(pool, socketDir);
    this.pools.set(label, pool);
    return pool;
  }

  private announceSockets(pool: Pool): void {
    const dir = this.socketDirs.get(pool);
    if (!dir || this.pools.get(pool.label) !== pool) return;
    const sockets = pool.workers.filter((w) => w.state === 'ready').map((w) => join(dir, `w${w.id}.sock`));
    sendMessage(this.front as never, { type: 'pool-sockets', label: pool.label, sockets } satisfies ToFront);
  }

  private returnToFront(handle: unknown, bytes: string): void {
    if (this.stopped) closeHandle(handle);
    else sendHandle(this.front as never, { type: 'return', bytes } satisfies ToFront, handle);
  }

  private async dispatch(label: string, hat: string | null, handle: unknown, bytes: string): Promise<void> {
    const pool = await this.poolFor(label, hat);
    if (!pool || this.stopped) {
      if (!pool && !this.stopped) this.options.output.warn(`hatter serve: no pool for ${label}; connection refused`);
      if (!pool && !this.stopped) sendHandle(this.front as never, { type: 'reject', status: 503, retryAfter: 5, label } satisfies ToFront, handle);
      else closeHandle(handle);
      return;
    }
    // A reload may have retired this pool while we waited: route to the current generation instead.
    if (pool.closed && this.pools.get(label) !== pool) { void this.dispatch(label, hat, handle, bytes); return; }
    pool.dispatch(handle, bytes);
  }

  // ── the event loop ──────────────────────────────────────────────────────────────────────────────
  /** Called from signal handlers: only records the event. */
  enqueue(event: SupervisorEvent): void {
    this.events.push(event);
    this.wake?.();
  }

  /** Act on events one at a time until stopped. */
  async run(): Promise<void> {
    for (;;) {
      while (this.events.length === 0) await new Promise<void>((r) => { this.wake = r; });
      this.wake = undefined;
      const event = this.events.shift()!;
      if (event === 'stop') { await this.stop(); return; }
      if (event === 'reload') await this.reload();
    }
  }

  /** New configuration and policy: new pools first, then the old ones drain (handing connections back). */
  async reload(): Promise<boolean> {
    if (!this.options.reload) return false;
    this.options.output.info('hatter serve: reloading the configuration and the policy');
    const next = await this.options.reload();
    for (const d of next.diagnostics) this.options.output.warn(formatDiagnostic(d));
    if (!next.config || !next.hats) {
      this.options.output.warn('hatter serve: reload failed; still serving the previous configuration');
      return false;
    }
    const { config: nextConfig, hats: nextHats } = next;
    const old = this.pools;
    const filled = this.phpFpm ? withPhpFpmAddresses(nextConfig, this.phpFpm.addresses, this.phpFpm.children) : nextConfig;
    this.config = { ...filled, listen: this.config.listen, admin: this.config.admin, front: { ...filled.front, mode: this.config.front.mode } };
    this.hats = nextHats;
    this.generation++;
    this.prepared.clear();
    this.poolDirs.clear();
    this.pools = new Map();
    if (this.config.accessLog !== nextConfig.accessLog) this.openAccessLog();
    await Promise.all([...old.values()].map((pool) => this.poolFor(pool.label, pool.hat).then((p) => p?.start())));
    sendMessage(this.front as never, { type: 'config', routing: this.routing() } satisfies ToFront);
    for (const pool of old.values()) {
      this.draining.add(pool);
      void pool.drain(true, this.config.drainTimeoutMs).finally(() => this.draining.delete(pool));
    }
    this.options.output.info(`hatter serve: generation ${this.generation} serving; ${old.size} old pool(s) draining`);
    return true;
  }

  /** Stop accepting, let requests in flight finish (up to drainTimeoutMs), then kill what is left. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    sendMessage(this.front as never, { type: 'stop' } satisfies ToFront);
    const pools = [...this.pools.values(), ...this.draining];
    await Promise.all(pools.map((pool) => pool.drain(false, this.config.drainTimeoutMs)));
    for (const b of this.bound) closeHandle(b.handle);
    const front = this.front;
    if (front && front.exitCode === null && front.signalCode === null) {
      await new Promise<void>((r) => {
        const timer = setTimeout(() => { front.kill('SIGKILL'); r(); }, 2000);
        front.once('exit', () => { clearTimeout(timer); r(); });
      });
    }
    await this.phpFpm?.stop();
    if (this.phpFpmRoot) rmSync(this.phpFpmRoot, { recursive: true, force: true });
    this.accessLog?.close();
    this.runtime?.remove();
    this.wake?.();
  }

  private poolStatus(pool: Pool): Record<string, unknown> {
    const dir = this.socketDirs.get(pool);
    return { ...pool.status(), ...(dir ? { socketDir: dir } : {}) };
  }

  /**
   * Every process this supervisor started confined, by pid, with its label: the front, each pool's workers
   * (draining ones too) and the PHP-FPM masters. A Landlock domain is attributed to a hat only through
   * this map (the pid that created the domain), never through what a record says of itself.
   */
  confinedProcesses(): Map<number, string> {
    const byPid = new Map<number, string>();
    if (this.front?.pid !== undefined && this.frontLabel !== undefined) byPid.set(this.front.pid, this.frontLabel);
    for (const pool of [...this.pools.values(), ...this.draining]) {
      for (const worker of pool.workers) if (worker.child.pid !== undefined) byPid.set(worker.child.pid, pool.label);
    }
    for (const [serverName, master] of this.phpFpm?.masters ?? []) {
      const label = this.phpFpmLabels.get(serverName);
      if (label !== undefined) byPid.set(master.pid, label);
    }
    return byPid;
  }

  status(): Record<string, unknown> {
    const backend = this.options.backend.name;
    return {
      pid: process.pid,
      startedAt: this.startedAt.toISOString(),
      config: this.config.source,
      generation: this.generation,
      backend: {
        name: backend,
        reason: this.options.backendReason,
        confined: backend !== 'none',
        ...(this.options.backend.observes ? { learning: true, warning: 'LEARNING, UNCONFINED: serve --learn records what every pool does (strace) and applies no kernel confinement; every site can read whatever the server user can' } : backend === 'none' ? { warning: 'UNCONFINED: the none backend applies no kernel confinement; every site can read whatever the server user can' } : {}),
      },
      ...(this.rootWarning ? { warnings: [this.rootWarning] } : {}),
      profile: this.hats.profile,
      hats: this.hats.hats,
      listen: this.addresses.map(formatListenAddress),
      frontStats: { ...this.frontStats, invalidMessages: this.frontInvalidMessages, ...(this.lastFrontInvalidMessage ? { lastInvalidMessage: this.lastFrontInvalidMessage } : {}), logLinesDropped: this.frontLog.dropped },
      ...(this.accessLog ? { accessLog: this.accessLog.status() } : {}),
      pools: [...this.pools.values()].map((pool) => this.poolStatus(pool)),
      drainingPools: [...this.draining].map((pool) => pool.status()),
    };
  }
}

/**
 * What to print at startup for one prepared confinement. Landlock lists every way it widens the hat
 * (often a dozen or more lines per hat); unless verbose, one line per pool says how many and of which
 * kinds, and how to see them (the status page keeps the full list).
 */
export function startupWarnings(prepared: PreparedConfinement, policyFile: string | undefined, verbose: boolean): string[] {
  const translation = (prepared as { translation?: { widening?: readonly { kind: string }[]; narrowing?: readonly unknown[] } }).translation;
  const widening = translation?.widening;
  if (verbose || prepared.backend !== 'landlock' || !widening || widening.length === 0) return [...prepared.warnings];
  const label = prepared.label;
  const narrowed = translation?.narrowing?.length ?? 0;
  const others = prepared.warnings.filter((w) => !w.startsWith(`${label}: Landlock grants more than the hat`) && !w.startsWith(`${label}: Landlock widening [`) && !w.startsWith(`${label}: Landlock narrowing [`));
  if (narrowed) others.unshift(`${label}: ${narrowed} hat rule${narrowed === 1 ? '' : 's'} narrowed (Landlock cannot keep them exactly: not granted); see hatter confine explain or -v`);
  const kinds = new Map<string, number>();
  for (const entry of widening) kinds.set(entry.kind, (kinds.get(entry.kind) ?? 0) + 1);
  const counted = [...kinds].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([kind, n]) => `${n} ${kind}`).join(', ');
  const explain = `hatter confine explain${policyFile ? ` --policy ${policyFile}` : ''} --backend landlock ${label}`;
  return [`${label}: Landlock grants more than the hat in ${widening.length} way${widening.length === 1 ? '' : 's'} (${counted}); details: ${explain}, or -v`, ...others];
}

/**
 * Root without per-site accounts is allowed, but every such site's workers then run as root: only the
 * kernel confinement stands between a compromised site and the machine (and, while capabilities are
 * kept, not even DAC between sites). Said loudly at startup and on the status page.
 */
export function rootWithoutUsers(config: ServeConfig, uid: number | undefined): string | undefined {
  if (uid !== 0) return undefined;
  const without = config.sites.filter((site) => site.user === undefined).map((site) => site.serverName);
  if (without.length === 0) return undefined;
  return `RUNNING AS ROOT: the workers of ${without.join(', ')} run as root because ${without.length === 1 ? 'that site sets' : 'those sites set'} no \`user:\`; give each site its own user (docs/serve.md, "Running as a service")`;
}

function banner(text: string): string {
  const line = '!'.repeat(100);
  return `${line}\n!! ${text}\n${line}`;
}
