// The demo under real confinement (Landlock here; AppArmor is the confine area's kernel suite):
// bob's vulnerable /read handler cannot read alice's secret, alice's can.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { createBackend } from '../../src/confine/index.js';
import { DEFAULT_PHP_FPM_BINARY } from '../../src/server/fastcgi/index.js';
import { repoRoot } from '../support/repo.js';
import { get, json, startFromFile, type TestServer } from './helpers.js';

const landlock = await createBackend('landlock').probe();
const skip = landlock.available ? false : `skipped: Landlock is not available (${landlock.reason})`;

let server: TestServer | undefined;
before(async () => {
  if (skip) return;
  server = await startFromFile(join(repoRoot, 'examples', 'hosting', 'hatter.yaml'), true, { backend: 'landlock' });
});
after(async () => { await server?.stop(); });

test('confined demo: bob cannot read alice\'s secret, alice can; each runs in its hat', { skip }, async () => {
  const s = server!;
  const bob = await get(s.port, 'bob.localhost', '/read?path=alice/secret.txt');
  assert.equal(bob.status, 403);
  assert.match(bob.body.toString(), /EACCES/);
  const alice = await get(s.port, 'alice.localhost', '/read?path=alice/secret.txt');
  assert.equal(alice.status, 200);
  assert.match(alice.body.toString(), /alice's database password/);
  const bobOwn = await get(s.port, 'bob.localhost', '/read?path=bob/secret.txt');
  assert.equal(bobOwn.status, 200);
  assert.equal((await json(s.port, 'bob.localhost', '/hello')).label, 'hatter-demo//bob.localhost');
  const cgi = await get(s.port, 'alice.localhost', '/cgi-bin/hello.cgi');
  assert.equal(cgi.status, 200);
  assert.match(cgi.body.toString(), /hello from alice\.localhost via CGI/);
});

const skipPhp = skip || (existsSync(DEFAULT_PHP_FPM_BINARY) ? false : `skipped: ${DEFAULT_PHP_FPM_BINARY} not installed (apt-get install php-fpm)`);

test('confined demo PHP: each site\'s page runs in its own PHP-FPM master under Landlock; bob\'s cannot read alice\'s secret', { skip: skipPhp }, async () => {
  const s = server!;
  assert.ok(s.messages.some((m) => m.includes('PHP-FPM for bob.localhost runs confined to hatter-demo//bob.localhost (landlock)')), s.messages.join('\n'));
  assert.ok(s.messages.some((m) => m.includes('PHP-FPM for alice.localhost runs confined to hatter-demo//alice.localhost (landlock)')), s.messages.join('\n'));
  const bob = await get(s.port, 'bob.localhost', '/php/');
  assert.equal(bob.status, 200, bob.body.toString());
  const bobText = bob.body.toString();
  assert.match(bobText, /^PHP [\d.]+ on bob\.localhost/);
  assert.match(bobText, /own secret \(bob\/secret\.txt\): READ: bob's database password/);
  assert.match(bobText, /other site's secret \(alice\/secret\.txt\): DENIED: .*Permission denied/);
  assert.doesNotMatch(bobText, /alice-s3cret/);
  const alice = await get(s.port, 'alice.localhost', '/php/');
  assert.equal(alice.status, 200, alice.body.toString());
  assert.match(alice.body.toString(), /own secret \(alice\/secret\.txt\): READ: alice's database password/);
  assert.match(alice.body.toString(), /other site's secret \(bob\/secret\.txt\): DENIED/);
});
