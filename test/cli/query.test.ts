// `hatter query` as users run it: verdicts with the deciding rule's file:line, JSON, and clear
// usage errors (exit 2, no stack trace) for unknown names and malformed requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';

const POLICY = `profile web {
  /srv/www/** r,
  deny /srv/www/secret/** r,
  owner /srv/www/uploads/** w,

  ^alice {
    /srv/alice/** rw,
  }
}
`;

function withPolicy(text: string, fn: (dir: string, file: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hatter-query-'));
    try {
      const file = join(dir, 'web');
      writeFileSync(file, text);
      await fn(dir, file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const query = (dir: string, file: string, ...args: string[]) => runCli(['query', '-I', dir, '--policy', file, ...args]);

function noStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

test('an allowed file access exits 0 and names the granting rule by file:line', withPolicy(POLICY, async (dir, file) => {
  const r = await query(dir, file, '--profile', 'web', '--file', '/srv/www/index.html', '--perm', 'r');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ALLOWED/);
  assert.ok(r.stdout.includes(`${file}:2:`), r.stdout);
}));

test('a denied file access exits 1 and names the deny rule by file:line', withPolicy(POLICY, async (dir, file) => {
  const r = await query(dir, file, '--profile', 'web', '--file', '/srv/www/secret/key', '--perm', 'r');
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /DENIED/);
  assert.ok(r.stdout.includes(`${file}:3:`), r.stdout);
}));

test('owner rules apply with --owner only; hats are addressed as PROFILE//HAT', withPolicy(POLICY, async (dir, file) => {
  assert.equal((await query(dir, file, '--profile', 'web', '--file', '/srv/www/uploads/a', '--perm', 'w', '--owner')).code, 0);
  assert.equal((await query(dir, file, '--profile', 'web', '--file', '/srv/www/uploads/a', '--perm', 'w')).code, 1);
  assert.equal((await query(dir, file, '--profile', 'web//alice', '--file', '/srv/alice/x', '--perm', 'rw')).code, 0);
  assert.equal((await query(dir, file, '--profile', 'web//alice', '--file', '/srv/www/index.html', '--perm', 'r')).code, 1);
}));

test('--json gives the request, the verdict and per-bit rules with their source', withPolicy(POLICY, async (dir, file) => {
  const r = await query(dir, file, '--profile', 'web', '--file', '/srv/www/secret/key', '--perm', 'rw', '--json');
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout) as {
    request: { class: string; path: string; permissions: string };
    label: string; allowed: boolean; noRuleMatched: boolean;
    bits: { bit: string; allowed: boolean; outcome: string; rules: { file: string; line: number }[] }[];
    deniedBy: { file: string; line: number }[];
  };
  assert.deepEqual(out.request, { class: 'file', path: '/srv/www/secret/key', permissions: 'rw', owner: false });
  assert.equal(out.label, 'web');
  assert.equal(out.allowed, false);
  assert.deepEqual(out.bits.map((b) => [b.bit, b.allowed, b.outcome]), [['r', false, 'deny'], ['w', false, 'unmatched']]);
  assert.deepEqual(out.bits[0]!.rules.map((rule) => [rule.file, rule.line]), [[file, 3]]);
  assert.deepEqual(out.deniedBy.map((rule) => rule.line), [3]);
  assert.equal(out.noRuleMatched, true);
}));

test('an explanation lists exactly the rules that match the path', withPolicy(`profile web {
  /srv/a/** r,
  /srv/b/** r,
  /srv/*/x r,
}
`, async (dir, file) => {
  const lines = async (path: string) => {
    const r = await query(dir, file, '--profile', 'web', '--file', path, '--perm', 'r', '--json');
    return (JSON.parse(r.stdout) as { bits: { rules: { line: number }[] }[] }).bits[0]!.rules.map((rule) => rule.line);
  };
  assert.deepEqual(await lines('/srv/a/y'), [2]);
  assert.deepEqual(await lines('/srv/b/y'), [3]);
  assert.deepEqual(await lines('/srv/a/x'), [2, 4]);
  assert.deepEqual(await lines('/srv/c/x'), [4]);
}));

test('an unknown profile exits 2 with a suggestion', withPolicy(POLICY, async (dir, file) => {
  const r = await query(dir, file, '--profile', 'alice', '--file', '/x', '--perm', 'r');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no profile or hat named 'alice' \(did you mean 'web\/\/alice'\?\)/);
  assert.equal(r.stdout, '');
  noStackTrace(r.stderr);
}));

test('a bad permission letter and a missing --perm exit 2', withPolicy(POLICY, async (dir, file) => {
  const bad = await query(dir, file, '--profile', 'web', '--file', '/srv/www/a', '--perm', 'rq');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /'q' is not a file permission/);
  noStackTrace(bad.stderr);
  const missing = await query(dir, file, '--profile', 'web', '--file', '/srv/www/a');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--perm/);
  noStackTrace(missing.stderr);
}));

test('an unknown network access word exits 2', withPolicy(POLICY, async (dir, file) => {
  const r = await query(dir, file, '--profile', 'web', '--network', 'inet', 'stream', '--access', 'teleport');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /'teleport' is not a network access/);
  noStackTrace(r.stderr);
}));

test('a policy that does not compile exits 2 with its diagnostics', withPolicy('profile web {\n  /srv/www/** r\n', async (dir, file) => {
  const r = await query(dir, file, '--profile', 'web', '--file', '/srv/www/a', '--perm', 'r');
  assert.equal(r.code, 2);
  assert.ok(r.stderr.includes(`${file}:`), r.stderr);
  assert.match(r.stderr, /does not compile/);
  assert.equal(r.stdout, '');
  noStackTrace(r.stderr);
}));

test('a policy file that does not exist exits 2 and says so', withPolicy(POLICY, async (dir) => {
  const missing = join(dir, 'nope');
  const r = await query(dir, missing, '--profile', 'web', '--file', '/srv/www/a', '--perm', 'r');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot be read/);
  noStackTrace(r.stderr);
}));

test('no request at all is a usage error (exit 2)', withPolicy(POLICY, async (dir, file) => {
  const r = await query(dir, file, '--profile', 'web');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no request given/);
}));

test('a path-named profile asked for by its basename gets a suggestion', withPolicy('/usr/bin/webd {\n  /srv/** r,\n}\n', async (dir, file) => {
  const r = await query(dir, file, '--profile', 'webd', '--file', '/srv/a', '--perm', 'r');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no profile or hat named 'webd' \(did you mean '\/usr\/bin\/webd'\?\)/);
}));

test('an unknown capability is a usage error, not an answer', withPolicy(POLICY, async (dir, file) => {
  const result = await runCli(['query', '--policy', file, '--profile', 'web', '--capability', 'bogus'], { cwd: dir });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /'bogus' is not a capability/);
  const known = await runCli(['query', '--policy', file, '--profile', 'web', '--capability', 'CAP_CHOWN'], { cwd: dir });
  assert.equal(known.code, 1, known.stderr);
}));
