// Run the CLI in-process with captured output (fast), or as a real child process when a test
// needs process behaviour (signals, exit codes of the bin, stdin from a pipe).
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { runMain } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { cliMain, repoRoot } from './repo.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(args: string[], options: { stdin?: string | Buffer; cwd?: string; env?: NodeJS.ProcessEnv; stdoutIsTTY?: boolean; stderrIsTTY?: boolean } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (chunk) => { stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'); return true; } },
    stderr: { write: (chunk) => { stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'); return true; } },
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdoutIsTTY: options.stdoutIsTTY ?? false,
    stderrIsTTY: options.stderrIsTTY ?? false,
  };
  const code = await runMain(args, io);
  return { code, stdout, stderr };
}

/** Run the compiled CLI as a separate node process. */
export function runCliProcess(args: string[], options: { stdin?: string | Buffer; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
  const result = spawnSync(process.execPath, [cliMain.replace(/main\.js$/, 'bin.js'), ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    input: options.stdin,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: result.status ?? 128, stdout: result.stdout, stderr: result.stderr };
}
