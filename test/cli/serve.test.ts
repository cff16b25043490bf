import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { cliMain } from '../support/repo.js';
import { get } from '../server/helpers.js';
import { DEFAULT_PHP_FPM_BINARY } from '../../src/server/fastcgi/index.js';

test('hatter serve --help shows usage and examples', async () => {
  const result = await runCli(['serve', '--help']);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /hatter serve \[CONFIG\]/);
  assert.match(result.stdout, /--listen HOST:PORT/);
  assert.match(result.stdout, /curl -H 'Host: bob\.localhost'/);
  assert.match(result.stdout, /--load-policy +AppArmor: load \(replace\) the configured policy with apparmor_parser -r/);
  assert.match(result.stdout, /-v, --verbose/);
});

test('--load-policy without a policy file is exit 2 and says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hatter-cli-serve-'));
  const file = join(dir, 'hatter.yaml');
  writeFileSync(file, 'listen: 127.0.0.1:0\nadmin: off\nbackend: apparmor\nsites:\n  - serverName: a.test\n    documentRoot: a\n');
  mkdirSync(join(dir, 'a'));
  try {
    const result = await runCli(['serve', file, '--load-policy']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--load-policy needs a policy file \(policy\.file in the configuration\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing configuration file is exit 2 with the path', async () => {
  const result = await runCli(['serve', '/nonexistent/hatter.yaml', '--backend', 'none']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /\/nonexistent\/hatter\.yaml:1:1: error: configuration file not found \[serve-config\/unreadable\]/);
});

test('an invalid configuration is exit 2 with file:line:col diagnostics', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hatter-cli-serve-'));
  const file = join(dir, 'hatter.yaml');
  writeFileSync(file, 'listen: 127.0.0.1:0\nsites:\n  - serverName: a.test\n    documentRoot: a\n    handlr: { type: static, root: a }\n');
  const result = await runCli(['serve', file]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, new RegExp(`${file}:5:5: error: sites\\[0\\]: unknown key 'handlr' \\[serve-config/unknown-key\\]`));
  assert.match(result.stderr, /hint: did you mean 'handler'\?/);
  rmSync(dir, { recursive: true, force: true });
});

test('a configuration naming a missing document root or an unknown user is refused before anything starts: exit 2, file:line:col', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hatter-cli-serve-'));
  const file = join(dir, 'hatter.yaml');
  mkdirSync(join(dir, 'a'));
  writeFileSync(file, 'listen: 127.0.0.1:0\nadmin: off\nbackend: none\nsites:\n  - serverName: a.test\n    documentRoot: a\n    user: nosuchuser-hatter\n  - serverName: b.test\n    documentRoot: missing\n');
  try {
    const result = await runCli(['serve', file]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`${file}:7:11: error: sites\\[0\\]\\.user 'nosuchuser-hatter' is not a user on this host \\(/etc/passwd\\) \\[serve-config/unknown-user\\]`));
    assert.match(result.stderr, new RegExp(`${file}:9:19: error: sites\\[1\\]\\.documentRoot '${dir}/missing' does not exist \\[serve-config/missing-directory\\]`));
    assert.match(result.stderr, /invalid configuration, not started/);
    assert.doesNotMatch(result.stderr, /listening on/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad options are usage errors', async () => {
  assert.equal((await runCli(['serve', '--listen', 'nowhere'])).code, 2);
  assert.equal((await runCli(['serve', '--backend', 'selinux'])).code, 2);
  assert.equal((await runCli(['serve', 'a.yaml', 'b.yaml'])).code, 2);
  assert.equal((await runCli(['serve', '--audit-log', '/var/log/audit/audit.log'])).code, 2, '--audit-log needs --denials-log');
  assert.equal((await runCli(['serve', '--denials-interval', '5'])).code, 2);
  assert.equal((await runCli(['serve', '--learn', '--denials-log', 'd.jsonl'])).code, 2);
});

test('--denials-log reads Landlock\'s records: with another backend it is refused before anything starts', async () => {
  const result = await runCli(['serve', '--backend', 'none', '--listen', '127.0.0.1:0', '--admin', 'off', '--access-log', 'off', '--denials-log', '/nonexistent/d.jsonl']);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /\[serve\/denials-not-landlock\]/);
});

test('a busy port is a clear error, exit 2', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as AddressInfo).port;
  try {
    const result = await runCli(['serve', '--backend', 'none', '--listen', `127.0.0.1:${port}`, '--admin', 'off']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`127\\.0\\.0\\.1:${port} is already in use.*\\[serve/address-in-use\\]`));
  } finally {
    blocker.close();
  }
});

test('npx hatter serve: the demo starts, says what to open and that none does not confine, and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, [cliMain.replace(/main\.js$/, 'bin.js'), 'serve', '--backend', 'none', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--access-log', 'off'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const deadline = Date.now() + 30_000;
    while (!/listening on http:\/\/127\.0\.0\.1:(\d+)\//.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr)?.[1]);
    assert.ok(port > 0, stderr);
    assert.match(stderr, /UNCONFINED/);
    assert.match(stderr, /curl -H 'Host: bob\.localhost' 'http:\/\/127\.0\.0\.1:\d+\/read\?path=alice\/secret\.txt'/);
    const reply = await get(port, 'bob.localhost', '/hello');
    assert.equal(reply.status, 200);
    assert.equal(JSON.parse(reply.body.toString()).hat, 'bob.localhost');
    // SIGHUP reloads: a new generation serves.
    child.kill('SIGHUP');
    const reloaded = Date.now() + 20_000;
    while (!/generation 2 serving/.test(stderr) && Date.now() < reloaded) await new Promise((r) => setTimeout(r, 100));
    assert.match(stderr, /generation 2 serving/);
    assert.equal((await get(port, 'alice.localhost', '/hello')).status, 200);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /hatter serve: stopped/);
});

test('--php-fpm-start-timeout takes seconds: anything else is exit 2 and says what it wants', async () => {
  for (const value of ['soon', '0', '4000']) {
    const result = await runCli(['serve', '/nonexistent/hatter.yaml', '--php-fpm-start-timeout', value]);
    assert.equal(result.code, 2, `${value}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`--php-fpm-start-timeout '${value}' is not a number of seconds from 0\\.001 to 3600`));
  }
  const help = await runCli(['serve', '--help']);
  assert.match(help.stdout, /--php-fpm-start-timeout SECONDS/);
});

const noFpm = existsSync(DEFAULT_PHP_FPM_BINARY) ? false : `skipped: ${DEFAULT_PHP_FPM_BINARY} not installed (apt-get install php-fpm)`;

test('hatter serve killed with SIGKILL leaves its PHP-FPM masters running; the next start stops them and says so', { skip: noFpm, timeout: 90_000 }, async () => {
  const serve = () => {
    const child = spawn(process.execPath, [cliMain.replace(/main\.js$/, 'bin.js'), 'serve', '--backend', 'none', '--listen', '127.0.0.1:0', '--admin', 'off', '--access-log', 'off'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stderr: '' };
    child.stderr.on('data', (c: Buffer) => { out.stderr += c.toString(); });
    return { child, out, exited: new Promise<void>((r) => child.once('exit', () => r())) };
  };
  const listening = async (out: { stderr: string }) => {
    const deadline = Date.now() + 40_000;
    while (!/listening on http:\/\//.test(out.stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(out.stderr, /listening on http:\/\//);
  };
  const first = serve();
  await listening(first.out);
  // Its masters: the PHP-FPM master titles naming its run root (the one whose owner file is its pid).
  const roots = readdirSync(tmpdir()).filter((n) => n.startsWith('hatter-php-fpm-')).map((n) => join(tmpdir(), n))
    .filter((root) => { try { return readFileSync(join(root, 'supervisor'), 'utf8').startsWith(`${first.child.pid} `); } catch { return false; } });
  assert.equal(roots.length, 1, 'the demo started PHP-FPM in one run root');
  const masters = () => readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((pid) => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(`php-fpm: master process (${roots[0]}/`); } catch { return false; }
  });
  const before = masters();
  assert.ok(before.length > 0, 'the demo runs PHP-FPM masters');
  first.child.kill('SIGKILL');
  await first.exited;
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(masters(), before, 'nothing stopped them: they outlive their supervisor');
  const second = serve();
  try {
    await listening(second.out);
    assert.match(second.out.stderr, new RegExp(`stopped ${before.length} PHP-FPM master\\(s\\) .*left running by hatter serve pid ${first.child.pid}, which was killed; removed ${roots[0]}`));
    assert.deepEqual(masters(), []);
    assert.equal(existsSync(roots[0]!), false);
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
  }
});
