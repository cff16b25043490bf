// The compromised-site escape suite (issue #17 item 10): hatter serve with the escape fixtures' two
// sites, where bob's site runs a web shell (fixtures/compromised/eval.mjs: arbitrary code in bob's
// worker) and an uploaded binary for the system calls Node cannot make (fixtures/compromised/
// attack-tool.c). Each attack is something a fully compromised site must not be able to do to other
// sites, the server or the machine; each reports `blocked` or not, with what happened.
//
// Used by compromised.test.ts (Landlock, on this machine) and by the real-kernel suite
// (test/kernel/serve.test.ts runs `node compromised.js run ...` in the guest, under AppArmor).
// Expectations assert the property that matters (a kernel refusal, the other site still served, the
// supervisor alive), never an incidental detail such as one errno where several are correct.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { compiledRoot, repoRoot } from '../support/repo.js';
import { findLauncher } from '../../src/confine/launcher.js';

export type Backend = 'landlock' | 'apparmor';
const FIXTURES = join(repoRoot, 'test', 'escape', 'fixtures');
/** Owner of alice's files: not the uid the server runs as, so only a capability lets bob touch them. */
const ALICE_UID = 65534;

export interface AttackResult {
  readonly id: string;
  readonly blocked: boolean;
  readonly detail: string;
}

interface Answer {
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: { readonly code: string | null; readonly message: string };
}

interface Context {
  readonly backend: Backend;
  readonly port: number;
  readonly adminPort: number;
  readonly root: string;
  readonly tool: string;
  readonly secret: string;
  readonly victimHome: string;
  readonly pids: { readonly supervisor: number; readonly front: number; readonly alice: number; readonly bob: number };
  readonly server: ChildProcess;
  readonly output: () => string;
}

type Verdict = { readonly blocked: boolean; readonly detail: string };

export interface Attack {
  readonly id: string;
  /** The item of issue #17 the attack checks (and the finding of its "Why" list, when there is one). */
  readonly item: string;
  readonly title: string;
  /**
   * strict: runs against a server in front.mode strict (Landlock only, see runCompromisedSuite); own:
   * gets a server of its own (it may take the server down, and the next attack must not see that).
   */
  readonly server?: 'strict' | 'own';
  /** A control: what bob's hat grants must keep working (a sandbox that blocks everything proves nothing). */
  readonly control?: boolean;
  readonly run: (ctx: Context) => Promise<Verdict>;
}

// ── talking to the server ─────────────────────────────────────────────────────────────────────────
export interface Reply { readonly status: number; readonly body: string }

export function http(port: number, host: string, path: string, options: { method?: string; body?: string; timeoutMs?: number; localAddress?: string } = {}): Promise<Reply> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent: false, headers: { host, ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}) }, timeout: timeoutMs, ...(options.localAddress ? { localAddress: options.localAddress } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${host}${path}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Run `code` (an async function body with require, process, args) in bob's worker. */
async function bobEval(ctx: Pick<Context, 'port'>, code: string, args: Record<string, unknown> = {}, timeoutMs = 15_000): Promise<Answer> {
  try {
    const reply = await http(ctx.port, 'bob.localhost', '/eval', { method: 'POST', body: JSON.stringify({ code, args }), timeoutMs });
    if (reply.status !== 200) return { ok: false, error: { code: `HTTP ${reply.status}`, message: reply.body.slice(0, 300) } };
    return JSON.parse(reply.body) as Answer;
  } catch (error) {
    return { ok: false, error: { code: 'NO-ANSWER', message: (error as Error).message } };
  }
}

/** The attack tool's outcome, run by bob's worker: ok with its output, or its errno name as the code. */
const TOOL = `const { spawnSync } = require('node:child_process');
const r = spawnSync(args.tool, args.argv, { encoding: 'utf8', timeout: 10000 });
if (r.error) throw r.error;
const out = ((r.stdout || '') + (r.stderr || '')).trim();
if (r.status === 0) return out;
const m = /^failed (\\S+) /m.exec(out);
throw Object.assign(new Error(out), { code: m ? m[1] : 'exit ' + (r.status ?? r.signal) });`;

function tool(ctx: Context, ...argv: string[]): Promise<Answer> {
  return bobEval(ctx, TOOL, { tool: ctx.tool, argv });
}

const FS_REFUSALS = ['EACCES', 'EPERM', 'EXDEV', 'EROFS'];
/** Another process is out of reach when the kernel refuses, or when it is not visible at all (own PID namespace). */
const PROCESS_REFUSALS = ['EACCES', 'EPERM', 'ESRCH', 'ENOENT'];
const SOCKET_REFUSALS = ['EACCES', 'EPERM', 'EAFNOSUPPORT', 'EPROTONOSUPPORT', 'ESOCKTNOSUPPORT', 'EINVAL'];

function refused(answer: Answer, codes: readonly string[]): Verdict {
  if (answer.ok) return { blocked: false, detail: `SUCCEEDED: ${JSON.stringify(answer.value).slice(0, 300)}` };
  const code = answer.error?.code ?? null;
  if (code !== null && codes.includes(code)) return { blocked: true, detail: `refused: ${code} ${answer.error!.message.slice(0, 120)}` };
  return { blocked: false, detail: `failed without a kernel refusal (${code}): ${answer.error?.message.slice(0, 300)}` };
}

function succeeded(answer: Answer): Verdict {
  return answer.ok ? { blocked: true, detail: `works: ${JSON.stringify(answer.value).slice(0, 120)}` } : { blocked: false, detail: `control FAILED (${answer.error?.code}): ${answer.error?.message}` };
}

const ZERO_CAPS = /^(?=.*CapInh=0{16})(?=.*CapPrm=0{16})(?=.*CapEff=0{16})(?=.*CapBnd=0{16})(?=.*CapAmb=0{16})/s;

/** The five capability sets of a process, read from outside (root, unconfined), as "CapX=hex …". */
function capsOf(pid: number): string {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'].map((name) => `${name}=${new RegExp(`^${name}:\\s*([0-9a-f]+)`, 'm').exec(status)?.[1] ?? '?'}`).join(' ');
}

function noCaps(who: string, pid: number): Verdict {
  const caps = capsOf(pid);
  return { blocked: ZERO_CAPS.test(caps), detail: `${who} (pid ${pid}): ${caps}` };
}

async function alive(ctx: Context): Promise<string | undefined> {
  if (ctx.server.exitCode !== null || ctx.server.signalCode !== null) return `the supervisor is gone (${ctx.server.exitCode ?? ctx.server.signalCode})`;
  return undefined;
}

/** After an attack on the server: supervisor alive, status page, alice and bob (maybe a replacement) served. */
async function serverHolds(ctx: Context, deadlineMs = 30_000): Promise<Verdict> {
  await new Promise((r) => setTimeout(r, 500));
  const deadline = Date.now() + deadlineMs;
  let last = '';
  for (;;) {
    const gone = await alive(ctx);
    if (gone) return { blocked: false, detail: `${gone}; output tail: ${ctx.output().slice(-600)}` };
    const aliceReply = await http(ctx.port, 'alice.localhost', '/hello', { timeoutMs: 5000 }).catch((e: Error) => ({ status: 0, body: e.message }));
    const bobAnswer = await bobEval(ctx, 'return process.pid;', {}, 5000);
    const status = await http(ctx.adminPort, 'localhost', '/_hatter/status', { timeoutMs: 5000 }).catch((e: Error) => ({ status: 0, body: e.message }));
    if (aliceReply.status === 200 && bobAnswer.ok && status.status === 200) return { blocked: true, detail: `supervisor alive, status page, alice served, bob served by pid ${bobAnswer.value}` };
    last = `alice ${aliceReply.status} ${aliceReply.body.slice(0, 80)}; bob ${JSON.stringify(bobAnswer).slice(0, 120)}; status page ${status.status} ${status.body.slice(0, 80)}`;
    if (Date.now() > deadline) return { blocked: false, detail: `not served again within ${deadlineMs} ms: ${last}` };
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Send IPC messages from bob's worker to the supervisor, then check that the server holds. */
/** `thenExit`: the worker exits after sending, so the supervisor also handles what it sent at its end. */
function forge(id: string, title: string, messages: string, thenExit = false): Attack {
  return {
    id, item: '#17.6 (IPC forgery crashes the supervisor)', title, server: 'own',
    run: async (ctx) => {
      const sent = await bobEval(ctx, `const messages = ${messages}; let n = 0; for (const m of messages) { try { process.send(m); n++; } catch {} }${thenExit ? ' setTimeout(() => process.exit(0), 300);' : ''} return n + ' sent';`);
      const holds = await serverHolds(ctx);
      return { blocked: holds.blocked, detail: `${sent.ok ? sent.value : JSON.stringify(sent.error)}; ${holds.detail}` };
    },
  };
}

function readOther(id: string, item: string, title: string, path: (ctx: Context) => string): Attack {
  return { id, item, title, run: async (ctx) => refused(await bobEval(ctx, 'return require("node:fs").readFileSync(args.path, "latin1").slice(0, 200);', { path: path(ctx) }), PROCESS_REFUSALS) };
}

// ── the attacks ───────────────────────────────────────────────────────────────────────────────────
export const ATTACKS: readonly Attack[] = [
  // controls
  { id: 'control-read-own', item: 'control', title: "bob's worker reads bob's own files", control: true, run: async (ctx) => succeeded(await bobEval(ctx, 'return require("node:fs").readFileSync(args.path, "utf8");', { path: join(ctx.root, 'bob', 'public', 'index.html') })) },
  { id: 'control-tool-tcp', item: 'control', title: 'the uploaded tool runs and opens the TCP socket the hat grants', control: true, run: async (ctx) => succeeded(await tool(ctx, 'socket', 'inet', 'stream')) },

  // capabilities: the hat grants none
  { id: 'caps-bob-worker', item: '#17.2 (workers keep every capability of root)', title: "bob's worker holds no capability in any of the five sets", run: async (ctx) => noCaps('bob worker', ctx.pids.bob) },
  { id: 'caps-alice-worker', item: '#17.2', title: "alice's worker holds no capability in any of the five sets", run: async (ctx) => noCaps('alice worker', ctx.pids.alice) },
  { id: 'caps-front', item: '#17.2', title: 'the front (HANDLING_UNTRUSTED_INPUT) holds no capability', run: async (ctx) => noCaps('front', ctx.pids.front) },
  {
    id: 'caps-bob-child', item: '#17.2', title: "a program bob's worker runs holds no capability (capget, bounding, ambient)",
    run: async (ctx) => { const a = await tool(ctx, 'caps'); return a.ok ? { blocked: ZERO_CAPS.test(String(a.value)), detail: String(a.value) } : { blocked: false, detail: `tool failed: ${JSON.stringify(a.error)}` }; },
  },
  {
    id: 'caps-bob-cgi', item: '#17.2', title: "bob's CGI children hold no capability",
    run: async (ctx) => {
      const reply = await http(ctx.port, 'bob.localhost', '/cgi-bin/shell.cgi', { method: 'POST', body: `'${ctx.tool}' caps` });
      return { blocked: reply.status === 200 && ZERO_CAPS.test(reply.body), detail: `${reply.status} ${reply.body.trim().slice(0, 200)}` };
    },
  },
  { id: 'mknod-char', item: '#17.2 (device nodes)', title: "bob creates a character device (/dev/mem's numbers) in his own tree", run: async (ctx) => refused(await tool(ctx, 'mknod', join(ctx.root, 'bob', 'data', `mem-${randomBytes(4).toString('hex')}`), 'c', '1', '1'), FS_REFUSALS) },
  {
    id: 'mknod-block-read', item: '#17.2 (raw read of a block device)', title: "bob creates the disk's block device in his own tree and reads it raw",
    run: async (ctx) => { const [major, minor] = firstBlockDevice(); return refused(await tool(ctx, 'mknod', join(ctx.root, 'bob', 'data', `disk-${randomBytes(4).toString('hex')}`), 'b', major, minor, 'read'), FS_REFUSALS); },
  },
  {
    id: 'read-block-device', item: '#17.2 (raw read of a block device)', title: "bob opens the machine's block device in /dev",
    run: async (ctx) => { const dev = devicePath(); return dev ? refused(await bobEval(ctx, 'const fs = require("node:fs"); const fd = fs.openSync(args.dev, "r"); const b = Buffer.alloc(512); return fs.readSync(fd, b, 0, 512, 0) + " bytes";', { dev }), FS_REFUSALS) : { blocked: true, detail: 'no block device in /dev to try' }; },
  },
  { id: 'chown-alice', item: '#17.2 (chown/chmod of alice\'s files)', title: "bob takes ownership of alice's secret (chown)", run: async (ctx) => refused(await tool(ctx, 'chown', join(ctx.root, 'alice', 'secret.txt'), '0', '0'), FS_REFUSALS) },
  { id: 'chmod-alice', item: '#17.2 (chown/chmod of alice\'s files)', title: "bob makes alice's secret world-writable (chmod)", run: async (ctx) => refused(await bobEval(ctx, 'require("node:fs").chmodSync(args.path, 0o666); return "chmod 666";', { path: join(ctx.root, 'alice', 'secret.txt') }), FS_REFUSALS) },

  // sockets the hat does not grant (network inet stream, inet6 stream only)
  { id: 'socket-packet', item: '#17.3 (AF_PACKET capture of alice\'s traffic)', title: 'bob opens an AF_PACKET socket', run: async (ctx) => refused(await tool(ctx, 'socket', 'packet', 'raw'), SOCKET_REFUSALS) },
  { id: 'socket-raw-inet', item: '#17.3', title: 'bob opens a raw IPv4 socket', run: async (ctx) => refused(await tool(ctx, 'socket', 'inet', 'raw'), SOCKET_REFUSALS) },
  { id: 'socket-netlink', item: '#17.3', title: 'bob opens a netlink socket', run: async (ctx) => refused(await tool(ctx, 'socket', 'netlink', 'raw'), SOCKET_REFUSALS) },
  { id: 'socket-udp', item: '#17.3', title: 'bob opens a UDP socket (inet dgram, not granted)', run: async (ctx) => refused(await tool(ctx, 'socket', 'inet', 'dgram'), SOCKET_REFUSALS) },
  { id: 'socket-udp-node', item: '#17.3', title: "bob's worker sends UDP with node:dgram", run: async (ctx) => refused(await bobEval(ctx, 'const s = require("node:dgram").createSocket("udp4"); return await new Promise((ok, no) => { s.on("error", no); s.send("x", args.port, "127.0.0.1", (e) => { s.close(); e ? no(e) : ok("sent"); }); });', { port: ctx.port }), SOCKET_REFUSALS) },

  // /proc of other processes
  readOther('proc-alice-environ', '#17.4 (/proc/[1-9]* widened to all of /proc)', "bob reads alice's worker's /proc/PID/environ", (ctx) => `/proc/${ctx.pids.alice}/environ`),
  readOther('proc-alice-maps', '#17.4', "bob reads alice's worker's /proc/PID/maps", (ctx) => `/proc/${ctx.pids.alice}/maps`),
  readOther('proc-alice-cmdline', '#17.4', "bob reads alice's worker's /proc/PID/cmdline", (ctx) => `/proc/${ctx.pids.alice}/cmdline`),
  readOther('proc-alice-mem', '#17.4', "bob reads alice's worker's memory through /proc/PID/mem", (ctx) => `/proc/${ctx.pids.alice}/mem`),
  readOther('proc-supervisor-environ', '#17.4 (the supervisor\'s environment)', "bob reads the supervisor's /proc/PID/environ", (ctx) => `/proc/${ctx.pids.supervisor}/environ`),
  readOther('proc-front-environ', '#17.4', "bob reads the front's /proc/PID/environ", (ctx) => `/proc/${ctx.pids.front}/environ`),
  readOther('proc-init-environ', '#17.4', "bob reads PID 1's environ", () => '/proc/1/environ'),
  readOther('proc-net-unix', '#17.4 (/proc/net/unix)', 'bob lists every unix socket of the machine (/proc/net/unix)', () => '/proc/net/unix'),

  // environment
  {
    id: 'env-own', item: '#17.4 (the operator\'s secrets in the environment)', title: "the supervisor's secret is not in bob's own environment",
    run: async (ctx) => {
      const a = await bobEval(ctx, 'let own = ""; try { own = require("node:fs").readFileSync("/proc/self/environ", "latin1"); } catch {} return JSON.stringify(process.env) + own;');
      if (!a.ok) return { blocked: false, detail: `could not look: ${JSON.stringify(a.error)}` };
      return { blocked: !String(a.value).includes(ctx.secret), detail: String(a.value).includes(ctx.secret) ? 'HATTER_TEST_SECRET is in bob\'s worker environment' : 'not there' };
    },
  },
  {
    id: 'env-cgi', item: '#17.4', title: "the supervisor's secret is not in the environment of bob's CGI scripts",
    run: async (ctx) => {
      const reply = await http(ctx.port, 'bob.localhost', '/cgi-bin/shell.cgi', { method: 'POST', body: 'cat /proc/self/environ; echo; echo "$HATTER_TEST_SECRET"' });
      return { blocked: reply.status === 200 && !reply.body.includes(ctx.secret), detail: reply.body.includes(ctx.secret) ? 'HATTER_TEST_SECRET is in the CGI environment' : `${reply.status}, not there` };
    },
  },

  // /home: abstractions/base's owner @{HOME}/.Private/** must not open all of /home
  { id: 'home-read', item: '#17.4 (owner @{HOME} rules widened to all of /home)', title: "bob reads another account's file in /home", run: async (ctx) => refused(await bobEval(ctx, 'return require("node:fs").readFileSync(args.path, "utf8");', { path: join(ctx.victimHome, 'notes.txt') }), FS_REFUSALS) },
  {
    id: 'home-write-exec', item: '#17.4 (bob writes and runs a binary in /home)', title: 'bob writes his tool into /home and runs it',
    run: async (ctx) => refused(await bobEval(ctx, `const fs = require('node:fs'); const target = args.dir + '/.bob-' + process.pid;
      fs.writeFileSync(target, fs.readFileSync(args.tool)); fs.chmodSync(target, 0o755);
      const r = require('node:child_process').spawnSync(target, ['caps'], { encoding: 'utf8' }); if (r.error) throw r.error; return 'ran: ' + r.stdout;`, { dir: ctx.victimHome, tool: ctx.tool }), FS_REFUSALS),
  },

  // signals and ptrace towards the other processes of the server
  { id: 'signal-alice-kill', item: '#17.1 (signals)', title: "bob SIGKILLs alice's worker", run: async (ctx) => refused(await tool(ctx, 'kill', String(ctx.pids.alice), '9'), PROCESS_REFUSALS) },
  { id: 'signal-front', item: '#17.1 (signals)', title: 'bob signals the front (SIGCONT, harmless if delivered)', run: async (ctx) => refused(await tool(ctx, 'kill', String(ctx.pids.front), '18'), PROCESS_REFUSALS) },
  { id: 'signal-supervisor', item: '#17.1 (signals)', title: 'bob signals the supervisor (SIGCONT)', run: async (ctx) => refused(await tool(ctx, 'kill', String(ctx.pids.supervisor), '18'), PROCESS_REFUSALS) },
  { id: 'ptrace-alice', item: '#17.1 (ptrace)', title: "bob ptrace-attaches to alice's worker", run: async (ctx) => refused(await tool(ctx, 'ptrace', String(ctx.pids.alice)), PROCESS_REFUSALS) },
  { id: 'ptrace-supervisor', item: '#17.1 (ptrace)', title: 'bob ptrace-attaches to the supervisor', run: async (ctx) => refused(await tool(ctx, 'ptrace', String(ctx.pids.supervisor)), PROCESS_REFUSALS) },
  { id: 'ptrace-front', item: '#17.1 (ptrace)', title: 'bob ptrace-attaches to the front', run: async (ctx) => refused(await tool(ctx, 'ptrace', String(ctx.pids.front)), PROCESS_REFUSALS) },
  { id: 'vmread-alice', item: '#17.1 (ptrace)', title: "bob reads alice's worker's memory with process_vm_readv", run: async (ctx) => refused(await tool(ctx, 'vmread', String(ctx.pids.alice)), PROCESS_REFUSALS) },

  // Host tricks: every spelling of bob's name reaches bob's pool, never alice's
  {
    id: 'host-forms', item: '#17.7 (Host: bob.localhost. is served by alice\'s pool)', title: 'bob.localhost., bob.localhost.:80, BOB.localhost:80 and friends reach bob',
    run: async (ctx) => {
      const bobPage = readFileSync(join(ctx.root, 'bob', 'public', 'index.html'), 'utf8');
      const wrong: string[] = [];
      for (const host of ['bob.localhost', 'bob.localhost.', 'bob.localhost.:80', 'bob.localhost:80', 'BOB.localhost', 'BOB.LOCALHOST.', 'Bob.Localhost:80']) {
        const reply = await http(ctx.port, host, '/').catch((e: Error) => ({ status: 0, body: e.message }));
        if (reply.status !== 200 || reply.body !== bobPage) wrong.push(`${host}: ${reply.status} ${reply.body.trim().slice(0, 60)}`);
      }
      return { blocked: wrong.length === 0, detail: wrong.length ? `not bob's page: ${wrong.join('; ')}` : 'every form reached bob' };
    },
  },

  // resource exhaustion
  { id: 'idle-keepalive-flood', item: '#17.8 (idle keep-alive connections lock a pool out)', title: 'idle keep-alive connections from one client do not lock other clients out', run: keepAliveFlood },
  { id: 'unread-chunked-body', item: '#17.8 (an unread chunked body is never limited)', title: 'a chunked body the handler never reads is cut off near maxBodyBytes', run: unreadChunkedBody },
  { id: 'pipelined-handback', item: '#17.8 (pipelined hand-back hangs instead of 421)', title: 'GET bob, POST alice with a body, GET alice in one write: 421 and close, no hang', run: pipelinedHandBack },

  // setuid last before the IPC forgery: when it succeeds, the worker is no longer bob's and exits
  { id: 'setgid-alice', item: '#17.2 (setuid games)', title: "a program bob runs changes its gid to alice's (setgid)", run: async (ctx) => refused(await tool(ctx, 'setgid', String(ALICE_UID)), ['EPERM', 'EACCES']) },
  { id: 'setuid-alice', item: '#17.2 (setuid games)', title: "bob's worker becomes the uid that owns alice's files (setuid)", run: async (ctx) => {
      const verdict = refused(await bobEval(ctx, 'process.setuid(args.uid); setTimeout(() => process.exit(1), 200); return "uid " + process.getuid() + " (the worker exits: it can no longer serve bob)";', { uid: ALICE_UID }), ['EPERM', 'EACCES']);
      if (!verdict.blocked) await serverHolds(ctx);
      return verdict;
    },
  },
  // IPC forgery: each against a server of its own (one that crashes it must not hide the next)
  forge('ipc-log-lines-number', 'process.send({type:"log", lines:5}) does not take the server down', '[{ type: "log", lines: 5 }]'),
  forge('ipc-stats-malformed', 'malformed stats messages do not take the server down', '[{ type: "stats" }, { type: "stats", requests: "many", errors: null, inFlight: -1, connections: 1e309, histogram: "x" }, { type: "stats", requests: 1, errors: 0, inFlight: 0, connections: 0, histogram: { length: 1e9 } }, { type: "stats", requests: 1, histogram: null }]', true),
  forge('ipc-garbage', 'random and mutated messages do not take the server down',
    `(() => { const out = ["x", 42, [1, 2], { type: 42 }, { type: "__proto__" }, { type: "constructor" }, { type: "handback", bytes: 12 }, { type: "handback" }, { type: "retire", reason: { toString: 1 } }, { type: "log", lines: [1, null, {}] }, { type: "log", lines: { length: 3 } }, { type: "ready" }, { type: "ready" }];
      for (let i = 0; i < 100; i++) out.push({ type: "released" });
      const types = ["ready", "released", "handback", "stats", "log", "retire", "init", "connection", "drain", "", "status?"];
      const values = [null, true, -1, 1e308, "", "x".repeat(1000), [], {}, [1, "a"], { a: { b: {} } }];
      for (let i = 0; i < 200; i++) { const m = { type: types[i % types.length] }; for (const k of ["lines", "bytes", "reason", "requests", "histogram", "label", "type"]) if (Math.random() < 0.4) m[k] = values[Math.floor(Math.random() * values.length)]; out.push(m); }
      return out; })()`),
  // strict mode: the workers' sockets
  {
    id: 'strict-hijack-alice-socket', item: '#17.5 (shared runtime directory: bob takes over alice\'s worker socket)', title: "strict mode: bob unlinks alice's worker socket and listens in its place; alice's requests never reach bob",
    server: 'strict', run: hijackAliceSocket,
  },
];

// ── attacks with more moving parts ────────────────────────────────────────────────────────────────
function firstBlockDevice(): [string, string] {
  const line = readFileSync('/proc/partitions', 'utf8').split('\n').slice(2).find((l) => l.trim());
  const [major, minor] = line ? line.trim().split(/\s+/) : [];
  return major && minor ? [major, minor] : ['7', '0']; // loop0 when the machine lists none
}

function devicePath(): string | undefined {
  const line = readFileSync('/proc/partitions', 'utf8').split('\n').slice(2).find((l) => l.trim());
  const name = line?.trim().split(/\s+/)[3];
  return name && existsSync(`/dev/${name}`) ? `/dev/${name}` : undefined;
}

/** HATTER_PROBE_TIME_SCALE (1 to 5) for slow machines such as the kernel suite's emulated guest. */
function probeTimeScale(): number {
  const scale = Number(process.env['HATTER_PROBE_TIME_SCALE'] ?? '1');
  return Number.isFinite(scale) ? Math.min(5, Math.max(1, scale)) : 1;
}

async function keepAliveFlood(ctx: Context): Promise<Verdict> {
  const attacker: Socket[] = [];
  try {
    // 127.0.0.2 is another client address on loopback: the attacker's connections, idle after one request
    const opened = await Promise.all(Array.from({ length: 96 }, () => new Promise<Socket | undefined>((done) => {
      const s = connect({ host: '127.0.0.1', port: ctx.port, localAddress: '127.0.0.2' });
      s.on('error', () => done(undefined));
      s.once('connect', () => { attacker.push(s); s.write('GET / HTTP/1.1\r\nHost: bob.localhost\r\n\r\n'); });
      s.once('data', () => done(s));
      setTimeout(() => done(s), 3000);
    })));
    const held = opened.filter((s) => s && !s.destroyed).length;
    const probe = async (host: string, path: string): Promise<string> => {
      const started = Date.now();
      // 10 s native; the kernel suite's emulated guest scales it (3x: 30 s, still well under the 60 s idle
      // timeout that would free the attacker's connections by itself and so hide a lock-out)
      const reply = await http(ctx.port, host, path, { timeoutMs: 10_000 * probeTimeScale() }).catch((e: Error) => ({ status: 0, body: e.message }));
      return `${host}${path} ${reply.status} in ${Date.now() - started} ms${reply.status === 200 ? '' : ` (${reply.body.trim().slice(0, 60)})`}`;
    };
    const results = [await probe('bob.localhost', '/'), await probe('alice.localhost', '/hello')];
    return { blocked: results.every((r) => / 200 in /.test(r)), detail: `${held} idle connections from 127.0.0.2; from 127.0.0.1: ${results.join('; ')}` };
  } finally {
    for (const s of attacker) s.destroy();
  }
}

const BODY_LIMIT = 64 * 1024;
/** Bytes a server that stopped reading can still have taken in (socket buffers on loopback are a few MiB). */
const BODY_BOUND = 32 * 1024 * 1024;

function unreadChunkedBody(ctx: Context): Promise<Verdict> {
  return new Promise((done) => {
    const s = connect({ host: '127.0.0.1', port: ctx.port });
    let written = 0;
    let response = '';
    let finished = false;
    const chunk = Buffer.concat([Buffer.from(`${(64 * 1024).toString(16)}\r\n`), Buffer.alloc(64 * 1024, 0x61), Buffer.from('\r\n')]);
    const finish = (blocked: boolean, how: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      s.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 'none';
      done({ blocked, detail: `${how} after ${(written / 1048576).toFixed(1)} MiB written (maxBodyBytes ${BODY_LIMIT}); response status ${status}` });
    };
    const timer = setTimeout(() => finish(false, 'connection neither closed nor limited within 20 s'), 20_000);
    s.on('data', (d) => { response += d.toString('latin1'); });
    s.on('close', () => finish(written <= BODY_BOUND, 'closed by the server'));
    s.on('error', () => finish(written <= BODY_BOUND, 'reset by the server'));
    s.once('connect', () => {
      s.write('POST /hello HTTP/1.1\r\nHost: alice.localhost\r\nTransfer-Encoding: chunked\r\n\r\n');
      const pump = (): void => {
        while (!finished) {
          if (written > BODY_BOUND) { finish(false, `the server kept reading: more than ${BODY_BOUND} bytes of body accepted`); return; }
          written += chunk.length;
          if (!s.write(chunk)) { s.once('drain', pump); return; }
        }
      };
      pump();
    });
  });
}

function pipelinedHandBack(ctx: Context): Promise<Verdict> {
  return new Promise((done) => {
    const s = connect({ host: '127.0.0.1', port: ctx.port });
    let response = '';
    let finished = false;
    const started = Date.now();
    const finish = (closed: boolean): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      s.destroy();
      const statuses = [...response.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
      const blocked = closed && statuses.includes('421');
      done({ blocked, detail: `${closed ? `closed after ${Date.now() - started} ms` : 'HUNG: still open after 20 s'}; statuses ${statuses.join(',') || 'none'}` });
    };
    const timer = setTimeout(() => finish(false), 20_000);
    s.on('data', (d) => { response += d.toString('latin1'); });
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.once('connect', () => s.write('GET / HTTP/1.1\r\nHost: bob.localhost\r\n\r\n'
      + 'POST /hello HTTP/1.1\r\nHost: alice.localhost\r\nContent-Length: 5\r\n\r\nhello'
      + 'GET /hello HTTP/1.1\r\nHost: alice.localhost\r\n\r\n'));
  });
}

/** The unix sockets a process has open, by path (its fds' inodes looked up in /proc/net/unix). */
function unixSocketPaths(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try { const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`)); if (m) inodes.add(m[1]!); } catch { /* closed meanwhile */ }
  }
  return readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 8 && inodes.has(f[6]!) && f[7]!.startsWith('/')).map((f) => f[7]!);
}

async function hijackAliceSocket(ctx: Context): Promise<Verdict> {
  const sockets = [...new Set(unixSocketPaths(ctx.pids.alice).filter((p) => p.endsWith('.sock')))];
  if (sockets.length === 0) return { blocked: false, detail: `alice's worker (pid ${ctx.pids.alice}) has no listening unix socket to attack` };
  const marker = `hijacked-by-bob-${randomBytes(4).toString('hex')}`;
  const attempt = await bobEval(ctx, `const fs = require('node:fs'); const net = require('node:net'); const done = [];
    for (const path of args.sockets) {
      fs.unlinkSync(path); done.push('unlinked ' + path);
      const server = net.createServer((c) => { c.on('data', () => c.end('HTTP/1.1 200 OK\\r\\nContent-Length: ' + args.marker.length + '\\r\\nConnection: close\\r\\n\\r\\n' + args.marker)); });
      await new Promise((ok, no) => { server.on('error', no); server.listen(path, ok); }); done.push('listening on ' + path);
      globalThis.__hijack = (globalThis.__hijack || []).concat(server);
    }
    return done.join('; ');`, { sockets, marker });
  // concurrent requests, so that the front opens new connections to the pool's socket path (it keeps
  // idle ones alive), and again once the idle ones have expired
  const seen: string[] = [];
  for (const wait of [0, 6000]) {
    await new Promise((r) => setTimeout(r, wait));
    const replies = await Promise.all(Array.from({ length: 8 }, () => http(ctx.port, 'alice.localhost', '/hello', { timeoutMs: 5000 }).catch((e: Error) => ({ status: 0, body: e.message }))));
    for (const reply of replies) seen.push(`${reply.status}${reply.body.includes(marker) ? ' FROM BOB' : ''}`);
  }
  const hijacked = seen.some((s) => s.includes('FROM BOB'));
  const served = seen.some((s) => s.startsWith('200') && !s.includes('FROM BOB'));
  return { blocked: !hijacked && served, detail: `bob: ${attempt.ok ? attempt.value : `${attempt.error?.code} ${attempt.error?.message.slice(0, 100)}`}; alice's replies: ${seen.join(', ')}` };
}

// ── the tree, the policy, the server ──────────────────────────────────────────────────────────────
export interface PreparedTree {
  readonly work: string;
  readonly root: string;
  readonly policy: string;
  readonly tool: string;
  readonly victimHome: string;
}

/**
 * The scratch tree: the escape fixtures, bob's web shell and CGI shell, the attack tool compiled into
 * bob's tools directory (an upload), alice's files owned by another uid, a victim home in /home, and
 * the policy with these paths. Throws with a reason when the tool cannot be compiled.
 */
export function prepareTree(work: string): PreparedTree {
  const root = join(work, 'hosting');
  cpSync(join(FIXTURES, 'hosting'), root, { recursive: true });
  const compromised = join(FIXTURES, 'compromised');
  copyFileSync(join(compromised, 'eval.mjs'), join(root, 'bob', 'app', 'eval.mjs'));
  copyFileSync(join(compromised, 'shell.cgi'), join(root, 'bob', 'cgi-bin', 'shell.cgi'));
  for (const script of ['alice/cgi-bin/hello.cgi', 'bob/cgi-bin/attack.cgi', 'bob/cgi-bin/shell.cgi']) chmodSync(join(root, script), 0o755);
  const tool = join(root, 'bob', 'data', 'bin', 'attack-tool');
  const cc = spawnSync('cc', ['-static', '-O1', '-o', tool, join(compromised, 'attack-tool.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cannot compile the attack tool (cc -static): ${cc.error?.message ?? cc.stderr}`);
  chownTree(join(root, 'alice'), ALICE_UID);
  const victimHome = join('/home', `hatter-victim-${randomBytes(4).toString('hex')}`);
  mkdirSync(victimHome, { recursive: true, mode: 0o755 });
  writeFileSync(join(victimHome, 'notes.txt'), 'the victim account\'s notes\n');
  const real = (path: string): string => { try { return realpathSync(path); } catch { return path; } };
  const launcher = findLauncher(process.env, repoRoot);
  const modules = join(repoRoot, 'node_modules');
  const policy = join(work, 'hatter-compromised');
  writeFileSync(policy, readFileSync(join(compromised, 'hatter-compromised'), 'utf8')
    .replace(/^@\{ROOT\}=.*$/m, `@{ROOT}=${real(root)}`)
    .replace(/^@\{HATTER_CODE\}=.*$/m, `@{HATTER_CODE}=${real(compiledRoot)}`)
    .replace(/^@\{HATTER_MODULES\}=.*$/m, `@{HATTER_MODULES}=${real(modules)}`)
    .replace(/^@\{HATTER_LAUNCH\}=.*$/m, (line) => (launcher ? `@{HATTER_LAUNCH}=${real(launcher)}` : line))
    .replace(/^@\{NODE\}=.*$/m, `@{NODE}=${real(process.execPath)}`));
  return { work, root, policy, tool, victimHome };
}

/** prepareTree, and the result in WORK/tree.json for `compromised.js run` (the guest side). */
export function prepareTreeFile(work: string): PreparedTree {
  mkdirSync(work, { recursive: true });
  const tree = prepareTree(work);
  writeFileSync(join(work, 'tree.json'), JSON.stringify(tree));
  return tree;
}

function chownTree(path: string, uid: number): void {
  chownSync(path, uid, uid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory()) chownTree(join(path, entry.name), uid);
    else chownSync(join(path, entry.name), uid, uid);
  }
}

export function cleanTree(tree: PreparedTree): void {
  rmSync(tree.victimHome, { recursive: true, force: true });
}

/**
 * The file-read escape fixtures (test/escape/fixtures) laid out in `work`: the two sites under
 * work/hosting, and the policy at work/hatter-escape with its @{ROOT} set to them.
 */
export function layOutEscapeFixtures(work: string): { root: string; policy: string } {
  const fixtures = join(repoRoot, 'test', 'escape', 'fixtures');
  const root = join(work, 'hosting');
  cpSync(join(fixtures, 'hosting'), root, { recursive: true });
  const policy = join(work, 'hatter-escape');
  writeFileSync(policy, readFileSync(join(fixtures, 'policy', 'hatter-escape'), 'utf8').replace(/^@\{ROOT\}=.*$/m, `@{ROOT}=${root}`));
  return { root, policy };
}

export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createNetServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePromise(port));
    });
  });
}

function configText(tree: PreparedTree, port: number, admin: number, backend: Backend, strict: boolean): string {
  return `listen: 127.0.0.1:${port}
admin: 127.0.0.1:${admin}
policy:
  file: ${tree.policy}
  profile: hatter-compromised
backend: ${backend}
accessLog: ${join(tree.work, strict ? 'access-strict.log' : 'access.log')}
front:
  mode: ${strict ? 'strict' : 'handoff'}
  maxBodyBytes: ${BODY_LIMIT}
  idleTimeoutMs: 60000
pool:
  min: 1
  max: 1
  queue: 8
  connectionsPerWorker: 8
  requestTimeoutMs: 10000
sites:
  - serverName: alice.localhost
    documentRoot: alice/public
    locations:
      - prefix: /hello
        handler: { type: node, module: alice/app/hello.mjs }
  - serverName: bob.localhost
    documentRoot: bob/public
    locations:
      - prefix: /eval
        handler: { type: node, module: bob/app/eval.mjs }
      - prefix: /cgi-bin/
        handler: { type: cgi, root: bob/cgi-bin }
`;
}

/** The supervisor's children, by /proc (pid → command line). */
function childrenOf(pid: number): Map<number, string> {
  const out = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch { /* gone */ }
  }
  return out;
}

interface RunningServer { readonly ctx: Context; readonly stop: () => Promise<void> }

async function startServer(tree: PreparedTree, backend: Backend, strict: boolean, loadPolicy: boolean): Promise<RunningServer> {
  const [port, admin] = [await freePort(), await freePort()];
  const config = join(tree.root, strict ? 'hatter-strict.yaml' : 'hatter.yaml');
  writeFileSync(config, configText(tree, port, admin, backend, strict));
  const secret = `s3cret-${randomBytes(8).toString('hex')}`;
  const launcher = findLauncher(process.env, repoRoot);
  let output = '';
  const server = spawn(process.execPath, [join(compiledRoot, 'src', 'cli', 'bin.js'), 'serve', config, '--backend', backend, ...(loadPolicy ? ['--load-policy'] : [])], {
    cwd: tree.root, env: { ...process.env, HATTER_TEST_SECRET: secret, ...(launcher ? { HATTER_LAUNCHER: launcher } : {}) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout!.on('data', (c) => { output = (output + c).slice(-20_000); });
  server.stderr!.on('data', (c) => { output = (output + c).slice(-20_000); });
  const stop = (): Promise<void> => new Promise((done) => {
    if (server.exitCode !== null || server.signalCode !== null) return done();
    server.once('exit', () => done());
    server.kill('SIGTERM');
    setTimeout(() => { server.kill('SIGKILL'); done(); }, 10_000).unref();
  });
  try {
    const deadline = Date.now() + (backend === 'apparmor' ? 240_000 : 60_000);
    const until = async <T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> => {
      for (;;) {
        if (server.exitCode !== null) throw new Error(`hatter serve exited (${server.exitCode}) before ${what}:\n${output}`);
        const value = await attempt().catch(() => undefined);
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    };
    const alice = await until("alice's worker", async () => { const r = await http(port, 'alice.localhost', '/hello', { timeoutMs: 10_000 }); return r.status === 200 ? (JSON.parse(r.body) as { pid: number }).pid : undefined; });
    const bob = await until("bob's worker", async () => { const a = await bobEval({ port }, 'return process.pid;', {}, 10_000); return a.ok ? Number(a.value) : undefined; });
    const front = [...childrenOf(server.pid!)].find(([, cmd]) => /server\/front\.js\b/.test(cmd))?.[0] ?? 0;
    return {
      ctx: { backend, port, adminPort: admin, root: tree.root, tool: tree.tool, secret, victimHome: tree.victimHome, pids: { supervisor: server.pid!, front, alice, bob }, server, output: () => output },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function runOne(attack: Attack, ctx: Context): Promise<AttackResult> {
  try {
    const verdict = await attack.run(ctx);
    return { id: attack.id, ...verdict };
  } catch (error) {
    return { id: attack.id, blocked: false, detail: `the attack itself failed: ${(error as Error).stack ?? error}` };
  }
}

/**
 * Every attack against servers started here under `backend`: a handoff-mode server for most, one each
 * for the `own` ones, one in strict mode for the strict ones (Landlock only: under AppArmor the hat
 * would have to grant the runtime directory, which the policy does not). `log` gets one line per attack.
 */
export async function runCompromisedSuite(tree: PreparedTree, backend: Backend, options: { loadPolicy?: boolean; log?: (line: string) => void } = {}): Promise<Map<string, AttackResult>> {
  const results = new Map<string, AttackResult>();
  const log = options.log ?? (() => undefined);
  // Under emulation (the AppArmor guest) a server start costs a minute: the `own` attacks run last on
  // the main server there, so one that takes it down also fails the ones after it.
  const own = ATTACKS.filter((a) => a.server === 'own');
  const groups: [boolean, Attack[]][] = backend === 'landlock'
    ? [[false, ATTACKS.filter((a) => a.server === undefined)], ...own.map((a): [boolean, Attack[]] => [false, [a]]), [true, ATTACKS.filter((a) => a.server === 'strict')]]
    : [[false, [...ATTACKS.filter((a) => a.server === undefined), ...own]]];
  for (const [strict, attacks] of groups) {
    if (attacks.length === 0) continue;
    let running: RunningServer;
    try {
      running = await startServer(tree, backend, strict, options.loadPolicy ?? false);
    } catch (error) {
      for (const attack of attacks) results.set(attack.id, { id: attack.id, blocked: false, detail: `the server did not start: ${(error as Error).message.slice(0, 2000)}` });
      continue;
    }
    try {
      for (const attack of attacks) {
        const result = await runOne(attack, running.ctx);
        results.set(attack.id, result);
        log(`${attack.id.padEnd(28)} ${result.blocked ? 'blocked' : 'NOT BLOCKED'}  ${result.detail.replace(/\s+/g, ' ').slice(0, 200)}`);
      }
    } finally {
      await running.stop();
    }
  }
  return results;
}

// `node compromised.js run --work DIR --backend apparmor [--load-policy] --out FILE`: the guest side of
// the real-kernel suite (the tree is prepared on the host with `prepare`, where cc is fast).
//  `node compromised.js prepare --work DIR` prepares it and writes DIR/tree.json.
async function main(argv: readonly string[]): Promise<number> {
  const option = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
  const work = resolve(option('--work') ?? '.');
  if (argv[0] === 'prepare') {
    const tree = prepareTreeFile(work);
    process.stdout.write(`${JSON.stringify(tree)}\n`);
    return 0;
  }
  if (argv[0] === 'run') {
    const tree = JSON.parse(readFileSync(join(work, 'tree.json'), 'utf8')) as PreparedTree;
    mkdirSync(tree.victimHome, { recursive: true });
    if (!existsSync(join(tree.victimHome, 'notes.txt'))) writeFileSync(join(tree.victimHome, 'notes.txt'), 'the victim account\'s notes\n');
    const results = await runCompromisedSuite(tree, (option('--backend') ?? 'apparmor') as Backend, { loadPolicy: argv.includes('--load-policy'), log: (l) => process.stdout.write(`${l}\n`) });
    writeFileSync(option('--out') ?? join(work, 'results.json'), JSON.stringify([...results.values()], null, 1));
    return 0;
  }
  process.stderr.write('usage: compromised.js prepare|run --work DIR [--backend B] [--load-policy] [--out FILE]\n');
  return 2;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // exit explicitly: a connection an attack left to the server's mercy must not keep the guest waiting
  main(process.argv.slice(2)).then((code) => process.exit(code), (error: Error) => { process.stderr.write(`${error.stack}\n`); process.exit(1); });
}
