// The upstream AppArmor corpora live in ../shared and are read at test time, never copied in.
// HATTER_CORPORA overrides the location. Tests call `corpusOrSkip()` and skip with its message.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from './repo.js';

export const corporaRoot = resolve(process.env.HATTER_CORPORA ?? join(repoRoot, '..', 'shared', 'corpora', 'apparmor'));

export type CorpusName = 'profiles' | 'parser-tests' | 'log-tests';

/** The corpus directory, or a one-line skip reason when it is absent. */
export function corpus(name: CorpusName): { dir: string; skip: false } | { dir: undefined; skip: string } {
  const dir = join(corporaRoot, name);
  if (existsSync(dir)) return { dir, skip: false };
  return { dir: undefined, skip: `skipped: AppArmor corpus not found at ${dir} (set HATTER_CORPORA)` };
}

/** Debian's apparmor_parser (the live oracle), or a skip reason. */
export function apparmorParser(): { path: string; version: string; skip: false } | { path: undefined; version: undefined; skip: string } {
  const probe = spawnSync('apparmor_parser', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return { path: undefined, version: undefined, skip: 'skipped: apparmor_parser not installed (apt-get install apparmor)' };
  }
  const version = /version\s+(\S+)/i.exec(probe.stdout)?.[1] ?? 'unknown';
  return { path: 'apparmor_parser', version, skip: false };
}

/** Directories of the Debian profile packages, when installed. */
export const debianProfileDirs = {
  apparmor: '/etc/apparmor.d',
  extraProfiles: '/usr/share/apparmor/extra-profiles',
} as const;
