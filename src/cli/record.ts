// hatter record: run one program under strace and write what it did as `hatter logs --json` events.
import { closeSync, fsyncSync, openSync, realpathSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { formatDiagnostic } from '../policy/diagnostic/index.js';
import { nodeFileReader } from '../policy-node/index.js';
import { findExecutable, findStrace, policyTransitions, RecordingSession, stopTraced, StraceRecorder, type ExecTransitions, type RecordingOutput } from '../record/index.js';
import { EXIT_OK, EXIT_USAGE, parseOptions, UsageError, type CliIo, type Command } from './io.js';
import { loadAndCompile } from './load-fresh.js';

const help = `hatter record: run a program under strace and write what it did as AppArmor-style events

Usage:
  hatter record [--out FILE] [--profile NAME] [--policy FILE] [--interval SECONDS] [--cap N] -- COMMAND [ARGS...]

Every file the program (and every child it forks) opens, creates, renames, links, removes or executes,
every socket it connects, binds or listens on, every signal it sends and the capabilities that can be
inferred (chown to another user, binding a port below 1024) become one JSON line each, in the schema of
'hatter logs --json' (type ALLOWED; failed attempts keep their error; a missing file opened for reading
is a HINT: at most a suggestion). 'hatter learn' reads the file like an audit log. Needs strace
(Debian package 'strace'); no root and no AppArmor.

Options:
  --out FILE          write the events here (replaced atomically at the end; default: standard output)
  --profile NAME      the label of the events (default: the program's resolved path, as aa-genprof names it)
  --policy FILE       follow this policy's exec transitions: a program the profile runs with Px/Cx is
                      recorded under its target profile, one run with Ux not at all
  --interval SECONDS  identical events are written once per interval with a count (default 10)
  --cap N             at most N distinct events per interval; more are dropped and counted (default 10000)
  -h, --help          this text

Children that exec another program stay in the same profile (like an 'ix' rule) unless --policy sends
the program elsewhere; see docs/record.md.
Ctrl-C stops the program and the recording; what was recorded is kept.

Examples:
  hatter record --out ls.jsonl -- ls /etc
  hatter record --profile php-fpm --out fpm.jsonl -- php-fpm8.2 -F -y /etc/php/8.2/fpm/php-fpm.conf
  hatter learn ls.jsonl

Exit codes: 0 recorded (the program's own exit status is printed); 2 usage error, program not found,
or strace missing.
`;

export const command: Command = {
  name: 'record',
  summary: 'run a program under strace and record what it does as events for hatter learn',
  help,
  async run(args: string[], io: CliIo): Promise<number> {
    const split = args.indexOf('--');
    const own = split < 0 ? args : args.slice(0, split);
    const program = split < 0 ? [] : args.slice(split + 1);
    let values;
    try {
      const parsed = parseOptions(own, {
        out: { type: 'string' },
        profile: { type: 'string' },
        policy: { type: 'string' },
        interval: { type: 'string' },
        cap: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      });
      values = parsed.values;
      if (values.help) { io.stdout.write(help); return EXIT_OK; }
      if (parsed.positionals.length) throw new UsageError(`put the program after '--': hatter record -- ${parsed.positionals.join(' ')}`);
      if (!program.length) throw new UsageError('no program to record: hatter record -- COMMAND [ARGS...]');
    } catch (error) {
      if (error instanceof UsageError) { io.stderr.write(`hatter record: ${error.message}\n(see hatter record --help)\n`); return EXIT_USAGE; }
      throw error;
    }
    const interval = values.interval === undefined ? 10 : Number(values.interval);
    const cap = values.cap === undefined ? 10_000 : Number(values.cap);
    if (!(interval > 0) || !Number.isFinite(interval)) { io.stderr.write(`hatter record: --interval '${values.interval}' is not a positive number of seconds\n`); return EXIT_USAGE; }
    if (!Number.isInteger(cap) || cap < 1) { io.stderr.write(`hatter record: --cap '${values.cap}' is not a positive whole number\n`); return EXIT_USAGE; }

    const strace = findStrace(io.env['PATH']);
    if (!strace) {
      io.stderr.write("hatter record: strace is not installed; install the Debian package 'strace' (apt-get install strace)\n");
      return EXIT_USAGE;
    }
    const executable = findExecutable(program[0]!, io.env['PATH'], io.cwd);
    if (!executable) {
      io.stderr.write(`hatter record: ${program[0]}: command not found (or not executable)${program[0]!.includes('/') ? '' : ' on PATH'}\n`);
      return EXIT_USAGE;
    }
    const profile = values.profile ?? realpathSync(executable);
    let transitions: ExecTransitions | undefined;
    if (values.policy !== undefined) {
      const loaded = loadAndCompile(io, { file: values.policy }, nodeFileReader(), {});
      if (!loaded.ok) {
        for (const d of loaded.diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
        io.stderr.write(`hatter record: cannot follow the exec transitions of ${values.policy}\n`);
        return EXIT_USAGE;
      }
      if (!loaded.compiled.profiles.has(profile)) io.stderr.write(`hatter record: warning: ${values.policy} has no profile '${profile}' (--profile): no exec of the program changes profile\n`);
      transitions = policyTransitions(loaded.compiled);
    }

    const out = values.out === undefined ? undefined : values.out.startsWith('/') ? values.out : join(io.cwd, values.out);
    let output: RecordingOutput & { close(): void };
    try {
      output = out === undefined ? { write: (text) => { io.stdout.write(text); }, close: () => undefined } : new ReplacingFile(out);
    } catch (error) {
      io.stderr.write(`hatter record: cannot write ${out}: ${(error as Error).message}\n`);
      return EXIT_USAGE;
    }
    const session = new RecordingSession(new StraceRecorder(strace), output, {
      counter: { intervalMs: interval * 1000, cap },
      ...(process.getuid ? { uid: process.getuid() } : {}),
      ...(transitions ? { transitions } : {}),
    });
    const observed = session.observe(executable, program.slice(1), profile, io.cwd);
    const child = spawn(observed.command, observed.args, { cwd: io.cwd, env: io.env, stdio: 'inherit', argv0: 'strace' });
    // Ctrl-C reaches the program (same terminal process group); a SIGINT or SIGTERM sent to hatter alone
    // is passed on. Either way the program ends and the recording is kept.
    let exited = false;
    const forward = (signal: NodeJS.Signals) => (): void => { if (child.pid !== undefined) stopTraced(child.pid, signal, () => exited); };
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const status = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => { exited = true; resolve({ code, signal }); });
    });
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    session.ended(observed.follower);
    session.stop();
    output.close();
    for (const d of session.diagnostics.slice(0, 20)) io.stderr.write(`trace:${d.line}: ${d.code}: ${d.message}\n`);
    if (session.diagnostics.length > 20) io.stderr.write(`hatter record: ${session.diagnostics.length - 20} more trace diagnostics not shown\n`);
    if (status.error) { io.stderr.write(`hatter record: cannot start strace: ${status.error.message}\n`); return EXIT_USAGE; }
    const how = status.signal ? `was killed by ${status.signal}` : `exited with ${status.code}`;
    io.stderr.write(`hatter record: ${basename(executable)} ${how}; ${session.seen} events, ${session.written} distinct written${out ? ` to ${out}` : ''}${session.dropped ? `; ${session.dropped} dropped over the cap` : ''}\n`);
    return EXIT_OK;
  },
};

/** Lines go to a temporary file next to `path`, which replaces `path` on close: never a half-written file. */
class ReplacingFile implements RecordingOutput {
  private readonly temporary: string;
  private readonly fd: number;

  constructor(private readonly path: string) {
    this.temporary = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
    this.fd = openSync(this.temporary, 'wx', 0o644);
  }

  write(text: string): void {
    writeSync(this.fd, text);
  }

  close(): void {
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
      renameSync(this.temporary, this.path);
    } catch (error) {
      try { unlinkSync(this.temporary); } catch { /* already gone */ }
      throw error;
    }
  }
}
