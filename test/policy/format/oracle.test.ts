// The strongest "fmt never changes meaning" check available: apparmor_parser compiles the original and
// the formatted file to binary policy (-S), and the two binaries must be identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { decodeSource, encodeSource } from '../../../src/policy/diagnostic/index.js';
import { formatPolicy } from '../../../src/policy/format/index.js';
import { apparmorParser, corpus } from '../../support/corpora.js';
import { listFiles } from '../../support/policy-corpora.js';
import { repoRoot } from '../../support/repo.js';

const oracle = apparmorParser();
const work = mkdtempSync(join(tmpdir(), 'hatter-fmt-oracle-'));

function compile(file: string, args: string[], cwd: string): Buffer | undefined {
  const r = spawnSync('apparmor_parser', ['-S', ...args, file], { cwd, maxBuffer: 1 << 28, timeout: 60_000 });
  return r.status === 0 ? r.stdout : undefined;
}

/** Compile original and formatted; undefined when apparmor_parser rejects the original (nothing to compare). */
function compare(file: string, args: string[], cwd: string): 'same' | 'different' | 'skipped' {
  const before = compile(file, args, cwd);
  if (!before) return 'skipped';
  const bytes = readFileSync(file);
  const { text, encoding } = decodeSource(bytes);
  const formatted = join(work, basename(file));
  writeFileSync(formatted, encodeSource(formatPolicy(text, file).text, encoding));
  const after = compile(formatted, args, cwd);
  return after && after.equals(before) ? 'same' : 'different';
}

const etc = '/etc/apparmor.d';
test('formatted Debian profiles compile to the same binary policy', { skip: oracle.skip || (existsSync(etc) ? false : `skipped: ${etc} absent`) }, () => {
  const files = readdirSync(etc).map((n) => join(etc, n)).filter((p) => statSync(p).isFile());
  files.push(join(repoRoot, 'examples', 'policy', 'usr.sbin.apache2-sites'));
  const results = files.map((f) => [f, compare(f, ['-I', etc], etc)] as const);
  const compared = results.filter(([, r]) => r !== 'skipped');
  assert.ok(compared.length >= 10, `only ${compared.length} profiles compiled`);
  assert.deepEqual(results.filter(([, r]) => r === 'different').map(([f]) => f), []);
});

const tests = corpus('parser-tests');
test('formatted simple_tests PASS cases compile to the same binary policy (every 25th case)', { skip: oracle.skip || tests.skip }, () => {
  const dir = tests.dir!;
  const pass = listFiles(join(dir, 'simple_tests')).filter((f) => f.endsWith('.sd') && /^#=EXRESULT PASS\r?$/m.test(readFileSync(f, 'latin1')));
  const sample = pass.filter((_, i) => i % 25 === 0);
  const args = ['--config-file=./parser.conf', '-M', 'features_files/features.all', '-I', 'simple_tests'];
  const results = sample.map((f) => [f, compare(f, args, dir)] as const);
  assert.ok(results.filter(([, r]) => r === 'same').length >= 20);
  assert.deepEqual(results.filter(([, r]) => r === 'different').map(([f]) => f), []);
});
