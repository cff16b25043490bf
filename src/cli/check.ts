// `hatter check`: apparmor_parser-compatible acceptance check of policy files, offline.
import { resolve } from 'node:path';
import { createParseCache, diagnosticToJson, formatDiagnostic, hasErrors, lookupInclude } from '../policy/index.js';
import { nodeFileReader } from '../policy-node/index.js';
import { readFeatures } from './load-policy.js';
import { loadPolicyFile } from './load-fresh.js';
import { EXIT_FINDING, EXIT_OK, EXIT_USAGE, UsageError, parseOptions, readAll, type CliIo, type Command } from './io.js';

const HELP = `Usage: hatter check [--features FILE] [-I DIR]... [--json | --format apparmor] [--quiet] FILE...

Check AppArmor policy files the way apparmor_parser would: includes, variables, conditionals,
every rule class, exec-mode conflicts. Each FILE is an independent policy (like one
apparmor_parser run per file). Use - to read a policy from stdin (its relative includes
resolve against the current directory). A directory stands for the profile files directly in it
(skipping README, dot files and package-manager leftovers, as apparmor_parser does).

Options:
  -I, --include DIR   add DIR to the include search path (default /etc/apparmor.d); repeatable
  --features FILE     check against this kernel feature set (the format of apparmor_parser -M,
                      e.g. a flattened /sys/kernel/security/apparmor/features); default: the
                      newest policy language
  --json              one JSON object per file and line:
                      {"file","ok","diagnostics":[{"file","line","col","severity","code","message"}]}
  --format apparmor   print like apparmor_parser on stderr ("AppArmor parser error for FILE in
                      profile FILE at line N: MESSAGE", first error only) instead of
                      file:line:col lines
  -q, --quiet         print errors only (no warnings)
  -h, --help          show this help

Examples:
  hatter check /etc/apparmor.d/usr.sbin.apache2
  hatter check -I ./apparmor.d ./apparmor.d/php-fpm ./apparmor.d/usr.sbin.apache2
  hatter check --features features.all -I simple_tests - < case.sd
  hatter check -q /etc/apparmor.d
  hatter check --json /etc/apparmor.d | jq 'select(.ok == false)'

Exit status: 0 every file accepted, 1 some file rejected, 2 usage error or unreadable input.
Diagnostic codes are documented in docs/diagnostics.md.`;

export const command: Command = {
  name: 'check',
  summary: 'check AppArmor policy files like apparmor_parser (offline)',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseOptions(args, {
      include: { type: 'string', short: 'I', multiple: true },
      features: { type: 'string' },
      json: { type: 'boolean' },
      format: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return EXIT_OK;
    }
    if (positionals.length === 0) throw new UsageError('no policy file given (use - for stdin)');
    const format = values.format ?? 'hatter';
    if (format !== 'hatter' && format !== 'apparmor') throw new UsageError(`--format must be 'hatter' or 'apparmor', not '${format}'`);
    const reader = nodeFileReader();
    const features = await readFeatures(io, values.features);
    // A directory argument stands for its profile files, as with apparmor_parser.
    const inputs: string[] = [];
    for (const name of positionals) {
      if (name !== '-' && reader.kind(resolve(io.cwd, name)) === 'directory') {
        const found = lookupInclude(resolve(io.cwd, name), 'quoted', [], io.cwd, reader);
        const prefix = name.endsWith('/') ? name : `${name}/`;
        if (found.found) inputs.push(...found.files.map((file) => prefix + file.slice(file.lastIndexOf('/') + 1)));
      } else {
        inputs.push(name);
      }
    }
    const cache = createParseCache();
    let anyRejected = false;
    let unreadable = false;
    let stdinUsed = false;
    for (const name of inputs) {
      let text: string | undefined;
      let file: string;
      if (name === '-') {
        if (stdinUsed) throw new UsageError("'-' (stdin) can be given only once");
        stdinUsed = true;
        const bytes = await readAll(io.stdin);
        text = bytes.toString('latin1');
        file = '-';
      } else {
        file = name;
      }
      const result = loadPolicyFile(io, { file, ...(text !== undefined ? { bytes: Buffer.from(text, 'latin1') } : {}) }, {
        includeDirs: values.include ?? [], cache, ...(features ? { features } : {}),
      });
      if (result.unreadable) unreadable = true;
      const ok = !hasErrors(result.diagnostics);
      if (!ok) anyRejected = true;
      const shown = values.quiet ? result.diagnostics.filter((d) => d.severity === 'error') : result.diagnostics;
      if (format === 'apparmor' && !values.json) {
        // apparmor_parser's wording and habits: only the first error (it stops there), no warnings
        // (it prints deprecation notices only under --warn=deprecated).
        const name = file === '-' ? 'stdin' : file;
        const firstError = shown.find((d) => d.severity === 'error');
        if (firstError) io.stderr.write(`AppArmor parser error for ${name} in profile ${firstError.file === '-' ? 'stdin' : firstError.file} at line ${firstError.line}: ${firstError.message}\n`);
      } else if (values.json) {
        io.stdout.write(`${JSON.stringify({ file, ok, diagnostics: shown.map(diagnosticToJson) })}\n`);
      } else {
        for (const d of shown) io.stdout.write(`${formatDiagnostic(d)}\n`);
        if (!values.quiet && inputs.length > 1) io.stderr.write(`${file}: ${ok ? 'accepted' : 'rejected'}\n`);
      }
    }
    if (unreadable) return EXIT_USAGE;
    return anyRejected ? EXIT_FINDING : EXIT_OK;
  },
};
