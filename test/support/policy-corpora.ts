// The policy corpora the parser and formatter suites walk: the shared AppArmor profiles and
// simple_tests, and the Debian profile packages. Each entry carries a skip reason when absent.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { corpus, debianProfileDirs } from './corpora.js';

export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      const st = statSync(path);
      if (st.isDirectory()) stack.push(path);
      else if (st.isFile()) out.push(path);
    }
  }
  return out.sort();
}

/** The policy corpora: [label, directory or skip reason]. */
export function policyCorpora(): { label: string; dir: string | undefined; skip: string | false }[] {
  const profiles = corpus('profiles');
  const parserTests = corpus('parser-tests');
  const simple = parserTests.dir ? join(parserTests.dir, 'simple_tests') : undefined;
  return [
    { label: 'shared profiles', dir: profiles.dir, skip: profiles.skip },
    { label: 'simple_tests', dir: simple, skip: parserTests.skip },
    { label: '/etc/apparmor.d', dir: debianProfileDirs.apparmor, skip: existsSync(debianProfileDirs.apparmor) ? false : `skipped: ${debianProfileDirs.apparmor} absent (apt-get install apparmor apparmor-profiles)` },
    { label: 'extra-profiles', dir: debianProfileDirs.extraProfiles, skip: existsSync(debianProfileDirs.extraProfiles) ? false : `skipped: ${debianProfileDirs.extraProfiles} absent (apt-get install apparmor-profiles-extra)` },
  ];
}
