// `hatter status`: aa-status from securityfs and /proc, plus each web worker's hat against the configuration.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { prefixedHostFiles, DEBIAN_LAYOUT, installedPhpVersions, readHostApache, readHostFpm, aaStatusJson, readApparmorState, workerHats } from '../host/index.js';
import type { FpmConfig } from '../web/index.js';
import { EXIT_FINDING, EXIT_OK, EXIT_USAGE, UsageError, parseOptions, type CliIo, type Command } from './io.js';

const HELP = `Usage: hatter status [--json] [--root DIR] [--prefix DIR]

What aa-status shows, read from /sys/kernel/security/apparmor and /proc: the loaded profiles by mode
and the confined processes by profile and hat (profile//hat labels). Then, what aa-status cannot
show: for every Apache worker and PHP-FPM pool worker, the hat it is in right now and whether that is
where the configuration (/etc/apache2, /etc/php/*/fpm) puts it: an Apache worker between requests is
in its profile and during one in a hat some vhost names; a PHP-FPM worker is in its pool's
apparmor_hat.

Options:
  --json        one JSON document: aa-status --json's fields (version, profiles {name: mode},
                processes {exe: [{profile, pid, status}]}) plus "workers" [{pid, server, pool?, label,
                expected, matches, note}] and "unconfinedWithProfile" [{pid, exe, profile,
                command}]: processes a loaded profile's attachment matches that are unconfined
                (started before the profile was loaded)
  --root DIR    read sys/ and proc/ under DIR instead of / (a copy, or a test's fake tree)
  --prefix DIR  read the Apache and PHP-FPM configuration under DIR
  -h, --help    show this help

Examples:
  hatter status
  hatter status --json | jq '.workers[] | select(.matches | not)'

Exit status: 0 every web worker is where its configuration puts it; 1 one is not; 2 usage error, or
AppArmor is not enabled (hatter then says what it can still do).`;

export const command: Command = {
  name: 'status',
  summary: 'loaded profiles and confined processes (like aa-status), and each web worker\'s hat against the configuration',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseOptions(args, {
      json: { type: 'boolean' },
      root: { type: 'string' },
      prefix: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) { io.stdout.write(`${HELP}\n`); return EXIT_OK; }
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const root = values.root !== undefined ? resolve(io.cwd, values.root) : '/';
    if (!existsSync(root)) throw new UsageError(`--root ${values.root} does not exist`);
    const prefix = values.prefix !== undefined ? resolve(io.cwd, values.prefix) : undefined;
    const state = readApparmorState(root);
    if (!state.enabled) {
      const message = `AppArmor is not enabled: ${state.reason}.`;
      const still = 'hatter can still check, query and compare policies (check, query, diff, which-hat), and confine sites with Landlock: hatter serve --backend landlock.';
      if (values.json) io.stdout.write(`${JSON.stringify({ enabled: false, reason: state.reason, message: `${message} ${still}` }, null, 2)}\n`);
      else io.stderr.write(`hatter status: ${message}\n${still}\n`);
      return EXIT_USAGE;
    }
    const host = prefixedHostFiles(prefix);
    const apache = readHostApache(host).apache;
    const fpm: FpmConfig[] = installedPhpVersions(host).map((v) => readHostFpm(host, v).fpm).filter((c): c is FpmConfig => c !== undefined);
    const workers = workerHats(state.processes, { ...(apache ? { apache } : {}), fpm, apacheProfile: DEBIAN_LAYOUT.apacheProfile, fpmProfile: DEBIAN_LAYOUT.fpmProfile });
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ ...aaStatusJson(state), unconfinedWithProfile: state.unconfinedWithProfile, workers }, null, 2)}\n`);
    } else {
      const out: string[] = [`apparmor module is loaded.`, `${state.profiles.length} profiles are loaded.`];
      const modes = [...new Set(state.profiles.map((p) => p.mode))].sort();
      for (const mode of modes) {
        const list = state.profiles.filter((p) => p.mode === mode);
        out.push(`${list.length} profiles are in ${mode} mode.`, ...list.map((p) => `   ${p.name}`));
      }
      out.push(`${state.processes.length} processes have profiles defined.`);
      for (const mode of [...new Set(state.processes.map((p) => p.mode))].sort()) {
        const list = state.processes.filter((p) => p.mode === mode);
        out.push(`${list.length} processes are in ${mode} mode.`, ...list.map((p) => `   ${p.exe} (${p.pid}) ${p.label}`));
      }
      out.push(`${state.unconfinedWithProfile.length} processes are unconfined but have a profile defined.`, ...state.unconfinedWithProfile.map((p) => `   ${p.exe} (${p.pid}) ${p.profile}`));
      if (workers.length > 0) {
        out.push('', 'web workers:');
        for (const w of workers) out.push(`   ${w.server}${w.pool ? ` pool ${w.pool}` : ''} (${w.pid}) ${w.label}  ${w.matches ? 'ok' : 'MISMATCH'}: ${w.note}${w.matches ? '' : ` (expected ${w.expected.length > 3 ? `${w.expected.slice(0, 3).join(', ')}, ...` : w.expected.join(', ')})`}`);
      }
      io.stdout.write(`${out.join('\n')}\n`);
    }
    return workers.every((w) => w.matches) ? EXIT_OK : EXIT_FINDING;
  },
};
