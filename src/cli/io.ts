// The CLI's view of the outside world, so commands can run in-process in tests with captured output.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type { ParseArgsConfig };

export interface OutputStream {
  write(chunk: string | Uint8Array): unknown;
}

export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** True when stdout is a terminal: colour and progress only then. */
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
}

export interface Command {
  readonly name: string;
  /** One line for `hatter --help`. */
  readonly summary: string;
  /** Full `hatter NAME --help` text: usage, options, examples, exit codes. */
  readonly help: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** Exit codes shared by every command. */
export const EXIT_OK = 0;
export const EXIT_FINDING = 1; // rejected, denied, different, would change
export const EXIT_USAGE = 2; // usage or input error

/** A mistake in how the command was called: printed with a pointer to --help, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** util.parseArgs with strict checking; its errors become UsageErrors with readable messages. */
export function parseOptions<T extends Options>(args: string[], options: T): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    cwd: process.cwd(),
    env: process.env,
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
  };
}

/** Read all of stdin (for `-` and --jsonl inputs). */
export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk as Buffer);
  return Buffer.concat(chunks);
}
