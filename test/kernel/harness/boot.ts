// One guest boot for a kernel test file: run the script, keep its output in the work directory (so a kept
// run can be re-checked without booting), and say why checks must skip when the VM did not run.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInVm, type VmOptions, type VmResult } from './vm.js';

function readIf(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/**
 * Boots once with `script` (saved as guest.sh), writes stdout.log and dmesg.log into `work`, and prints
 * one summary line with `title`. With `reuse` set, returns the kept run in `work` instead of booting.
 */
export async function bootForTest(title: string, work: string, script: string, options: VmOptions & { readonly reuse?: boolean }): Promise<VmResult> {
  if (options.reuse) {
    return { status: 'ok', exitCode: 0, stdout: readIf(join(work, 'stdout.log')), stderr: '', dmesg: readIf(join(work, 'dmesg.log')), kernel: 'reused', durationMs: 0 };
  }
  writeFileSync(join(work, 'guest.sh'), script);
  const vm = await runInVm(script, options);
  writeFileSync(join(work, 'stdout.log'), vm.stdout);
  writeFileSync(join(work, 'dmesg.log'), vm.dmesg);
  process.stdout.write(`# ${title} VM: ${vm.status} (${vm.kernel}) in ${(vm.durationMs / 1000).toFixed(1)} s${vm.reason ? `: ${vm.reason}` : ''}\n`);
  return vm;
}

/** Why a check cannot run (the VM did not boot, timed out or failed), or undefined when it can. */
export function vmSkipReason(vm: VmResult | undefined): string | undefined {
  if (vm && vm.status === 'ok') return undefined;
  return `skipped: the kernel VM did not run (${vm?.status ?? 'not started'}: ${vm?.reason ?? ''})`;
}
