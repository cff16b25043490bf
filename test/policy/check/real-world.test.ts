// Real-world policy: every profile that Debian's apparmor_parser -QK accepts, hatter accepts too.
// The oracle runs live (nothing cached in the repository); corpora and the parser skip when absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPolicy, createParseCache } from '../../../src/policy/check/index.js';
import { formatDiagnostic } from '../../../src/policy/diagnostic/index.js';
import { nodeFileReader } from '../../../src/policy-node/index.js';
import { apparmorParser, corpus, debianProfileDirs } from '../../support/corpora.js';

const oracle = apparmorParser();
const shared = corpus('profiles');

/** Regular files directly in a directory (profiles), skipping READMEs. */
function profileFiles(dir: string): string[] {
  return readdirSync(dir).sort()
    .filter((name) => name !== 'README' && !name.startsWith('.'))
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

/** apparmor_parser -QK on each file, a few at a time; resolves to the set of accepted files. */
async function oracleAccepts(files: string[], includeDir: string, parallel = 4): Promise<Set<string>> {
  const accepted = new Set<string>();
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++]!;
      const code = await new Promise<number>((resolve) => {
        const child = spawn(oracle.path!, ['-QK', '-I', includeDir, file], { stdio: 'ignore' });
        child.on('close', (status) => resolve(status ?? 1));
        child.on('error', () => resolve(1));
      });
      if (code === 0) accepted.add(file);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return accepted;
}

function hatterRejections(files: string[], includeDir: string): Map<string, string> {
  const reader = nodeFileReader();
  const cache = createParseCache();
  const rejected = new Map<string, string>();
  for (const file of files) {
    const result = checkPolicy(file, { reader, workingDirectory: '/', includePaths: [includeDir], cache });
    const error = result.diagnostics.find((d) => d.severity === 'error');
    if (error) rejected.set(file, formatDiagnostic(error));
  }
  return rejected;
}

async function assertParity(dir: string, includeDir: string): Promise<void> {
  const files = profileFiles(dir);
  const accepted = await oracleAccepts(files, includeDir);
  const rejected = hatterRejections(files, includeDir);
  const wrong = [...accepted].filter((file) => rejected.has(file)).map((file) => rejected.get(file)!);
  console.log(`${dir}: ${files.length} files, apparmor_parser accepts ${accepted.size}, hatter rejects ${rejected.size}`);
  assert.deepEqual(wrong, [], 'hatter rejects profiles that apparmor_parser accepts');
}

test("Debian's /etc/apparmor.d: hatter accepts what apparmor_parser -QK accepts", { skip: oracle.skip || (!existsSync(debianProfileDirs.apparmor) && 'skipped: /etc/apparmor.d not present') }, async () => {
  await assertParity(debianProfileDirs.apparmor, debianProfileDirs.apparmor);
});

test('apparmor-profiles extra-profiles: hatter accepts what apparmor_parser -QK accepts', { skip: oracle.skip || (!existsSync(debianProfileDirs.extraProfiles) && 'skipped: apparmor-profiles not installed (/usr/share/apparmor/extra-profiles)') }, async () => {
  await assertParity(debianProfileDirs.extraProfiles, debianProfileDirs.apparmor);
});

test('apparmor-profiles-extra: hatter accepts what apparmor_parser -QK accepts, with empty local/ files', { skip: oracle.skip || (!existsSync('/etc/apparmor.d/usr.bin.irssi') && 'skipped: apparmor-profiles-extra not installed') }, async () => {
  // The package's profiles include local/ files unconditionally; give both tools a copy of the tree
  // where the missing ones exist and are empty (the package's postinst does the same).
  const root = mkdtempSync(join(tmpdir(), 'hatter-extra-'));
  try {
    cpSync('/etc/apparmor.d', root, { recursive: true, dereference: true, filter: (src) => !src.includes('/cache') });
    mkdirSync(join(root, 'local'), { recursive: true });
    const names = ['usr.bin.irssi', 'usr.bin.pidgin', 'usr.bin.totem', 'usr.bin.totem-previewers', 'usr.sbin.apt-cacher-ng'];
    for (const name of names) if (!existsSync(join(root, 'local', name))) writeFileSync(join(root, 'local', name), '');
    const files = names.map((name) => join(root, name)).filter((path) => existsSync(path));
    const accepted = await oracleAccepts(files, root);
    const rejected = hatterRejections(files, root);
    assert.deepEqual([...accepted].filter((f) => rejected.has(f)).map((f) => rejected.get(f)), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('shared upstream profiles (current syntax): hatter accepts every profile, and all that apparmor_parser 3.0.8 accepts', { skip: shared.skip || oracle.skip }, async () => {
  const dir = join(shared.dir!, 'apparmor.d');
  await assertParity(dir, dir);
  const rejected = hatterRejections(profileFiles(dir), dir);
  assert.deepEqual([...rejected.values()], [], 'upstream profiles are valid current-syntax policy');
  const extras = join(shared.dir!, 'extras');
  const rejectedExtras = hatterRejections(profileFiles(extras), dir);
  assert.deepEqual([...rejectedExtras.values()], []);
});
