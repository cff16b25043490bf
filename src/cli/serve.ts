// hatter serve: the confining web server. Argument parsing and output only; the work is in src/server.
import { closeSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { EXIT_OK, EXIT_USAGE, parseOptions, UsageError, type CliIo, type Command } from './io.js';
import { LearningBackend } from './learn-backend.js';
import type { DenialsFollower } from './serve-denials.js';
import { DEFAULT_COUNTER_OPTIONS, findStrace, RecordingSession, StraceRecorder } from '../record/index.js';
import { formatDiagnostic, hasErrors } from '../policy/index.js';
import {
  BACKEND_CHOICES, MAX_PHP_FPM_START_TIMEOUT_MS, demoConfigPath, formatListenAddress, loadConfigFile, parseListenAddress, prepareServe, selectBackend,
  ServeError, sitesNeedingPhpFpm, startServer, type BackendChoice, type ServeOverrides,
} from '../server/index.js';

const help = `hatter serve: a web server that runs each site's handlers in worker processes confined to the site's hat

Usage:
  hatter serve [CONFIG] [--listen HOST:PORT] [--admin HOST:PORT|off] [--backend auto|apparmor|landlock|none]
               [--load-policy] [--php-fpm-start-timeout SECONDS] [-v]
  hatter serve [CONFIG] --learn [--learn-log FILE] [--learn-interval SECONDS] ...
  hatter serve [CONFIG] --backend landlock --denials-log FILE [--audit-log FILE] ...
  hatter serve --apache FILE [--listen HOST:PORT] ...

With no CONFIG, serves the embedded demo (examples/hosting: alice.localhost and bob.localhost) on
127.0.0.1:8080, with the status page on 127.0.0.1:8081; with php-fpm installed each site also has a
PHP page, /php/, run by a PHP-FPM master in the site's hat.

Options:
  --listen HOST:PORT   listen here instead of the configured addresses
  --admin HOST:PORT    the admin listener (GET /_hatter/status); 'off' disables it
  --backend NAME       auto (default: AppArmor if the policy is loaded, else Landlock), apparmor,
                       landlock, or none (no confinement at all: for trying things out only)
  --load-policy        AppArmor: load (replace) the configured policy with apparmor_parser -r before
                       checking that the parent profile and every hat are in the kernel (needs root)
  --php-fpm-start-timeout SECONDS
                       how long each PHP-FPM master hatter starts may take to listen on its socket
                       (default: phpFpm.startTimeoutMs in CONFIG, else 30); a slow host needs more
  -v, --verbose        print every way Landlock widens each hat at startup (default: one line per pool;
                       the status page always has the full list)
  --learn              record what every pool does instead of confining it (strace; no AppArmor or root
                       needed): events labelled with each pool's profile//hat (a helper the policy
                       execs with Px/Cx: with its own profile), for 'hatter learn'.
                       The workers run UNCONFINED while learning. See docs/record.md
  --learn-log FILE     where the events go, appended as JSON lines (default hatter-learn.jsonl)
  --learn-interval S   identical events are written once per S seconds with a count (default 10)
  --denials-log FILE   Landlock: append the kernel's Landlock denials of every hat's workers to FILE as
                       JSON lines (hatter logs --json's form, labelled PARENT//HAT by the pid that created
                       each domain); --console follows it. Needs Linux 6.15+ (Landlock ABI 7) and the
                       kernel's audit on (auditctl -e 1); read from /dev/kmsg (root) unless --audit-log
  --audit-log FILE     with --denials-log: read the Landlock records from this audit log (auditd's
                       /var/log/audit/audit.log) instead of /dev/kmsg
  --denials-interval S identical denials are written once per S seconds with a count (default 10)
  --apache FILE        take sites, DocumentRoot, Location and AAHatName/AADefaultHatName from an Apache configuration
  --access-log WHERE   stdout (default), off, or a file (JSON lines)
  --console HOST:PORT  also serve the web console (docs/console.md) here, in this process: sites with
                       their live workers, denials, learn (a written change reloads the pools),
                       isolation, policy. Every request needs the token printed at start (open the
                       one-time login link), on loopback too
  --console-log FILE   the audit log the console reads and follows (repeatable; default with --learn:
                       the learn log; with --denials-log: the denials log)
  -h, --help           this text

Signals: SIGHUP reloads the configuration and the policy without dropping connections; SIGTERM (or
Ctrl-C) drains requests in flight and stops.

Examples:
  npx hatter serve
  curl -H 'Host: bob.localhost' 'http://127.0.0.1:8080/read?path=alice/secret.txt'
  hatter serve /etc/hatter/hatter.yaml --listen 0.0.0.0:80
  hatter serve --backend none --listen 127.0.0.1:9000
  hatter serve --learn --learn-log demo.jsonl      # then: hatter learn demo.jsonl
  sudo hatter serve /etc/hatter/hatter.yaml --backend apparmor --load-policy
  curl http://127.0.0.1:8081/_hatter/status
  hatter serve --learn --console 127.0.0.1:8082      # then open the login link it prints
  sudo hatter serve --backend landlock --denials-log denials.jsonl --console 127.0.0.1:8082   # the kernel's denials, live

Exit codes: 0 stopped cleanly; 2 usage error, invalid configuration, busy port or no confinement backend.
`;

export const command: Command = {
  name: 'serve',
  summary: 'serve sites with each site\'s handlers confined to its own hat',
  help,
  async run(args: string[], io: CliIo): Promise<number> {
    let parsed;
    try {
      parsed = parseOptions(args, {
        listen: { type: 'string' },
        admin: { type: 'string' },
        backend: { type: 'string' },
        apache: { type: 'string' },
        'access-log': { type: 'string' },
        'load-policy': { type: 'boolean' },
        'php-fpm-start-timeout': { type: 'string' },
        learn: { type: 'boolean' },
        'learn-log': { type: 'string' },
        'learn-interval': { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        console: { type: 'string' },
        'console-log': { type: 'string', multiple: true },
        'denials-log': { type: 'string' },
        'audit-log': { type: 'string' },
        'denials-interval': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      });
      if (parsed.values.help) { io.stdout.write(help); return EXIT_OK; }
      if (parsed.positionals.length > 1) throw new UsageError('at most one CONFIG file');
      if (parsed.positionals.length && parsed.values.apache) throw new UsageError('give either CONFIG or --apache FILE, not both');
      if (!parsed.values.learn && (parsed.values['learn-log'] !== undefined || parsed.values['learn-interval'] !== undefined)) throw new UsageError('--learn-log and --learn-interval go with --learn');
      if (parsed.values['console-log'] !== undefined && parsed.values.console === undefined) throw new UsageError('--console-log goes with --console HOST:PORT');
      if (parsed.values['denials-log'] === undefined && (parsed.values['audit-log'] !== undefined || parsed.values['denials-interval'] !== undefined)) throw new UsageError('--audit-log and --denials-interval go with --denials-log');
      if (parsed.values.learn && parsed.values['denials-log'] !== undefined) throw new UsageError('--denials-log follows Landlock\'s denials; --learn confines nothing: leave one out');
      if (parsed.values.learn && parsed.values.backend !== undefined) throw new UsageError('--learn records instead of confining: leave out --backend');
    } catch (error) {
      if (error instanceof UsageError) { io.stderr.write(`hatter serve: ${error.message}\n(see hatter serve --help)\n`); return EXIT_USAGE; }
      throw error;
    }
    const values = parsed.values;
    const overrides: { -readonly [K in keyof ServeOverrides]: ServeOverrides[K] } = {};
    if (values.listen !== undefined) {
      const address = parseListenAddress(values.listen);
      if (!address) { io.stderr.write(`hatter serve: --listen '${values.listen}' is not HOST:PORT\n`); return EXIT_USAGE; }
      overrides.listen = address;
    }
    if (values.admin !== undefined) {
      if (values.admin === 'off') overrides.admin = null;
      else {
        const address = parseListenAddress(values.admin);
        if (!address) { io.stderr.write(`hatter serve: --admin '${values.admin}' is not HOST:PORT or off\n`); return EXIT_USAGE; }
        overrides.admin = address;
      }
    }
    if (values.backend !== undefined) {
      if (!(BACKEND_CHOICES as readonly string[]).includes(values.backend)) { io.stderr.write(`hatter serve: --backend must be one of ${BACKEND_CHOICES.join(', ')}\n`); return EXIT_USAGE; }
      overrides.backend = values.backend as BackendChoice;
    }
    if (values['php-fpm-start-timeout'] !== undefined) {
      const text = values['php-fpm-start-timeout'];
      const ms = /^\d+(\.\d+)?$/.test(text) ? Math.round(Number(text) * 1000) : NaN;
      if (!(ms >= 1 && ms <= MAX_PHP_FPM_START_TIMEOUT_MS)) {
        io.stderr.write(`hatter serve: --php-fpm-start-timeout '${text}' is not a number of seconds from 0.001 to ${MAX_PHP_FPM_START_TIMEOUT_MS / 1000}\n`);
        return EXIT_USAGE;
      }
      overrides.phpFpmStartTimeoutMs = ms;
    }
    if (values['access-log'] !== undefined) overrides.accessLog = values['access-log'] === 'stdout' || values['access-log'] === 'off' ? values['access-log'] : resolvePath(io.cwd, values['access-log']);

    let file: string;
    let demo = false;
    let loaded;
    if (values.apache !== undefined) {
      const { loadApacheServeConfig } = await import('../server/index.js');
      loaded = await loadApacheServeConfig(resolvePath(io.cwd, values.apache));
      file = resolvePath(io.cwd, values.apache);
    } else if (parsed.positionals[0] !== undefined) {
      file = resolvePath(io.cwd, parsed.positionals[0]);
      loaded = loadConfigFile(file);
    } else {
      const found = demoConfigPath(io.cwd);
      if (!found) { io.stderr.write('hatter serve: the embedded demo (examples/hosting/hatter.yaml) is not in this installation; give a CONFIG file\n'); return EXIT_USAGE; }
      file = found;
      demo = true;
      loaded = loadConfigFile(file);
    }
    const result = prepareServe(loaded, overrides, demo);
    for (const d of result.diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
    if (!result.prepared || hasErrors(result.diagnostics)) {
      io.stderr.write(`hatter serve: ${file}: invalid configuration, not started\n`);
      return EXIT_USAGE;
    }
    const prepared = result.prepared;
    if (values['load-policy'] && (prepared.config.backend === 'landlock' || prepared.config.backend === 'none')) {
      io.stderr.write(`hatter serve: --load-policy loads AppArmor policy; it does nothing with --backend ${prepared.config.backend}\n`);
    }
    let learning: Learning | undefined;
    if (values.learn) {
      const started = startLearning(resolvePath(io.cwd, values['learn-log'] ?? 'hatter-learn.jsonl'), values['learn-interval'], io);
      if (typeof started === 'number') return started;
      learning = started;
    }
    const { backend, reason } = learning ? { backend: learning.backend, reason: await learning.backend.probe().then((p) => p.reason) } : await selectBackend(prepared.config, prepared.hats, { loadPolicy: values['load-policy'] === true });
    if (!backend) {
      io.stderr.write(`hatter serve: ${reason}\n`);
      return EXIT_USAGE;
    }
    const output = {
      info: (line: string) => { io.stderr.write(`${line}\n`); },
      warn: (line: string) => { io.stderr.write(`${line}\n`); },
    };
    if (learning) io.stderr.write(LEARN_BANNER);
    else if (backend.name === 'none') io.stderr.write(NONE_BANNER);
    // Started before the workers: the kernel names a domain's creator once, with the domain's first denial.
    let confined: () => ReadonlyMap<number, string> = () => new Map();
    let denials: DenialsFollower | undefined;
    if (values['denials-log'] !== undefined) {
      const started = await startDenials(values, backend.name, reason, () => confined(), io);
      if (typeof started === 'number') return started;
      denials = started;
    }
    // A signal during startup must not kill the supervisor with its children half started.
    let stopDuringStartup = false;
    const earlyStop = (): void => { stopDuringStartup = true; };
    process.on('SIGTERM', earlyStop);
    process.on('SIGINT', earlyStop);
    let running;
    try {
      running = await startServer(prepared, backend, reason, output, values.apache === undefined ? { file, overrides, demo } : undefined, { verbose: values.verbose === true });
    } catch (error) {
      learning?.stop();
      denials?.stop();
      if (error instanceof ServeError) { io.stderr.write(`hatter serve: ${error.message} [${error.code}]\n`); return EXIT_USAGE; }
      throw error;
    } finally {
      process.off('SIGTERM', earlyStop);
      process.off('SIGINT', earlyStop);
    }
    if (stopDuringStartup) running.supervisor.enqueue('stop');
    const supervisor = running.supervisor;
    confined = () => supervisor.confinedProcesses();
    const urls = supervisor.addresses.map((a) => `http://${formatListenAddress(a)}/`);
    io.stderr.write(`hatter serve: ${prepared.config.sites.length} site(s) from ${file}\n`);
    io.stderr.write(`hatter serve: listening on ${urls.join(', ')}; backend ${reason}\n`);
    if (supervisor.adminAddress) io.stderr.write(`hatter serve: status page http://${formatListenAddress(supervisor.adminAddress)}/_hatter/status\n`);
    if (demo) io.stderr.write(demoInstructions(formatListenAddress(supervisor.addresses[0]!), backend.name, sitesNeedingPhpFpm(prepared.config).length > 0));
    if (learning) io.stderr.write(LEARN_BANNER);
    else if (backend.name === 'none') io.stderr.write(NONE_BANNER);

    let webConsole: { close(): Promise<void> } | undefined;
    if (values.console !== undefined) {
      // The console runs here, in the supervisor, not in the front: the front parses untrusted input
      // and must never be able to write policy (docs/console.md).
      const { consoleServices, openConsole } = await import('./console.js');
      const policyFile = prepared.config.policy.file;
      const logs = (values['console-log'] ?? []).map((l) => resolvePath(io.cwd, l));
      if (learning && logs.length === 0) logs.push(resolvePath(io.cwd, values['learn-log'] ?? 'hatter-learn.jsonl'));
      if (denials && logs.length === 0) logs.push(resolvePath(io.cwd, values['denials-log']!));
      if (policyFile === undefined) io.stderr.write('hatter serve: --console needs a policy file in the configuration; the console is not started\n');
      else {
        const services = consoleServices({
          policy: resolvePath(dirname(file), policyFile), includeDirs: [], logs,
          ...(values.apache !== undefined ? { apache: file } : { config: file, policyFromConfig: true }),
          inProcess: { status: () => supervisor.status(), reload: () => supervisor.enqueue('reload') },
        }, io);
        const opened = await openConsole(io, values.console, undefined, services, `sites of ${file}`).catch((error: Error) => { io.stderr.write(`hatter serve: --console: ${error.message}\n`); return EXIT_USAGE; });
        if (typeof opened === 'number') { supervisor.enqueue('stop'); await supervisor.run(); learning?.stop(); denials?.stop(); return opened; }
        webConsole = opened;
      }
    }
    const onHup = (): void => supervisor.enqueue('reload');
    const onStop = (): void => supervisor.enqueue('stop');
    process.on('SIGHUP', onHup);
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    try {
      await supervisor.run();
    } finally {
      process.off('SIGHUP', onHup);
      process.off('SIGTERM', onStop);
      process.off('SIGINT', onStop);
      learning?.stop();
      denials?.stop();
      await webConsole?.close();
    }
    io.stderr.write('hatter serve: stopped\n');
    return EXIT_OK;
  },
};

/**
 * serve --denials-log: follow the kernel's Landlock records (docs/serve.md, "Landlock denials"), or an exit
 * code after a message. Audit off is a warning, not an error: the log fills once it is switched on.
 */
async function startDenials(
  values: { 'denials-log'?: string; 'audit-log'?: string; 'denials-interval'?: string },
  backendName: string, reason: string, confinedProcesses: () => ReadonlyMap<number, string>, io: CliIo,
): Promise<DenialsFollower | number> {
  if (backendName !== 'landlock') {
    io.stderr.write(`hatter serve: --denials-log reads Landlock's audit records; the backend is ${backendName} (with AppArmor, give the console the audit log: --console-log /var/log/audit/audit.log) [serve/denials-not-landlock]\n`);
    return EXIT_USAGE;
  }
  const interval = intervalSeconds('--denials-interval', values['denials-interval'], io);
  if (interval === undefined) return EXIT_USAGE;
  const abi = /Landlock ABI (\d+)/.exec(reason);
  if (abi && Number(abi[1]) < 7) io.stderr.write(`hatter serve: warning: Landlock ABI ${abi[1]} (Linux before 6.15) writes no audit records; the denials log stays empty [serve/landlock-audit-unsupported]\n`);
  const source = values['audit-log'] !== undefined ? resolvePath(io.cwd, values['audit-log']) : '/dev/kmsg';
  const denialsLog = resolvePath(io.cwd, values['denials-log']!);
  const { followLandlockDenials } = await import('./serve-denials.js');
  const { findLauncher, kernelAuditEnabled } = await import('../confine/index.js');
  if (source === '/dev/kmsg' && kernelAuditEnabled(findLauncher()) === false) {
    io.stderr.write('hatter serve: warning: the kernel\'s audit is off, so Landlock logs no denial; switch it on with: auditctl -e 1 [serve/landlock-audit-off]\n');
  }
  try {
    const follower = followLandlockDenials({
      source, denialsLog, intervalMs: interval * 1000,
      confinedProcesses,
      warn: (line) => { io.stderr.write(`${line}\n`); },
    });
    io.stderr.write(`hatter serve: Landlock denials from ${source} go to ${denialsLog}\n`);
    return follower;
  } catch (error) {
    io.stderr.write(`hatter serve: --denials-log: cannot read ${source} or write the log: ${(error as Error).message}${source === '/dev/kmsg' ? ' (reading /dev/kmsg needs root; or give --audit-log FILE)' : ''} [serve/denials-source]\n`);
    return EXIT_USAGE;
  }
}

interface Learning {
  readonly backend: LearningBackend;
  stop(): void;
}

/** serve --learn: the recording session and its backend, or an exit code after a message. */
function startLearning(learnLog: string, intervalText: string | undefined, io: CliIo): Learning | number {
  const interval = intervalSeconds('--learn-interval', intervalText, io);
  if (interval === undefined) return EXIT_USAGE;
  const strace = findStrace(io.env['PATH']);
  if (!strace) { io.stderr.write("hatter serve: --learn needs strace; install the Debian package 'strace' (apt-get install strace)\n"); return EXIT_USAGE; }
  let fd: number;
  try {
    // A log: appended to, never truncated, like an audit log.
    fd = openSync(learnLog, 'a', 0o600);
  } catch (error) {
    io.stderr.write(`hatter serve: cannot open the learn log ${learnLog}: ${(error as Error).message}\n`);
    return EXIT_USAGE;
  }
  const session = new RecordingSession(new StraceRecorder(strace), { write: (text) => { writeSync(fd, text); } }, {
    counter: { ...DEFAULT_COUNTER_OPTIONS, intervalMs: interval * 1000 },
    ...(process.getuid ? { uid: process.getuid() } : {}),
  });
  let stopped = false;
  return {
    backend: new LearningBackend(session, learnLog),
    stop: () => {
      if (stopped) return;
      stopped = true;
      session.stop();
      closeSync(fd);
      io.stderr.write(`hatter serve: learning: ${session.seen} events, ${session.written} lines written to ${learnLog}${session.dropped ? ` (${session.dropped} dropped over the cap)` : ''}\n`);
    },
  };
}

const LEARN_BANNER = `
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!!  LEARNING, UNCONFINED: --learn records what every pool does (strace) and applies NO kernel  !!
!!  confinement. Every site's handlers can read and write whatever this user can, including    !!
!!  the other sites' files. Exercise the sites, stop, then run hatter learn on the learn log.  !!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!

`;

/** A coalescing interval in seconds (default 10), or undefined after a message when it is not a positive number. */
function intervalSeconds(option: string, text: string | undefined, io: CliIo): number | undefined {
  const interval = text === undefined ? 10 : Number(text);
  if (interval > 0 && Number.isFinite(interval)) return interval;
  io.stderr.write(`hatter serve: ${option} '${text}' is not a positive number of seconds\n`);
  return undefined;
}

function resolvePath(cwd: string, path: string): string {
  return path.startsWith('/') ? path : `${cwd.replace(/\/$/, '')}/${path}`;
}

const NONE_BANNER = `
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!!  UNCONFINED: backend 'none' applies NO kernel confinement. Every site's handlers can read    !!
!!  and write whatever this user can, including the other sites' files. Use it to try things,  !!
!!  never to host. (The status page says so too.)                                              !!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!

`;

function demoInstructions(address: string, backend: string, php: boolean): string {
  const confined = backend !== 'none';
  const phpLines = php
    ? `  curl -H 'Host: bob.localhost' http://${address}/php/           # bob's PHP page (its own PHP-FPM master, in bob's hat) tries alice's secret
`
    : `  (PHP pages: install php-fpm (apt-get install php-fpm) and start the demo again: each site then gets
   /php/, served by a PHP-FPM master hatter starts in the site's hat.)
`;
  return `
The demo: two sites, each served by workers confined to its own hat of examples/hosting/policy/hatter-demo.
  curl -H 'Host: alice.localhost' http://${address}/              # alice's static page
  curl -H 'Host: alice.localhost' http://${address}/hello         # a Node.js handler (says which hat it runs in)
  curl -H 'Host: alice.localhost' http://${address}/cgi-bin/hello.cgi   # a CGI script
  curl -H 'Host: alice.localhost' 'http://${address}/read?path=alice/secret.txt'   # alice reads her own secret
  curl -H 'Host: bob.localhost' 'http://${address}/read?path=alice/secret.txt'     # bob tries to read alice's secret
The last one is a deliberately vulnerable handler: ${confined ? "bob's hat stops it (403, EACCES)." : 'with the none backend it SUCCEEDS, because nothing is confined.'}
${phpLines}(Browsers resolve *.localhost to 127.0.0.1: http://alice.localhost:${address.split(':').pop()}/ works too.)

`;
}
