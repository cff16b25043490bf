// `phpFpm: true`: the supervisor starts the site's PHP-FPM master and its workers talk FastCGI to it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createBackend } from '../../src/confine/index.js';
import { join } from 'node:path';
import { DEFAULT_PHP_FPM_BINARY } from '../../src/server/fastcgi/index.js';
import { get, openUp, PHP_SITE, startFromYaml, type TestServer } from './helpers.js';

const skip = existsSync(DEFAULT_PHP_FPM_BINARY) ? false : `skipped: ${DEFAULT_PHP_FPM_BINARY} not installed (apt-get install php-fpm)`;
let server: (TestServer & { dir: string }) | undefined;

before(async () => {
  if (skip) return;
  server = await startFromYaml(`listen: 127.0.0.1:0
backend: none
${PHP_SITE}`, { 'www/hello.php': '<?php echo "php says hello from ", $_SERVER["SCRIPT_NAME"], " ", $_GET["x"] ?? "", "\\n";', 'www/index.html': 'static\n' });
  openUp(server.dir);
});
after(async () => { await server?.stop(); });

test('a phpFpm: true location is served by the PHP-FPM master hatter started for the site', { skip }, async () => {
  const s = server!;
  const reply = await get(s.port, 'php.test', '/hello.php?x=42');
  assert.equal(reply.status, 200, reply.body.toString());
  assert.equal(reply.body.toString(), 'php says hello from /hello.php 42\n');
  assert.equal((await get(s.port, 'php.test', '/')).body.toString(), 'static\n');
});

// Under Landlock the master is started through the backend: PHP itself runs in the site's hat.
const landlock = await createBackend('landlock').probe();
const skipConfined = skip || (landlock.available ? false : `skipped: Landlock is not available (${landlock.reason})`);

test('under Landlock, the site\'s PHP-FPM master and its children run confined to the site\'s hat', { skip: skipConfined, timeout: 60_000 }, async () => {
  // A secret outside the hat that the FPM user could read without confinement (world-readable, outside /tmp,
  // which the hat's glob widens to under Landlock).
  const secretDir = mkdtempSync(join('/var/tmp', 'hatter-php-secret-'));
  chmodSync(secretDir, 0o755);
  const secret = join(secretDir, 'secret.txt');
  writeFileSync(secret, 'top secret\n', { mode: 0o644 });
  let confined: (TestServer & { dir: string }) | undefined;
  try {
    confined = await startFromYaml(`listen: 127.0.0.1:0
backend: landlock
policy: { file: policy/hatter-php, profile: hatter-php }
${PHP_SITE}`, {
      'policy/hatter-php': 'profile hatter-php {\n  ^php.test {\n    /tmp/hatter-serve-test-*/www/** r,\n  }\n}\n',
      'www/read.php': '<?php $r = @file_get_contents($_GET["path"]); echo $r === false ? "refused\\n" : $r;',
      'www/own.txt': 'own file\n',
    }, { backend: 'landlock' });
    assert.ok(confined.messages.some((m) => m.includes('runs confined to hatter-php//php.test (landlock)')), confined.messages.join('\n'));
    openUp(confined.dir);
    const own = await get(confined.port, 'php.test', `/read.php?path=${encodeURIComponent(join(confined.dir, 'www', 'own.txt'))}`);
    assert.equal(own.status, 200, own.body.toString());
    assert.equal(own.body.toString(), 'own file\n');
    const stolen = await get(confined.port, 'php.test', `/read.php?path=${encodeURIComponent(secret)}`);
    assert.equal(stolen.body.toString(), 'refused\n', 'PHP read a file outside its hat');
  } finally {
    await confined?.stop();
    rmSync(secretDir, { recursive: true, force: true });
  }
});

test('the supervisor lists each PHP-FPM master under the label of its PHP location, not of the site\'s /', { skip, timeout: 60_000 }, async () => {
  let two: (TestServer & { dir: string }) | undefined;
  try {
    two = await startFromYaml(`listen: 127.0.0.1:0
backend: none
policy: { file: policy/hatter-php, profile: hatter-php }
sites:
  - serverName: php.test
    documentRoot: www
    locations:
      - prefix: /app/
        hat: php-app
        handler: { type: fastcgi, phpFpm: true, root: www }
`, { 'policy/hatter-php': 'profile hatter-php {\n  ^php.test {\n  }\n  ^php-app {\n  }\n}\n', 'www/index.html': 'static\n' });
    const masters = [...two.supervisor.confinedProcesses()].filter(([pid]) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('php-fpm'));
    assert.equal(masters.length, 1, JSON.stringify([...two.supervisor.confinedProcesses()]));
    assert.equal(masters[0]![1], 'hatter-php//php-app');
  } finally {
    await two?.stop();
  }
});
