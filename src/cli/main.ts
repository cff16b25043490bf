// `hatter` entry point: dispatch to a command, turn usage errors into exit 2, never print a stack trace.
import { readFileSync } from 'node:fs';
import { commands } from './commands.js';
import { EXIT_USAGE, processIo, UsageError, type CliIo } from './io.js';

function version(): string {
  // dist/src/cli/main.js → the package root; a build elsewhere (tests use their own outDir) falls
  // back to the working directory's package.json when it is hatter's.
  for (const candidate of [new URL('../../../package.json', import.meta.url), `${process.cwd()}/package.json`]) {
    try {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'hatter' && pkg.version) return pkg.version;
    } catch { /* try the next */ }
  }
  return 'unknown';
}

export function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `hatter: per-site AppArmor confinement for web servers

Usage: hatter COMMAND [OPTIONS] [ARGS]
       hatter COMMAND --help

Commands:
${lines.join('\n')}

Examples:
  npx hatter serve                                   run the two-site demo on http://127.0.0.1:8080
  hatter fmt --check /etc/apparmor.d/usr.sbin.apache2
  hatter check -I /etc/apparmor.d /etc/apparmor.d/php-fpm
  hatter logs /var/log/audit/audit.log --summary

Exit codes: 0 success; 1 a finding (rejected, denied, different, would change); 2 usage or input error.
Every command takes --json for machine-readable output where it prints results.
`;
}

export async function runMain(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    if (name === 'help' && rest[0]) return runMain([rest[0], '--help'], io);
    io.stdout.write(mainHelp());
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`hatter ${version()}\n`);
    return 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    io.stderr.write(`hatter: unknown command '${name}'\nRun 'hatter --help' for the list of commands.\n`);
    return EXIT_USAGE;
  }
  try {
    const { command } = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(command.help.endsWith('\n') ? command.help : `${command.help}\n`);
      return 0;
    }
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`hatter ${name}: ${error.message}\nRun 'hatter ${name} --help' for usage.\n`);
      return EXIT_USAGE;
    }
    // A bug in hatter, not the user's input: say so plainly, with details only on request.
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`hatter ${name}: internal error: ${message}\n`);
    if (io.env.HATTER_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    else io.stderr.write('Set HATTER_DEBUG=1 for details, and please report this as a bug.\n');
    return 70;
  }
}
