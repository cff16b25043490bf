// hatter console's services over a copy of the demo (no browser): Sites, Denials, Learn, Isolation and
// Policy answer from the commands themselves; a preview writes nothing; apply writes exactly what
// `hatter learn --answers --write` writes. And the command's usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { consoleServices } from '../../src/cli/console.js';
import { runCli } from '../support/cli.js';
import { repoRoot } from '../support/repo.js';

/** A demo copy outside /tmp (there abstractions/user-tmp would cover its paths), with a log of two denials by bob. */
function demoCopy(): { root: string; demo: string; policy: string; log: string } {
  const root = join(repoRoot, 'test-output', `console-cli-${process.pid}`);
  const demo = join(root, 'examples', 'hosting');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(demo, { recursive: true });
  cpSync(join(repoRoot, 'examples', 'hosting'), demo, { recursive: true });
  const log = join(root, 'audit.log');
  const line = (serial: number, operation: string, name: string, mask: string) =>
    `type=AVC msg=audit(1765090000.${serial}:${serial}): apparmor="DENIED" operation="${operation}" class="file" profile="hatter-demo//bob.localhost" name="${name}" pid=4242 comm="node" requested_mask="${mask}" denied_mask="${mask}" fsuid=1000 ouid=1000\n`;
  writeFileSync(log, line(100, 'open', join(demo, 'alice', 'secret.txt'), 'r') + line(200, 'mknod', join(demo, 'bob', 'public', 'uploads', 'cat.png'), 'c'));
  return { root, demo, policy: join(demo, 'policy', 'hatter-demo'), log };
}

test('console services: every panel answers from the commands; apply = hatter learn --answers --write', { timeout: 300_000 }, async () => {
  const { root, demo, policy, log } = demoCopy();
  try {
    const services = consoleServices({ policy, policyFromConfig: true, config: join(demo, 'hatter.yaml'), includeDirs: [], logs: [log] }, { cwd: repoRoot, env: process.env });
    const sites = await services.sites() as { sites: { name: string; label: string; mode: string }[] };
    assert.deepEqual(sites.sites.map((s) => [s.name, s.label, s.mode]), [['alice.localhost', 'hatter-demo//alice.localhost', 'enforce'], ['bob.localhost', 'hatter-demo//bob.localhost', 'enforce']]);

    const denials = await services.denials() as { events: number; groups: { object: string; label: string }[] };
    assert.equal(denials.events, 2);
    assert.ok(denials.groups.some((g) => g.object === join(demo, 'alice', 'secret.txt') && g.label === 'hatter-demo//bob.localhost'));

    const learn = await services.learn() as { groups: { id: string; defaultIndex: number; alternatives: { crossesTenant?: unknown }[] }[] };
    assert.equal(learn.groups.length, 2);
    const crossing = learn.groups.find((g) => g.alternatives[0]?.crossesTenant)!;
    assert.equal(crossing.defaultIndex, -1, 'a tenant-crossing need has no default');

    const isolation = await services.isolation() as { isolated: boolean; tenants: string[] };
    assert.equal(isolation.isolated, true);
    assert.deepEqual(isolation.tenants, ['alice.localhost', 'bob.localhost']);

    const shown = await services.policy() as { entry: string; files: { path: string; text: string }[] };
    assert.equal(shown.entry, policy);
    assert.ok(shown.files.length > 1, 'the included files are listed too');

    const original = readFileSync(policy, 'utf8');
    const refused = await services.preview([{ group: crossing.id, action: 'accept', alternative: 0 }]);
    assert.equal(refused.ok, false);
    assert.ok(refused.messages.some((m) => m.includes('learn/crosses-tenant')), refused.messages.join('\n'));

    const answers = learn.groups.map((g) => (g.defaultIndex >= 0 ? { group: g.id, action: 'accept' as const, alternative: g.defaultIndex } : { group: g.id, action: 'ignore' as const }));
    const preview = await services.preview(answers);
    assert.equal(preview.ok, true);
    assert.match(preview.diff, /^\+\s+owner .*cat\.png w,$/m);
    assert.equal(readFileSync(policy, 'utf8'), original, 'a preview writes nothing');

    const applied = await services.apply(answers);
    assert.equal(applied.ok, true, applied.messages.join('\n'));
    assert.deepEqual(applied.written, [policy]);
    const fromConsole = readFileSync(policy, 'utf8');
    assert.ok(readdirSync(join(demo, 'policy')).some((n) => n.startsWith('.hatter-demo.hatter-bak')), 'a backup was kept');

    writeFileSync(policy, original);
    const cli = await runCli(['learn', '--apply', '--write', '--policy', policy, '--config', join(demo, 'hatter.yaml'), log]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(readFileSync(policy, 'utf8'), fromConsole);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('hatter console: usage and input errors exit 2 with a message', async () => {
  const none = await runCli(['console']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--policy FILE is required/);
  const policy = join(repoRoot, 'examples', 'hosting', 'policy', 'hatter-demo');
  const badListen = await runCli(['console', '--policy', policy, '--listen', 'nowhere']);
  assert.equal(badListen.code, 2);
  assert.match(badListen.stderr, /not HOST:PORT/);
  const root = join(repoRoot, 'test-output', `console-token-${process.pid}`);
  mkdirSync(root, { recursive: true });
  try {
    writeFileSync(join(root, 'token'), 'short\n');
    const weak = await runCli(['console', '--policy', policy, '--listen', '127.0.0.1:0', '--token-file', join(root, 'token')]);
    assert.equal(weak.code, 2);
    assert.match(weak.stderr, /console\/weak-token/);
    const missing = await runCli(['console', '--policy', join(root, 'nope')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /console\/unreadable-policy/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('hatter console asks for its token on loopback too (a confined site can reach 127.0.0.1)', { timeout: 60_000 }, async () => {
  const policy = join(repoRoot, 'examples', 'hosting', 'policy', 'hatter-demo');
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'hatter.js'), 'console', '--policy', policy, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 55_000);
  try {
    let stderr = '';
    const started = await new Promise<{ url: string; token: string; link: string }>((done, fail) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const url = /hatter console: (http:\/\/127\.0\.0\.1:\d+)\//.exec(stderr)?.[1];
        const token = /hatter console: token (\S+) /.exec(stderr)?.[1];
        const link = /one-time login link (\S+)/.exec(stderr)?.[1];
        if (url && token && link) done({ url, token, link });
      });
      child.on('exit', (code) => fail(new Error(`hatter console exited ${code}: ${stderr}`)));
    });
    assert.ok(started.token.length >= 16);
    for (const path of ['/', '/api/sites', '/api/denials']) {
      assert.equal((await fetch(`${started.url}${path}`)).status, 401, `${path} without the token`);
    }
    assert.equal((await fetch(`${started.url}/api/sites`, { headers: { authorization: 'Bearer not-the-token-at-all' } })).status, 401);
    const page = await fetch(`${started.url}/`, { headers: { authorization: `Bearer ${started.token}` } });
    assert.equal(page.status, 200);
    // The login link sets the session cookie a browser then uses.
    const login = await fetch(started.link, { redirect: 'manual' });
    assert.equal(login.status, 303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    assert.equal((await fetch(`${started.url}/`, { headers: { cookie } })).status, 200);
  } finally {
    clearTimeout(killer);
    child.kill('SIGTERM');
  }
});
