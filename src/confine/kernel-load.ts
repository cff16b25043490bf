// Loading policy into the kernel with apparmor_parser, for the commands that write policy (learn --load,
// mode). One step before the load: learning profiles that would take a newly defined hat's place are
// removed first (see policy/label/shadow.ts for the kernel behaviour and why).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { shadowingLearningProfiles } from '../policy/label/index.js';
import { parseProfilesList } from './apparmor.js';

export interface KernelLoadOptions {
  /** Where /sys is (tests point it at a fake tree). */
  readonly sys?: string;
  /** Runs apparmor_parser; injectable for tests. */
  readonly runParser?: (args: readonly string[]) => { status: number | null; output: string };
}

export interface KernelLoadResult {
  readonly ok: boolean;
  /** Learning profiles removed before the load: the kernel name written to `.remove`, and the label it had. */
  readonly removed: readonly { readonly remove: string; readonly learning: string }[];
  /** apparmor_parser's (or the removal's) output when something failed. */
  readonly output: string;
}

function runApparmorParser(args: readonly string[]): { status: number | null; output: string } {
  const run = spawnSync('apparmor_parser', [...args], { encoding: 'utf8', timeout: 120_000 });
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return { status: null, output: 'apparmor_parser is not installed (Debian package apparmor)' };
  return { status: run.status, output: `${run.stdout ?? ''}${run.stderr ?? ''}${run.error && !run.stderr ? run.error.message : ''}`.trim() };
}

/** Learning profiles loaded now that a policy defining `defined` would replace in place (empty without securityfs). */
export function learningShadows(defined: Iterable<string>, sys = '/sys'): { remove: string; learning: string }[] {
  let text: string;
  try { text = readFileSync(`${sys}/kernel/security/apparmor/profiles`, 'utf8'); } catch { return []; }
  return shadowingLearningProfiles(parseProfilesList(text).keys(), defined);
}

/**
 * `apparmor_parser ARGS` (e.g. `-r FILE`) after removing the learning profiles that stand where the
 * policy defines `defined` profiles and hats. A task still in a removed learning profile becomes
 * unconfined (it was in complain mode, which allowed everything); restart it to enter the real hat.
 */
export function loadIntoKernel(args: readonly string[], defined: Iterable<string>, options: KernelLoadOptions = {}): KernelLoadResult {
  const sys = options.sys ?? '/sys';
  const removed = learningShadows(defined, sys);
  for (const shadow of removed) {
    try {
      writeFileSync(`${sys}/kernel/security/apparmor/.remove`, shadow.remove);
    } catch (e) {
      return { ok: false, removed, output: `could not remove the learning profile ${shadow.learning} (as ${shadow.remove}): ${(e as Error).message}` };
    }
  }
  const run = (options.runParser ?? runApparmorParser)(args);
  return { ok: run.status === 0, removed, output: run.output };
}
