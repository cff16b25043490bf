// `hatter parse`: parse policy files; report syntax diagnostics, re-print the CST, or dump the AST.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { decodeSource, diagnosticToJson, encodeSource, formatDiagnostic, hasErrors, type Diagnostic } from '../policy/index.js';
import { parsePolicy, printTree } from '../policy/syntax/index.js';
import { buildPolicyModel, policyToJson } from '../policy/model/index.js';
import { EXIT_FINDING, EXIT_OK, EXIT_USAGE, parseOptions, readAll, UsageError, type CliIo, type Command } from './io.js';

const help = `Usage: hatter parse [--print | --json] FILE...

Parse AppArmor policy files with hatter's lossless parser. Diagnostics go to stderr as
FILE:LINE:COL: error: MESSAGE [code]. FILE may be '-' for standard input.

Options:
  --print   write the text re-printed from the syntax tree to stdout (byte for byte the input)
  --json    write the AST as JSON to stdout: one object {file, encoding, diagnostics, ast} per
            file (an array when several files are given); spans are {file, line, col, endLine, endCol}
  -h, --help

Examples:
  hatter parse /etc/apparmor.d/usr.sbin.apache2
  hatter parse --print /etc/apparmor.d/php-fpm | cmp - /etc/apparmor.d/php-fpm
  hatter parse --json examples/policy/usr.sbin.apache2-sites | jq '.ast.items[] | select(.kind=="Profile") | .name.value'
  cat profile | hatter parse -

Exit codes: 0 every file parsed without syntax errors; 1 some file has syntax errors;
2 usage error, or a file is missing or unreadable.
`;

export interface PolicyInput {
  /** The name shown in diagnostics: as given on the command line, `<stdin>` for `-`. */
  readonly name: string;
  /** Absolute path; undefined for stdin. */
  readonly path: string | undefined;
  readonly text: string;
  readonly encoding: 'utf8' | 'latin1';
}

/** A file that cannot be read: reported as `hatter CMD: message`, exit 2. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** Read a policy file (or stdin for `-`), decoded so that re-encoding gives the same bytes. */
export async function readPolicyInput(arg: string, io: CliIo): Promise<PolicyInput> {
  if (arg === '-') {
    const { text, encoding } = decodeSource(await readAll(io.stdin));
    return { name: '<stdin>', path: undefined, text, encoding };
  }
  const path = resolve(io.cwd, arg);
  let bytes: Buffer;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) throw new InputError(`${arg}: is a directory (name the policy files inside it)`);
    // A device or FIFO (/dev/zero, /dev/tty) would be read forever or block: use '-' for a stream.
    if (!stat.isFile()) throw new InputError(`${arg}: not a regular file (use - to read standard input)`);
    bytes = readFileSync(path);
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `${arg}: no such file` : `${arg}: cannot read (${code ?? String(error)})`);
  }
  const { text, encoding } = decodeSource(bytes);
  return { name: arg, path, text, encoding };
}

export function writeDiagnostics(io: CliIo, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
}

export const command: Command = {
  name: 'parse',
  summary: 'parse policy files; print them back losslessly or as a JSON AST',
  help,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, {
      print: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (values.print && values.json) throw new UsageError('--print and --json cannot be combined');
    if (positionals.length === 0) throw new UsageError('no FILE given');
    let exit = EXIT_OK;
    const jsonOut: unknown[] = [];
    for (const arg of positionals) {
      let input: PolicyInput;
      try {
        input = await readPolicyInput(arg, io);
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        io.stderr.write(`hatter parse: ${error.message}\n`);
        exit = EXIT_USAGE;
        continue;
      }
      const parsed = parsePolicy(input.text, input.name);
      writeDiagnostics(io, parsed.diagnostics);
      if (hasErrors(parsed.diagnostics) && exit === EXIT_OK) exit = EXIT_FINDING;
      if (values.print) io.stdout.write(encodeSource(printTree(parsed.root), input.encoding));
      if (values.json) {
        const { policy } = buildPolicyModel(parsed);
        jsonOut.push({
          file: input.name,
          encoding: input.encoding,
          diagnostics: parsed.diagnostics.map(diagnosticToJson),
          ast: policyToJson(policy, input.text),
        });
      }
    }
    if (values.json) io.stdout.write(`${JSON.stringify(positionals.length === 1 ? jsonOut[0] ?? null : jsonOut, null, 2)}\n`);
    return exit;
  },
};
