// `hatter aare`: match paths against AppArmor globs and compare globs as sets of paths.
import {
  canonicalizePath, comparePatterns, compilePattern, formatWitness, matches,
  type AareKind, type Automaton, type Comparison, type Witness,
} from '../policy/aare/index.js';
import { diagnosticToJson, formatDiagnostic, type Diagnostic } from '../policy/index.js';
import { createInterface } from 'node:readline';
import { EXIT_FINDING, EXIT_OK, EXIT_USAGE, parseOptions, UsageError, type CliIo, type Command } from './io.js';

const help = `hatter aare: match paths against AppArmor globs (AARE) and compare globs as sets

Usage:
  hatter aare match [--kind KIND] [--json] PATTERN PATH...
  hatter aare match --jsonl [--kind KIND] < requests.jsonl
  hatter aare compare [--kind KIND] [--json] PATTERN_A PATTERN_B

match     prints 'match PATH' or 'nomatch PATH' for each path. Paths are canonicalized first
          (repeated slashes collapse); give directories with a trailing '/', as AppArmor does.
--jsonl   reads one JSON object per line on stdin, {"pattern": "...", "paths": ["..."]}, and writes
          {"pattern": "...", "results": [true, false, ...]} or {"pattern": "...", "error": "..."}
          per line (a line may also carry "kind").
compare   prints how the two patterns relate as sets of paths: equal, subset (A inside B), superset,
          overlap or disjoint; then the shortest witness strings: 'only in A: W', 'only in B: W',
          'in both: W' (non-printable bytes and glob characters are shown escaped as in AARE).

Options:
  --kind path|glob_null   path (default): file rules; glob_null: dbus/mount/label fields
                          (? and * exclude '/', NUL may appear, no slash filtering)
  --json                  machine-readable output
  -h, --help              this text

Examples:
  hatter aare match '/srv/www/*/htdocs/**' /srv/www/site1/htdocs/index.php /srv/www/site1/
  hatter aare compare '/tmp/**' '/tmp/{,**}'          # subset; only in B: /tmp/
  echo '{"pattern":"/proc/*","paths":["/proc/1","/proc/"]}' | hatter aare match --jsonl

Exit codes:
  match:    0 every path matches; 1 some path does not match; 2 invalid pattern or usage error
  --jsonl:  0 when stdin was processed (per-line problems are reported in the line's "error")
  compare:  0 the patterns are equal; 1 they differ; 2 invalid pattern or usage error
`;

function kindOption(value: string | undefined): AareKind {
  if (value === undefined || value === 'path') return 'path';
  if (value === 'glob_null') return 'glob_null';
  throw new UsageError(`--kind must be 'path' or 'glob_null', not '${value}'`);
}

function printDiagnostics(io: CliIo, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
}

const origin = (name: string) => ({ file: name, line: 1, col: 1 });

async function runMatch(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    kind: { type: 'string' }, json: { type: 'boolean' }, jsonl: { type: 'boolean' },
  });
  const kind = kindOption(values.kind);
  if (values.jsonl) {
    if (positionals.length) throw new UsageError('--jsonl reads patterns and paths from stdin; give no arguments');
    return runJsonl(io, kind);
  }
  const [pattern, ...paths] = positionals;
  if (pattern === undefined || paths.length === 0) throw new UsageError('aare match needs a PATTERN and at least one PATH');
  const compiled = compilePattern(pattern, { kind, origin: origin('<pattern>') });
  if (!compiled.ok) {
    if (values.json) io.stdout.write(`${JSON.stringify({ pattern, diagnostics: compiled.diagnostics.map(diagnosticToJson) })}\n`);
    printDiagnostics(io, compiled.diagnostics);
    return EXIT_USAGE;
  }
  if (!values.json) printDiagnostics(io, compiled.diagnostics);
  const results = paths.map((path) => matches(compiled.automaton, kind === 'path' ? canonicalizePath(path) : path));
  if (values.json) {
    io.stdout.write(`${JSON.stringify({
      pattern,
      results: paths.map((path, i) => ({ path, match: results[i] })),
      diagnostics: compiled.diagnostics.map(diagnosticToJson),
    })}\n`);
  } else {
    paths.forEach((path, i) => io.stdout.write(`${results[i] ? 'match' : 'nomatch'} ${path}\n`));
  }
  return results.every(Boolean) ? EXIT_OK : EXIT_FINDING;
}

async function runJsonl(io: CliIo, defaultKind: AareKind): Promise<number> {
  const cache = new Map<string, { automaton: Automaton } | { error: string }>();
  const compile = (pattern: string, kind: AareKind) => {
    const key = `${kind}\u0000${pattern}`;
    let entry = cache.get(key);
    if (!entry) {
      const compiled = compilePattern(pattern, { kind });
      entry = compiled.ok
        ? { automaton: compiled.automaton }
        : { error: compiled.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.message} [${d.code}] at column ${d.col}`).join('; ') };
      if (cache.size > 10_000) cache.clear();
      cache.set(key, entry);
    }
    return entry;
  };
  let out = '';
  // Line by line as stdin arrives, so a long batch is neither held in memory nor delayed.
  for await (const line of createInterface({ input: io.stdin, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    let request: unknown;
    try {
      request = JSON.parse(line);
    } catch {
      out += `${JSON.stringify({ pattern: null, error: 'line is not valid JSON' })}\n`;
      continue;
    }
    const record = typeof request === 'object' && request !== null && !Array.isArray(request) ? request as Record<string, unknown> : undefined;
    const pattern = record?.pattern;
    const paths = record?.paths;
    if (typeof pattern !== 'string' || !Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) {
      out += `${JSON.stringify({ pattern: typeof pattern === 'string' ? pattern : null, error: 'expected {"pattern": string, "paths": [string, ...]}' })}\n`;
      continue;
    }
    let kind = defaultKind;
    if (record!.kind !== undefined) {
      if (record!.kind !== 'path' && record!.kind !== 'glob_null') {
        out += `${JSON.stringify({ pattern, error: '"kind" must be "path" or "glob_null"' })}\n`;
        continue;
      }
      kind = record!.kind;
    }
    const entry = compile(pattern, kind);
    if ('error' in entry) {
      out += `${JSON.stringify({ pattern, error: entry.error })}\n`;
      continue;
    }
    const results = (paths as string[]).map((path) => matches(entry.automaton, kind === 'path' ? canonicalizePath(path) : path));
    out += `${JSON.stringify({ pattern, results })}\n`;
    if (out.length > 1 << 16) { io.stdout.write(out); out = ''; }
  }
  io.stdout.write(out);
  return EXIT_OK;
}

function witnessJson(w: Witness | undefined): string | undefined {
  return w === undefined ? undefined : w.text;
}

async function runCompare(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(args, { kind: { type: 'string' }, json: { type: 'boolean' } });
  const kind = kindOption(values.kind);
  if (positionals.length !== 2) throw new UsageError('aare compare needs exactly two patterns');
  const [a, b] = positionals as [string, string];
  const result = comparePatterns(a, b, { kind, origin: origin('<pattern>') });
  if (!result.ok) {
    if (values.json) io.stdout.write(`${JSON.stringify({ a, b, diagnostics: result.diagnostics.map(diagnosticToJson) })}\n`);
    printDiagnostics(io, result.diagnostics);
    return EXIT_USAGE;
  }
  const comparison: Comparison = result;
  if (values.json) {
    io.stdout.write(`${JSON.stringify({
      a, b, relation: comparison.relation,
      onlyInA: witnessJson(comparison.onlyInA), onlyInB: witnessJson(comparison.onlyInB), inBoth: witnessJson(comparison.inBoth),
    })}\n`);
  } else {
    let text = `${comparison.relation}\n`;
    if (comparison.onlyInA) text += `only in A: ${formatWitness(comparison.onlyInA)}\n`;
    if (comparison.onlyInB) text += `only in B: ${formatWitness(comparison.onlyInB)}\n`;
    if (comparison.inBoth) text += `in both: ${formatWitness(comparison.inBoth)}\n`;
    io.stdout.write(text);
  }
  return comparison.relation === 'equal' ? EXIT_OK : EXIT_FINDING;
}

export const command: Command = {
  name: 'aare',
  summary: 'match paths against AppArmor globs and compare globs as sets',
  help,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'match') return runMatch(rest, io);
    if (sub === 'compare') return runCompare(rest, io);
    throw new UsageError(sub === undefined ? 'aare needs a subcommand: match or compare' : `unknown aare subcommand '${sub}' (match, compare)`);
  },
};
