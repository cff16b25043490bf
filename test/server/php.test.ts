// `phpFpm: true`: the supervisor starts the site's PHP-FPM master and its workers talk FastCGI to it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PHP_FPM_BINARY } from '../../src/server/fastcgi/index.js';
import { get, startFromYaml, type TestServer } from './helpers.js';

const skip = existsSync(DEFAULT_PHP_FPM_BINARY) ? false : `skipped: ${DEFAULT_PHP_FPM_BINARY} not installed (apt-get install php-fpm)`;
let server: (TestServer & { dir: string }) | undefined;

function openUp(dir: string): void {
  chmodSync(dir, 0o755);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) openUp(path);
    else chmodSync(path, 0o644);
  }
}

before(async () => {
  if (skip) return;
  server = await startFromYaml(`listen: 127.0.0.1:0
backend: none
sites:
  - serverName: php.test
    documentRoot: www
    locations:
      - regex: '\\.php$'
        handler: { type: fastcgi, phpFpm: true, root: www }
`, { 'www/hello.php': '<?php echo "php says hello from ", $_SERVER["SCRIPT_NAME"], " ", $_GET["x"] ?? "", "\\n";', 'www/index.html': 'static\n' });
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
