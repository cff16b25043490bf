// Run one script in the AppArmor VM by hand:
//   node dist/test/kernel/harness/cli.js [--share DIR]... [--dmesg FILE] [--timeout SEC] SCRIPT-FILE|-
// Exit status: the script's, 124 on timeout, 125 when the VM could not run.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runInVm } from './vm.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { share: { type: 'string', multiple: true }, dmesg: { type: 'string' }, timeout: { type: 'string' } },
});
const source = positionals[0] ?? '-';
const script = readFileSync(source === '-' ? 0 : source, 'utf8');
const result = await runInVm(script, {
  shares: values.share ?? [],
  timeoutMs: values.timeout ? Number(values.timeout) * 1000 : undefined,
});
process.stdout.write(result.stdout);
process.stderr.write(result.stderr);
if (values.dmesg) writeFileSync(values.dmesg, result.dmesg);
process.stderr.write(`hatter-vm: ${result.status} kernel=${result.kernel} in ${(result.durationMs / 1000).toFixed(1)} s${result.reason ? `: ${result.reason}` : ''}\n`);
process.exitCode = result.status === 'ok' ? result.exitCode ?? 125 : result.status === 'timeout' ? 124 : 125;
