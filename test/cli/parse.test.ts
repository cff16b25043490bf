import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli } from '../support/cli.js';
import { cliMain } from '../support/repo.js';

const dir = mkdtempSync(join(tmpdir(), 'hatter-parse-'));
const good = join(dir, 'good');
const bad = join(dir, 'bad');
const latin1 = join(dir, 'latin1');
writeFileSync(good, '# ok\nprofile p /usr/bin/p {\n  /etc/p r,\n  ^hat {\n  }\n}\n');
writeFileSync(bad, 'profile p {\n  /etc/p r\n  /etc/q r,\n');
writeFileSync(latin1, Buffer.from([0x2f, 0x78, 0xe9, 0x20, 0x72, 0x2c, 0x0a, 0x23, 0xff, 0x0a]));

test('parse: a valid file exits 0 with nothing on stderr', async () => {
  const result = await runCli(['parse', good]);
  assert.equal(result.code, 0);
  assert.equal(result.stderr, '');
});

test('parse: syntax errors go to stderr as file:line:col and exit 1', async () => {
  const result = await runCli(['parse', good, bad]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:10: error: .*\\[syntax/missing-comma\\]$`, 'm'));
  assert.match(result.stderr, /:1:11: error: '\{' is never closed with '\}' \[syntax\/unclosed-block\]/);
});

test('parse: missing files and directories are input errors (exit 2)', async () => {
  const missing = await runCli(['parse', join(dir, 'nope')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope: no such file/);
  const sub = join(dir, 'sub');
  mkdirSync(sub, { recursive: true });
  const directory = await runCli(['parse', sub]);
  assert.equal(directory.code, 2);
  assert.match(directory.stderr, /is a directory/);
  const none = await runCli(['parse']);
  assert.equal(none.code, 2);
});

test('parse --print reproduces the bytes exactly, even for non-UTF-8 files', () => {
  for (const file of [good, bad, latin1]) {
    const result = runCliProcessBuffer(['parse', '--print', file]);
    assert.ok(result.equals(readFileSync(file)), file);
  }
});

/** Run the compiled CLI and return stdout as raw bytes (runCliProcess decodes as UTF-8). */
function runCliProcessBuffer(args: string[]): Buffer {
  return spawnSync(process.execPath, [cliMain.replace(/main\.js$/, 'bin.js'), ...args], { maxBuffer: 1 << 26 }).stdout;
}

test('parse - reads standard input', async () => {
  const result = await runCli(['parse', '--print', '-'], { stdin: 'profile p {\n}\n' });
  assert.equal(result.code, 0);
  assert.equal(result.stdout, 'profile p {\n}\n');
});

test('parse --json prints the AST with readable spans', async () => {
  const result = await runCli(['parse', '--json', good]);
  assert.equal(result.code, 0);
  const json = JSON.parse(result.stdout) as {
    file: string; diagnostics: unknown[];
    ast: { kind: string; items: { kind: string; name: { value: string }; attachment: { raw: string }; body: { kind: string; span: unknown }[] }[] };
  };
  assert.equal(json.file, good);
  assert.deepEqual(json.diagnostics, []);
  const profile = json.ast.items[0]!;
  assert.equal(profile.kind, 'Profile');
  assert.equal(profile.name.value, 'p');
  assert.equal(profile.attachment.raw, '/usr/bin/p');
  assert.deepEqual(profile.body.map((s) => s.kind), ['FileRule', 'Profile']);
  assert.deepEqual(profile.body[0]!.span, { file: good, line: 3, col: 3, endLine: 3, endCol: 12 });
  const two = JSON.parse((await runCli(['parse', '--json', good, bad])).stdout) as unknown[];
  assert.equal(two.length, 2);
});

test('parse: --print and --json together is a usage error', async () => {
  const result = await runCli(['parse', '--print', '--json', good]);
  assert.equal(result.code, 2);
});
