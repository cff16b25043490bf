// Benchmark: `hatter check` against `apparmor_parser -QK` on every profile in Debian's /etc/apparmor.d,
// side by side in the same run. Both get all files in one invocation (apparmor_parser accepts several
// files; hatter parses each included file once per run). Also the in-process library time, warm.
//
//   npm run bench -- check
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownTable, machineLine, median, writeBenchSection } from './support/report.js';
import { checkPolicy, createParseCache } from '../src/policy/check/index.js';
import { nodeFileReader } from '../src/policy-node/index.js';

const PROFILE_DIR = '/etc/apparmor.d';
const RUNS = 5;

function profiles(dir: string): string[] {
  return readdirSync(dir).sort()
    .filter((name) => name !== 'README' && !name.startsWith('.'))
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

function timeProcess(command: string, args: string[]): { ms: number; status: number | null } {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, status: result.status };
}

export async function run(repoRoot: string): Promise<void> {
  if (!existsSync(PROFILE_DIR)) {
    process.stdout.write(`check: skipped, ${PROFILE_DIR} not present\n`);
    return;
  }
  const files = profiles(PROFILE_DIR);
  const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'bin.js');
  const haveParser = spawnSync('apparmor_parser', ['--version']).status === 0;

  const hatterCli: number[] = [];
  const hatterLib: number[] = [];
  const parser: number[] = [];
  let parserStatus: number | null = null;
  let hatterStatus: number | null = null;
  for (let i = 0; i < RUNS; i++) {
    const cli = timeProcess(process.execPath, [bin, 'check', '-q', '-I', PROFILE_DIR, ...files]);
    hatterCli.push(cli.ms);
    hatterStatus = cli.status;
    const started = process.hrtime.bigint();
    const reader = nodeFileReader();
    const cache = createParseCache();
    for (const file of files) checkPolicy(file, { reader, workingDirectory: '/', includePaths: [PROFILE_DIR], cache });
    hatterLib.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (haveParser) {
      const reference = timeProcess('apparmor_parser', ['-QK', '-I', PROFILE_DIR, ...files]);
      parser.push(reference.ms);
      parserStatus = reference.status;
    }
  }
  const reference = haveParser ? median(parser) : NaN;
  const rows: (string | number)[][] = [
    ['apparmor_parser -QK (one process, all files)', reference, haveParser ? '1.00' : 'n/a', String(parserStatus)],
    ['hatter check (one process, all files)', median(hatterCli), haveParser ? (reference / median(hatterCli)).toFixed(2) : 'n/a', String(hatterStatus)],
    ['hatter checkPolicy (in-process, warm)', median(hatterLib), haveParser ? (reference / median(hatterLib)).toFixed(2) : 'n/a', '-'],
  ];
  const table = markdownTable({ headers: ['tool', 'median ms', 'speed-up vs apparmor_parser', 'exit status'], rows });
  process.stdout.write(`${table}\n`);
  writeBenchSection(repoRoot, 'check', [
    '## check',
    '',
    `Checking all ${files.length} profiles of Debian's ${PROFILE_DIR} (with their abstractions and tunables), median of ${RUNS} runs.`,
    `apparmor_parser compiles each profile to a DFA as well, which is what makes it slower; hatter builds automata only for exec-mode`,
    `conflict checks. Machine: ${machineLine()}.`,
    '',
    table,
  ].join('\n'));
}
