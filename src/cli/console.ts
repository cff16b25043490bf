// `hatter console`: the web console on its own listener, for an Apache / PHP-FPM host or next to
// `hatter serve`. The HTTP edge and its security live in src/console; this file implements the
// console's services by running the commands themselves in-process (learn, isolate, logs --summary,
// lint) with captured output, so every answer and every write is exactly what the command gives.
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { createConsoleHandler, startConsoleListener, type ChangeOutcome, type ConsoleAnswer, type ConsoleServices, type ConsoleTopic } from '../console/index.js';
import { followFile } from '../logs-node/index.js';
import { loadPolicyFile } from './load-fresh.js';
import { EXIT_OK, EXIT_USAGE, UsageError, parseOptions, type CliIo, type Command } from './io.js';

const HELP = `Usage: hatter console --policy FILE [--log FILE]... [--apache FILE | --fpm FILE | --config hatter.yaml]
                      [--status URL] [--listen HOST:PORT] [--token-file FILE] [-I DIR]...

The web console: every site with its hat, pool and workers; what is being denied right now (pushed
to the page as it is logged); the proposals of hatter learn with their alternatives and witnesses,
applied to the policy with a click; the tenant matrix of hatter isolate; the policy with its include
chains and hatter lint's findings. It answers on loopback unless given another address, and on
every address only with a token: a site's own code runs on this machine and can reach loopback too.
The one thing it writes is a hatter learn proposal into the policy FILE it
was started with (atomically, with a backup, after hatter check and apparmor_parser -QK accept it).

Options:
  --policy FILE         the policy entry (e.g. /etc/apparmor.d/php-fpm); required unless --config names one
  -I, --include DIR     include search path (repeatable; default /etc/apparmor.d)
  --log FILE            an audit log (or a hatter record / serve --learn log) to read and follow;
                        repeatable. Denials and Learn come from these.
  --apache FILE         Apache configuration: vhosts are the sites (tenants)
  --fpm FILE            php-fpm configuration: pools are the sites (tenants)
  --config FILE         hatter.yaml: its sites are the tenants, its policy the default --policy
  --status URL          hatter serve's status page (http://127.0.0.1:8081/_hatter/status): pools,
                        workers and backend on the Sites page; a policy change restarts the pools
  --listen HOST:PORT    where to listen (default 127.0.0.1:8082; port 0 picks a free one)
  --token-file FILE     the token (first line of FILE, at least 16 characters); without it hatter
                        makes one at start and prints it with a one-time login link
  -h, --help            this help

Every request needs the token, on loopback too: 'Authorization: Bearer TOKEN', or open the one-time
login link printed at start (it sets an HttpOnly, SameSite=Strict session cookie). Loopback alone
would not keep the console to the administrator: a compromised site whose hat may open TCP sockets
(for its database, say) can connect to 127.0.0.1 like any local process.

Examples:
  hatter console --policy /etc/apparmor.d/usr.sbin.apache2 --apache /etc/apache2/apache2.conf --log /var/log/audit/audit.log
  hatter console --policy /etc/apparmor.d/php-fpm --fpm /etc/php/8.2/fpm/php-fpm.conf --log /var/log/kern.log
  hatter console --config examples/hosting/hatter.yaml --status http://127.0.0.1:8081/_hatter/status --log hatter-learn.jsonl
  hatter console --listen 192.0.2.10:8443 --token-file /etc/hatter/console.token --policy /etc/apparmor.d/php-fpm

Exit codes: 0 stopped by a signal; 2 usage or input error (no policy, an unusable token file, the
address in use).
`;

const OPTIONS = {
  policy: { type: 'string' },
  include: { type: 'string', short: 'I', multiple: true },
  log: { type: 'string', multiple: true },
  apache: { type: 'string' },
  fpm: { type: 'string' },
  config: { type: 'string' },
  status: { type: 'string' },
  listen: { type: 'string' },
  'token-file': { type: 'string' },
} as const;

/** What the services need: the same inputs as the commands they run. */
export interface ConsoleSources {
  readonly policy: string;
  /** The policy is the one --config names: isolate then reads it from the configuration (the demo's own, made concrete). */
  readonly policyFromConfig?: boolean;
  readonly includeDirs: readonly string[];
  readonly logs: readonly string[];
  readonly apache?: string;
  readonly fpm?: string;
  readonly config?: string;
  /** Serve's status URL (loopback), for Sites and pool restarts. */
  readonly status?: string;
  /** In serve itself: the status without a round trip, and the reload (pool restart) to run after a write. */
  readonly inProcess?: { status(): Record<string, unknown>; reload(): void };
}

interface Captured { code: number; stdout: string; stderr: string }

/** The commands the console runs, loaded directly (not through commands.ts, which lists the console itself). */
const CONSOLE_COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  learn: () => import('./learn.js'),
  isolate: () => import('./isolate.js'),
  logs: () => import('./logs.js'),
  lint: () => import('./lint.js'),
};

/** Run one hatter command in-process with its output captured. */
async function runCommand(name: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Captured> {
  const loader = CONSOLE_COMMANDS[name];
  if (!loader) throw new Error(`no command ${name}`);
  const { command } = await loader();
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (chunk) => { stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'); return true; } },
    stderr: { write: (chunk) => { stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'); return true; } },
    stdin: Readable.from([]), cwd, env, stdoutIsTTY: false, stderrIsTTY: false,
  };
  try {
    return { code: await command.run(args, io), stdout, stderr };
  } catch (error) {
    return { code: EXIT_USAGE, stdout, stderr: `${stderr}${error instanceof Error ? error.message : String(error)}\n` };
  }
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trimEnd()).filter(Boolean);
}

function parseJson(text: string): unknown {
  try { return JSON.parse(text); } catch { return undefined; }
}

/** True when AppArmor is enforcing on this kernel (then a written policy is loaded with apparmor_parser -r). */
function apparmorActive(): boolean {
  try { return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y'; } catch { return false; }
}

export function consoleServices(sources: ConsoleSources, io: Pick<CliIo, 'cwd' | 'env'>): ConsoleServices {
  const tenantArgs = [
    ...(sources.apache ? ['--apache', sources.apache] : []),
    ...(sources.fpm ? ['--fpm', sources.fpm] : []),
    ...(sources.config ? ['--config', sources.config] : []),
  ];
  const includeArgs = sources.includeDirs.flatMap((d) => ['-I', d]);
  const learnArgs = ['--policy', sources.policy, ...includeArgs, ...tenantArgs];
  const run = (name: string, args: string[]) => runCommand(name, args, io.cwd, io.env);
  const isolateArgs = ['--json', ...(sources.policyFromConfig ? [] : ['--policy', sources.policy]), ...includeArgs, ...tenantArgs];

  const serveStatus = async (): Promise<Record<string, unknown> | undefined> => {
    if (sources.inProcess) return sources.inProcess.status();
    if (!sources.status) return undefined;
    try {
      const response = await fetch(sources.status, { signal: AbortSignal.timeout(3000) });
      return (await response.json()) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };

  const tenantsOf = async (): Promise<{ name: string; hats: readonly string[] }[]> => {
    const answer = await run('isolate', isolateArgs);
    const doc = parseJson(answer.stdout) as { tenants?: { name: string; labels: string[] }[] } | undefined;
    return (doc?.tenants ?? []).map((t) => ({ name: t.name, hats: t.labels }));
  };

  /** The answers as the file `hatter learn --answers` reads, in a private scratch directory. */
  const withAnswers = async <T>(answers: readonly ConsoleAnswer[], use: (file: string) => Promise<T>): Promise<T> => {
    const dir = mkdtempSync(join(tmpdir(), 'hatter-console-'));
    try {
      const file = join(dir, 'answers.json');
      writeFileSync(file, JSON.stringify({ answers }), { mode: 0o600 });
      return await use(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  const preview = (answers: readonly ConsoleAnswer[]): Promise<ChangeOutcome> => withAnswers(answers, async (file) => {
    if (sources.logs.length === 0) return { ok: false, diff: '', written: [], messages: ['no --log was given: there is nothing to learn from'] };
    const result = await run('learn', [...learnArgs, '--answers', file, '--dry-run', ...sources.logs]);
    const diff = result.stdout.split('\n').filter((l) => !/^\d+ files? would change|^nothing to change|^in complain mode/.test(l)).join('\n');
    return { ok: result.code !== EXIT_USAGE, diff: result.code === EXIT_USAGE ? '' : diff.trim() ? `${diff.trimEnd()}\n` : '', written: [], messages: [...lines(result.stderr), ...lines(result.stdout).filter((l) => /would change|nothing to change|in complain mode/.test(l)).map((l) => l.replace(/; run again with --write.*$/, ''))] };
  });

  const listeners = new Set<(topic: ConsoleTopic) => void>();
  const send = (topic: ConsoleTopic) => { for (const l of listeners) l(topic); };
  // During a flood a log grows every poll: each page refetches at most every 500 ms (the first change at once).
  const lastSent = new Map<ConsoleTopic, number>();
  const pending = new Set<ConsoleTopic>();
  const emit = (topic: ConsoleTopic) => {
    const wait = (lastSent.get(topic) ?? 0) + 500 - Date.now();
    if (wait <= 0) { lastSent.set(topic, Date.now()); send(topic); return; }
    if (pending.has(topic)) return;
    pending.add(topic);
    setTimeout(() => { pending.delete(topic); lastSent.set(topic, Date.now()); send(topic); }, wait).unref();
  };
  let stopWatching: (() => void) | undefined;
  const startWatching = (): (() => void) => {
    const controller = new AbortController();
    for (const log of sources.logs) {
      void (async () => {
        try {
          // 100 ms polls: a denial reaches the page well within two seconds.
          for await (const chunk of followFile(log, { signal: controller.signal, fromEnd: true, pollMs: 100 })) if (chunk.length) emit('denials');
        } catch { /* the log vanished; Denials says so when it is read */ }
      })();
    }
    let lastWorkers = '';
    const timer = sources.status || sources.inProcess ? setInterval(() => {
      void serveStatus().then((status) => {
        const pools = (status?.pools ?? []) as { workers?: { pid?: number; state?: string }[] }[];
        const key = JSON.stringify(pools.map((p) => (p.workers ?? []).map((w) => `${w.pid}:${w.state}`)));
        if (key !== lastWorkers) { if (lastWorkers) emit('sites'); lastWorkers = key; }
      });
    }, 1000) : undefined;
    timer?.unref();
    return () => { controller.abort(); if (timer) clearInterval(timer); };
  };

  return {
    async sites() {
      const [status, tenants] = await Promise.all([serveStatus(), tenantsOf()]);
      const loaded = loadPolicyFile({ ...io, stdout: { write: () => true }, stderr: { write: () => true }, stdin: Readable.from([]), stdoutIsTTY: false, stderrIsTTY: false }, { file: sources.policy }, { includeDirs: sources.includeDirs });
      const modes = new Map<string, string>();
      const visit = (p: { name: string; mode: string; children: readonly unknown[] }) => { modes.set(p.name, p.mode); for (const c of p.children) visit(c as typeof p); };
      for (const p of loaded.resolved.profiles) visit(p);
      const pools = ((status?.pools ?? []) as Record<string, unknown>[]);
      const hats = new Set(tenants.flatMap((t) => t.hats));
      const site = (name: string, labels: readonly string[]) => {
        const pool = pools.filter((p) => labels.includes(String(p.label)));
        const confinement = pool[0]?.confinement as { widening?: unknown[] } | undefined;
        return {
          name, label: labels.join(', '), mode: labels.map((l) => modes.get(l) ?? 'not in the policy').join(', '),
          ...(pool.length ? { pool: pool.map((p) => p.label).join(', ') } : {}),
          workers: pool.flatMap((p) => ((p.workers ?? []) as Record<string, unknown>[]).map((w) => ({ ...w, label: p.label }))),
          ...(confinement?.widening?.length ? { widening: confinement.widening } : {}),
          ...(status ? {} : { workersNote: sources.status ? `hatter serve does not answer at ${sources.status}` : 'workers are shown when the console runs in hatter serve or is given --status' }),
        };
      };
      const sites = tenants.map((t) => site(t.name, t.hats));
      // Pools of hats no tenant claims (a default hat) are sites too.
      for (const p of pools) if (!hats.has(String(p.label))) sites.push(site(String(p.hat ?? p.label), [String(p.label)]));
      return { source: sources.status ?? sources.config ?? sources.apache ?? sources.fpm ?? sources.policy, ...(status ? { backend: status.backend } : {}), sites };
    },
    async denials() {
      if (sources.logs.length === 0) return { events: 0, groups: [], floods: [], sources: [], note: 'no --log was given' };
      const result = await run('logs', ['--summary', '--json', '--no-progress', ...sources.logs]);
      const doc = parseJson(result.stdout) as Record<string, unknown> | undefined;
      if (!doc) return { events: 0, groups: [], floods: [], sources: sources.logs, note: lines(result.stderr).join(' ') || 'no AppArmor events yet' };
      return { ...doc, sources: sources.logs };
    },
    async learn() {
      if (sources.logs.length === 0) return { groups: [], note: 'no --log was given: there is nothing to learn from' };
      const result = await run('learn', [...learnArgs, '--json', ...sources.logs]);
      const doc = parseJson(result.stdout) as Record<string, unknown> | undefined;
      return doc ? { ...doc, messages: lines(result.stderr) } : { groups: [], note: lines(result.stderr).join(' ') || 'nothing to learn' };
    },
    preview,
    apply: (answers) => withAnswers(answers, async (file) => {
      const before = await preview(answers);
      if (!before.ok) return before;
      const load = apparmorActive() && process.getuid?.() === 0;
      const result = await run('learn', [...learnArgs, '--answers', file, '--write', ...(load ? ['--load'] : []), ...sources.logs]);
      const messages = [...lines(result.stderr), ...lines(result.stdout)];
      const written = messages.flatMap((m) => m.match(/^wrote (\S+)/)?.[1] ?? []);
      if (result.code === EXIT_OK && written.length && !load) {
        if (sources.inProcess) { sources.inProcess.reload(); messages.push('hatter serve reloads its pools with the new policy'); }
        else {
          const status = await serveStatus();
          const pid = status?.pid;
          if (typeof pid === 'number' && isServeProcess(pid)) { process.kill(pid, 'SIGHUP'); messages.push(`sent SIGHUP to hatter serve (pid ${pid}): its pools restart with the new policy`); }
          else if (sources.status) messages.push(`reload hatter serve yourself (kill -HUP its pid): ${sources.status} did not name a hatter serve process of this machine`);
        }
      }
      if (written.length) emit('policy');
      return { ok: result.code === EXIT_OK, diff: before.diff, written, messages };
    }),
    async isolation() {
      const result = await run('isolate', isolateArgs);
      const doc = parseJson(result.stdout) as { tenants?: { name: string }[]; flows?: unknown[]; isolated?: boolean } | undefined;
      if (!doc) return { tenants: [], flows: [], isolated: false, note: lines(result.stderr).join(' ') || 'isolation needs sites: give --config, --apache or --fpm' };
      return { ...doc, tenants: (doc.tenants ?? []).map((t) => t.name) };
    },
    async policy() {
      const quiet = { ...io, stdout: { write: () => true }, stderr: { write: () => true }, stdin: Readable.from([]), stdoutIsTTY: false, stderrIsTTY: false };
      const loaded = loadPolicyFile(quiet, { file: sources.policy }, { includeDirs: sources.includeDirs });
      const chains = new Map<string, string[]>();
      const visit = (p: { rules: readonly { source: { file: string; includeChain: readonly { file: string; line: number }[] } }[]; children: readonly unknown[] }) => {
        for (const rule of p.rules) if (!chains.has(rule.source.file)) chains.set(rule.source.file, rule.source.includeChain.map((c) => `${c.file}:${c.line}`));
        for (const c of p.children) visit(c as typeof p);
      };
      for (const p of loaded.resolved.profiles) visit(p);
      const lint = await run('lint', ['--json', ...includeArgs, ...tenantArgs, sources.policy]);
      const findings = ((parseJson(lint.stdout) as { findings?: unknown[] } | undefined)?.findings ?? []);
      const files = [...loaded.files].map(([path, file]) => ({ path, text: file.text, includedFrom: chains.get(path) ?? [] }));
      return { entry: files[0]?.path, files, findings, diagnostics: loaded.diagnostics.filter((d) => d.severity === 'error') };
    },
    watch(onChange) {
      listeners.add(onChange);
      stopWatching ??= startWatching();
      return () => {
        listeners.delete(onChange);
        if (listeners.size === 0) { stopWatching?.(); stopWatching = undefined; }
      };
    },
  };
}

/** Only a `hatter serve` process is sent SIGHUP: the pid comes from an HTTP answer, so it is checked. */
function isServeProcess(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return pid !== process.pid && argv.some((a) => /hatter/.test(a)) && argv.includes('serve');
  } catch {
    return false;
  }
}

function policyOfConfig(config: string): string | undefined {
  try {
    const text = readFileSync(config, 'utf8');
    const file = text.match(/^policy:\s*\n\s+file:\s*(\S+)/m)?.[1] ?? text.match(/^policy:\s*(\S+)\s*$/m)?.[1];
    return file ? resolve(join(config, '..'), file) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Listen on `listen` (HOST:PORT) with the console's handler over `services`, behind a token (from
 * `tokenFile`, or made here and printed) and a one-time login link, on every address: loopback is
 * reachable by every local process, the confined sites' own code included (any hat with `network inet
 * stream`), and the console can rewrite the policy that keeps those sites apart. An exit code after a
 * message when it cannot start.
 */
export async function openConsole(io: CliIo, listen: string, tokenFile: string | undefined, services: ConsoleServices, what: string): Promise<{ close(): Promise<void> } | number> {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  if (!match || Number(match[3]) > 65535) throw new UsageError(`'${listen}' is not HOST:PORT`);
  const host = match[1] ?? match[2]!;
  let token: string;
  if (tokenFile !== undefined) {
    try { token = readFileSync(resolve(io.cwd, tokenFile), 'utf8').split('\n')[0]!.trim(); } catch (error) {
      io.stderr.write(`${tokenFile}:1:1: error console/unreadable-token: cannot read the token file: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`);
      return EXIT_USAGE;
    }
    if (token.length < 16) { io.stderr.write(`${tokenFile}:1:1: error console/weak-token: the token must be at least 16 characters\n`); return EXIT_USAGE; }
  } else {
    token = randomBytes(24).toString('base64url');
  }
  let started;
  try {
    started = await startConsoleListener(host, Number(match[3]), (allowedHosts) => createConsoleHandler({ services, allowedHosts, token }));
  } catch (error) {
    io.stderr.write(`hatter console: cannot listen on ${listen}: ${(error as NodeJS.ErrnoException).code ?? String(error)} [console/listen-failed]\n`);
    return EXIT_USAGE;
  }
  const shown = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown === '0.0.0.0' || shown === '[::]' ? '127.0.0.1' : shown}:${started.port}`;
  io.stderr.write(`hatter console: ${url}/ (${what})\n`);
  if (tokenFile === undefined) io.stderr.write(`hatter console: token ${token} (send 'Authorization: Bearer TOKEN')\n`);
  io.stderr.write(`hatter console: one-time login link ${url}${started.handler.loginPath()}\n`);
  const { server, handler } = started;
  return {
    async close() {
      handler.close();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

export const command: Command = {
  name: 'console',
  summary: 'the web console: sites, live denials, learn in the browser, isolation, policy with lint',
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, OPTIONS);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (logs are given with --log FILE)`);
    const config = values.config !== undefined ? resolve(io.cwd, values.config) : undefined;
    const policy = values.policy !== undefined ? resolve(io.cwd, values.policy) : config ? policyOfConfig(config) : undefined;
    if (policy === undefined) throw new UsageError('--policy FILE is required: the policy entry the console shows and learns into');
    if (!existsSync(policy)) { io.stderr.write(`${values.policy ?? policy}:1:1: error console/unreadable-policy: cannot read the policy\n`); return EXIT_USAGE; }
    const logs = (values.log ?? []).map((l) => resolve(io.cwd, l));
    const services = consoleServices({
      policy, includeDirs: (values.include ?? []).map((d) => resolve(io.cwd, d)), logs,
      ...(values.apache !== undefined ? { apache: resolve(io.cwd, values.apache) } : {}),
      ...(values.fpm !== undefined ? { fpm: resolve(io.cwd, values.fpm) } : {}),
      ...(config ? { config } : {}),
      ...(values.policy === undefined ? { policyFromConfig: true } : {}),
      ...(values.status !== undefined ? { status: values.status } : {}),
    }, io);
    const started = await openConsole(io, values.listen ?? '127.0.0.1:8082', values['token-file'], services, `policy ${policy}${logs.length ? `, logs ${logs.join(', ')}` : ''}`);
    if (typeof started === 'number') return started;
    await new Promise<void>((done) => {
      const stop = () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); done(); };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await started.close();
    io.stderr.write('hatter console: stopped\n');
    return EXIT_OK;
  },
};
