// `hatter which-hat` end to end over the example configurations in examples/web.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/cli.js';

const APACHE = ['--apache', 'examples/web/apache2/apache2.conf', '--policy', 'examples/web/apparmor.d/apache2.apparmor', '-I', 'examples/web/apparmor.d'];
const FPM = ['--fpm', 'examples/web/php-fpm/php-fpm.conf', '--prefix', 'examples/web/php-fpm', '--policy', 'examples/web/apparmor.d/php-fpm.apparmor'];

test('a request that lands in a hat: human output names vhost, sections, vector and hat; exit 0', async () => {
  const r = await runCli(['which-hat', ...APACHE, '--url', 'http://alice.localhost:8080/admin/index.php']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /alice\.conf:1/);
  assert.match(r.stdout, /<Location \/admin>.*AAHatName alice-admin.*wins/);
  assert.match(r.stdout, /1\. alice-admin +\(AAHatName\)/);
  assert.match(r.stdout, /5\. DEFAULT_URI/);
  assert.match(r.stdout, /result: +hat apache2\/\/alice-admin/);
});

test('--json has the documented shape; a child-profile AAHatName falls back to the parent with exit 1', async () => {
  const r = await runCli(['which-hat', ...APACHE, '--url', 'http://bob.localhost:8080/x.php', '--json']);
  assert.equal(r.code, 1, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  for (const key of ['vhost', 'serverName', 'candidates', 'hat', 'label', 'outcome', 'reason', 'warnings']) assert.ok(key in j, key);
  assert.equal(j['serverName'], 'bob.localhost');
  assert.deepEqual(j['candidates'], ['bob-php', 'bob.localhost', 'bob.localhost-/x.php', '/x.php', 'DEFAULT_URI']);
  assert.equal(j['hat'], null);
  assert.equal(j['label'], 'apache2');
  assert.equal(j['outcome'], 'parent');
  assert.deepEqual(j['warnings'], ['[apparmor:notice] ImmHatName is deprecated, please use AAHatName instead', '[apparmor:warn] (1)Operation not permitted: aa_change_hatv call failed']);
});

test('--mode complain gives the learning hat; --order 2.8.95 changes the vector', async () => {
  const c = JSON.parse((await runCli(['which-hat', ...APACHE, '--url', 'http://alice.localhost:8080/uploads/a.png', '--mode', 'complain', '--json'])).stdout) as Record<string, unknown>;
  assert.equal(c['outcome'], 'learning');
  assert.equal(c['label'], 'apache2//null-alice-uploads');
  const o = JSON.parse((await runCli(['which-hat', ...APACHE, '--url', 'http://alice.localhost:8080/p.html', '--order', '2.8.95', '--json'])).stdout) as Record<string, unknown>;
  assert.deepEqual(o['candidates'], ['/p.html', 'alice', 'DEFAULT_URI']);
  assert.equal(o['label'], 'apache2//alice');
});

test('a request httpd rejects before mod_apparmor runs', async () => {
  const r = await runCli(['which-hat', ...APACHE, '--url', 'http://alice.localhost:8080/../etc/passwd', '--json']);
  assert.equal(r.code, 1);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(j['outcome'], 'error');
  assert.equal(j['status'], 400);
});

test('--report lists missing names and unreachable hats (exit 1)', async () => {
  const r = await runCli(['which-hat', ...APACHE, '--report', '--json']);
  assert.equal(r.code, 1, r.stderr);
  const j = JSON.parse(r.stdout) as { missing: { name: string }[]; deadHats: string[]; servers: { serverName: string; defaultLanding: string[] }[] };
  assert.deepEqual(j.missing.map((m) => m.name), ['main-default', 'alice-uploads', 'bob-private', 'bob-php']);
  assert.deepEqual(j.deadHats, ['apache2//shop']);
  assert.deepEqual(j.servers.map((s) => [s.serverName, s.defaultLanding]), [
    ['main.localhost', ['apache2//DEFAULT_URI']], ['alice.localhost', ['apache2//alice']], ['bob.localhost', ['apache2//bob.localhost']],
  ]);
  const human = await runCli(['which-hat', ...APACHE, '--report']);
  assert.match(human.stdout, /hats no request can reach:\s*\n\s+apache2\/\/shop/);
});

test('--fpm: one record per pool; a missing target means exit 70 for every worker (exit 1)', async () => {
  const r = await runCli(['which-hat', ...FPM, '--json']);
  assert.equal(r.code, 1, r.stderr);
  const j = JSON.parse(r.stdout) as { pools: { pool: string; target: string; exists: boolean; outcome: string; listen: string }[] };
  assert.deepEqual(j.pools.map((p) => [p.pool, p.target, p.exists, p.outcome]), [['alice', 'php-fpm//alice', true, 'changes'], ['bob', 'php-fpm//bob', false, 'exit-70']]);
  assert.equal(j.pools[0]!.listen, '/run/php/alice.sock');
  const human = await runCli(['which-hat', ...FPM]);
  assert.match(human.stdout, /\[bob\][\s\S]*CANNOT START \(exit 70\)/);
});

test('usage errors exit 2', async () => {
  assert.equal((await runCli(['which-hat', '--apache', 'x', '--url', '/'])).code, 2);
  assert.equal((await runCli(['which-hat', ...APACHE, ...FPM.slice(0, 2), '--url', '/'])).code, 2);
  assert.equal((await runCli(['which-hat', ...APACHE, '--url', '/', '--mode', 'sideways'])).code, 2);
  assert.equal((await runCli(['which-hat', ...APACHE, '--url', '/', '--order', '3.0'])).code, 2);
  assert.equal((await runCli(['which-hat', ...APACHE])).code, 2);
  assert.equal((await runCli(['which-hat', ...APACHE, '--url', '/', '--profile', 'nope'])).code, 2);
});

test('unreadable inputs exit 2 with a file diagnostic', async () => {
  const r = await runCli(['which-hat', '--apache', 'examples/web/missing.conf', '--policy', 'examples/web/apparmor.d/apache2.apparmor', '--url', '/']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /missing\.conf:1:1: error: cannot read/);
  const p = await runCli(['which-hat', '--apache', 'examples/web/apache2/apache2.conf', '--policy', 'examples/web/none.apparmor', '--url', '/']);
  assert.equal(p.code, 2);
});

test('--help shows real examples', async () => {
  const r = await runCli(['which-hat', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /hatter which-hat --apache \/etc\/apache2\/apache2.conf/);
  assert.match(r.stdout, /--fpm/);
});

test('a URL that is neither absolute nor a path is a usage error', async () => {
  const r = await runCli(['which-hat', ...APACHE, '--url', 'shop.example/cart']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--url must be/);
});
