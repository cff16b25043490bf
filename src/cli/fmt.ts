// `hatter fmt`: format policy files in the canonical style (stdout, --check or --write).
import { realpathSync } from 'node:fs';
import { encodeSource, hasErrors } from '../policy/index.js';
import { formatPolicy } from '../policy/format/index.js';
import { diagnosticToJson } from '../policy/index.js';
import { writeFileAtomic } from './atomic-write.js';
import { InputError, readPolicyInput, writeDiagnostics, type PolicyInput } from './parse.js';
import { EXIT_FINDING, EXIT_OK, EXIT_USAGE, parseOptions, UsageError, type Command } from './io.js';

const help = `Usage: hatter fmt [--check | --write] [--json] FILE...

Format AppArmor policy files in hatter's canonical style: 2-space indentation, one rule per line,
single spaces, permissions in the order m r w a l k then the exec mode, sorted capability and
signal lists, 'include' instead of '#include'. Comments stay with the rule they describe; any
statement with a syntax error is kept exactly as written. FILE may be '-' for standard input.
See docs/policy-syntax.md for the full style.

Options:
  (none)     write the formatted text to stdout
  --check    change nothing; list the files that would change, exit 1 if any would
  --write    rewrite files in place (atomically, keeping their mode) when they change;
             files with syntax errors are left untouched
  --json     with --check or --write: print [{file, changed, written, diagnostics}] to stdout
  -h, --help

Examples:
  npx hatter fmt examples/policy/usr.sbin.apache2-sites
  hatter fmt --check /etc/apparmor.d/usr.sbin.apache2
  hatter fmt --write /etc/apparmor.d/local/*

Exit codes: 0 nothing to report; 1 a file would change (--check) or has syntax errors;
2 usage error, or a file is missing, unreadable or (--write) cannot be written.
`;

export const command: Command = {
  name: 'fmt',
  summary: 'format policy files in the canonical style (--check, --write)',
  help,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, {
      check: { type: 'boolean' },
      write: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (values.check && values.write) throw new UsageError('--check and --write cannot be combined');
    if (values.json && !values.check && !values.write) throw new UsageError('--json needs --check or --write');
    if (positionals.length === 0) throw new UsageError('no FILE given');
    if (values.write && positionals.includes('-')) throw new UsageError("--write cannot rewrite standard input ('-')");
    let exit = EXIT_OK;
    const report: unknown[] = [];
    const finding = () => { if (exit === EXIT_OK) exit = EXIT_FINDING; };
    for (const arg of positionals) {
      let input: PolicyInput;
      try {
        input = await readPolicyInput(arg, io);
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        io.stderr.write(`hatter fmt: ${error.message}\n`);
        exit = EXIT_USAGE;
        continue;
      }
      const result = formatPolicy(input.text, input.name);
      writeDiagnostics(io, result.diagnostics);
      if (result.keptOriginal) {
        io.stderr.write(`hatter fmt: ${input.name}: left as written: the formatted text would not have meant the same (a hatter bug, please report it)\n`);
      }
      const broken = hasErrors(result.diagnostics);
      if (broken) finding();
      let written = false;
      if (values.check) {
        if (result.changed) {
          finding();
          if (!values.json) io.stdout.write(`${input.name}: would be reformatted\n`);
        }
      } else if (values.write) {
        if (broken) {
          if (result.changed) io.stderr.write(`hatter fmt: ${input.name}: not rewritten because it has syntax errors\n`);
        } else if (result.changed && input.path) {
          // Through a symlink (/etc/apparmor.d/disable/*, force-complain/*) rewrite the file it points
          // at: renaming over the link itself would turn it into a detached copy.
          try {
            writeFileAtomic(realpathSync(input.path), encodeSource(result.text, input.encoding));
            written = true;
            if (!values.json) io.stdout.write(`${input.name}: reformatted\n`);
          } catch (error) {
            // The file is left as it was (the writer removes its temporary file); say why, go on.
            const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
            io.stderr.write(`hatter fmt: ${input.name}: cannot write the formatted file (${reason}); left unchanged\n`);
            exit = EXIT_USAGE;
          }
        }
      } else {
        io.stdout.write(encodeSource(result.text, input.encoding));
      }
      if (values.json) report.push({ file: input.name, changed: result.changed, written, diagnostics: result.diagnostics.map(diagnosticToJson) });
    }
    if (values.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return exit;
  },
};
