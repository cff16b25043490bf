import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli } from '../support/cli.js';
import { cliMain, repoRoot } from '../support/repo.js';
import { apparmorParser } from '../support/corpora.js';

const dir = mkdtempSync(join(tmpdir(), 'hatter-fmt-'));
const messy = 'profile p   {\n      /etc/x   wr,  # why\n  capability setuid chown,\n}\n';
const canonical = 'profile p {\n  /etc/x rw, # why\n  capability chown setuid,\n}\n';

test('fmt prints the formatted text to stdout', async () => {
  const file = join(dir, 'a');
  writeFileSync(file, messy);
  const result = await runCli(['fmt', file]);
  assert.equal(result.code, 0);
  assert.equal(result.stdout, canonical);
  assert.equal(readFileSync(file, 'utf8'), messy);
});

test('fmt --check exits 1 and names files that would change, 0 when canonical', async () => {
  const a = join(dir, 'check-a');
  const b = join(dir, 'check-b');
  writeFileSync(a, messy);
  writeFileSync(b, canonical);
  const result = await runCli(['fmt', '--check', a, b]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, `${a}: would be reformatted\n`);
  assert.equal((await runCli(['fmt', '--check', b])).code, 0);
  const json = JSON.parse((await runCli(['fmt', '--check', '--json', a, b])).stdout) as { file: string; changed: boolean }[];
  assert.deepEqual(json.map((r) => [r.file, r.changed]), [[a, true], [b, false]]);
});

test('fmt --write rewrites atomically, keeps the mode, and leaves canonical files untouched', async () => {
  const a = join(dir, 'write-a');
  const b = join(dir, 'write-b');
  writeFileSync(a, messy);
  writeFileSync(b, canonical);
  chmodSync(a, 0o640);
  const bStat = statSync(b);
  const result = await runCli(['fmt', '--write', a, b]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(readFileSync(a, 'utf8'), canonical);
  assert.equal(statSync(a).mode & 0o777, 0o640);
  assert.equal(statSync(b).mtimeMs, bStat.mtimeMs);
  assert.equal(statSync(b).ino, bStat.ino);
  assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
});

test('fmt --write through a symlink rewrites the file it points at and keeps the link', async () => {
  // Debian's /etc/apparmor.d/disable/* and force-complain/* are symlinks to the profiles.
  const target = join(dir, 'linked-profile');
  const links = join(dir, 'disable');
  mkdirSync(links);
  const link = join(links, 'linked-profile');
  writeFileSync(target, messy);
  symlinkSync('../linked-profile', link);
  const result = await runCli(['fmt', '--write', link]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(lstatSync(link).isSymbolicLink(), 'the symlink was replaced by a file');
  assert.equal(readlinkSync(link), '../linked-profile');
  assert.equal(readFileSync(target, 'utf8'), canonical);
  assert.deepEqual([...readdirSync(dir), ...readdirSync(links)].filter((n) => n.endsWith('.tmp')), []);
});

test('fmt --write that cannot write a file says so, leaves it unchanged, goes on, and exits 2', () => {
  // A read-only directory: the file can be read but no temporary file can be created next to it.
  // root ignores directory modes, so as root the CLI runs as nobody.
  const base = mkdtempSync(join(tmpdir(), 'hatter-fmt-ro-'));
  const readOnly = join(base, 'ro');
  const writable = join(base, 'rw');
  mkdirSync(readOnly);
  mkdirSync(writable);
  const blocked = join(readOnly, 'profile');
  const other = join(writable, 'profile');
  writeFileSync(blocked, messy);
  writeFileSync(other, messy);
  chmodSync(other, 0o666);
  chmodSync(writable, 0o777);
  chmodSync(readOnly, 0o555);
  chmodSync(base, 0o755);
  try {
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const run = spawnSync(process.execPath, [cliMain.replace(/main\.js$/, 'bin.js'), 'fmt', '--write', blocked, other], { encoding: 'utf8', cwd: repoRoot, ...asNobody });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /profile: cannot write the formatted file \(EACCES\); left unchanged/);
    assert.doesNotMatch(run.stderr, /internal error/);
    assert.equal(readFileSync(blocked, 'utf8'), messy);
    assert.equal(readFileSync(other, 'utf8'), canonical);
  } finally {
    chmodSync(readOnly, 0o755);
    rmSync(base, { recursive: true, force: true });
  }
});

test('fmt --write leaves files with syntax errors alone and exits 1', async () => {
  const file = join(dir, 'broken');
  const text = 'profile p {\n  /x   r,\n';
  writeFileSync(file, text);
  const result = await runCli(['fmt', '--write', file]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /syntax\/unclosed-block/);
  assert.equal(readFileSync(file, 'utf8'), text);
});

test('fmt: missing file exits 2; --check with --write is a usage error; - reads stdin', async () => {
  assert.equal((await runCli(['fmt', join(dir, 'missing')])).code, 2);
  assert.equal((await runCli(['fmt', '--check', '--write', join(dir, 'a')])).code, 2);
  const stdin = await runCli(['fmt', '-'], { stdin: messy });
  assert.equal(stdin.stdout, canonical);
});

test('fmt keeps non-UTF-8 bytes', () => {
  const file = join(dir, 'latin1');
  writeFileSync(file, Buffer.from('profile p {\n  /caf\xe9   r,\n}\n', 'latin1'));
  const out = spawnSync(process.execPath, [cliMain.replace(/main\.js$/, 'bin.js'), 'fmt', file]).stdout;
  assert.ok(out.equals(Buffer.from('profile p {\n  /caf\xe9 r,\n}\n', 'latin1')));
});

const example = join(repoRoot, 'examples', 'policy', 'usr.sbin.apache2-sites');

test('the shipped apache2 example parses cleanly and shows the formatter at work', async () => {
  const parse = await runCli(['parse', example]);
  assert.equal(parse.code, 0, parse.stderr);
  const check = await runCli(['fmt', '--check', example]);
  assert.equal(check.code, 1, 'the example is deliberately not in canonical form');
  const formatted = (await runCli(['fmt', example])).stdout;
  const again = join(dir, 'example-formatted');
  writeFileSync(again, formatted);
  assert.equal((await runCli(['fmt', '--check', again])).code, 0);
  for (const hat of ['^HANDLING_UNTRUSTED_INPUT', '^DEFAULT_URI', '^alice.localhost', '^bob.localhost']) assert.ok(formatted.includes(hat), hat);
});

const oracle = apparmorParser();
test('the apache2 example and its formatted form are accepted by apparmor_parser', { skip: oracle.skip || (statSync('/etc/apparmor.d', { throwIfNoEntry: false }) ? false : 'skipped: /etc/apparmor.d absent') }, async () => {
  const formatted = join(dir, 'usr.sbin.apache2-sites');
  writeFileSync(formatted, (await runCli(['fmt', example])).stdout);
  for (const file of [example, formatted]) {
    const r = spawnSync('apparmor_parser', ['-QK', '-I', '/etc/apparmor.d', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${file}: ${r.stderr}`);
  }
});
