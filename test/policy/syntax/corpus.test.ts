// Round trip and PASS-case cleanliness over the shared AppArmor corpora and the Debian profile packages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { decodeSource, encodeSource } from '../../../src/policy/diagnostic.js';
import { parsePolicy, printTree } from '../../../src/policy/syntax/index.js';
import { corpus, debianProfileDirs } from '../../support/corpora.js';

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

for (const { label, dir, skip } of policyCorpora()) {
  test(`round trip is byte-identical on every file of ${label}`, { skip }, () => {
    const files = listFiles(dir!);
    assert.ok(files.length > 0);
    const failures: string[] = [];
    for (const file of files) {
      const bytes = readFileSync(file);
      const { text, encoding } = decodeSource(bytes);
      const printed = printTree(parsePolicy(text, file).root);
      if (!encodeSource(printed, encoding).equals(bytes)) failures.push(relative(dir!, file));
    }
    assert.deepEqual(failures, [], `${failures.length} of ${files.length} files did not round-trip`);
  });
}

const simple = policyCorpora()[1]!;
test('every #=EXRESULT PASS case of simple_tests parses without a syntax error', { skip: simple.skip }, () => {
  const files = listFiles(simple.dir!).filter((f) => f.endsWith('.sd'));
  let pass = 0;
  const failures: string[] = [];
  for (const file of files) {
    const { text } = decodeSource(readFileSync(file));
    if (!/^#=EXRESULT PASS\r?$/m.test(text)) continue;
    pass++;
    const errors = parsePolicy(text, file).diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) failures.push(`${relative(simple.dir!, file)}: ${errors[0]!.message} [${errors[0]!.code}]`);
  }
  assert.ok(pass > 1000, `only ${pass} PASS cases found`);
  assert.deepEqual(failures, []);
});

const profiles = policyCorpora()[0]!;
test('every shared profile, abstraction and tunable parses without a syntax error', { skip: profiles.skip }, () => {
  // abi/ holds kernel feature sets (not policy) and README is prose.
  const files = listFiles(profiles.dir!).filter((f) => !/\/abi\/|README/.test(f));
  const failures: string[] = [];
  for (const file of files) {
    const errors = parsePolicy(decodeSource(readFileSync(file)).text, file).diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) failures.push(`${relative(profiles.dir!, file)}:${errors[0]!.line}: ${errors[0]!.message}`);
  }
  assert.deepEqual(failures, []);
});
