// A real application confined (issue 22): Debian's WordPress served by `hatter serve` under Landlock,
// with its own MariaDB (the setup of `npm run bench -- wordpress`, bench/support/wordpress.ts). Logging
// in and uploading a picture work; a PHP file in the upload directory (what an attacker who got one
// past the upload checks would run) reads the site's own wp-config.php but not another site's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBackend } from '../../src/confine/index.js';
import { DEFAULT_PHP_FPM_BINARY } from '../../src/server/fastcgi/index.js';
import { freePort, startHatterWith, type Started } from '../../bench/support/servers.js';
import { hatterWordPressConfig, missingWordPress, setUpWordPress, WORDPRESS_ADMIN, type WordPressSite } from '../../bench/support/wordpress.js';
import { repoRoot } from '../support/repo.js';
import { get as getWithin, type Reply } from './helpers.js';

const landlock = await createBackend('landlock').probe();
const missing = missingWordPress()
  ?? (existsSync(DEFAULT_PHP_FPM_BINARY) ? undefined : `${DEFAULT_PHP_FPM_BINARY} is not installed`)
  ?? (landlock.available ? undefined : `Landlock is not available (${landlock.reason})`);
const skip = missing ? `skipped: ${missing}` : false;

/** A 1×1 PNG. */
const PIXEL = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const OTHER_SECRET = 'the-other-sites-database-password';

let work: string | undefined;
let site: WordPressSite | undefined;
let server: Started | undefined;
let host = '';
let otherConfig = '';

before(async () => {
  if (skip) return;
  // Under /var/tmp: the site's hat lets PHP write /tmp (upload temporary files), which Landlock
  // cannot narrow to PHP's own file names.
  work = mkdtempSync(join('/var/tmp', 'hatter-wordpress-test-'));
  chmodSync(work, 0o755);
  // Another site on the same host: its wp-config.php is world-readable, so only confinement stops a read.
  mkdirSync(join(work, 'other'), { mode: 0o755 });
  otherConfig = join(work, 'other', 'wp-config.php');
  writeFileSync(otherConfig, `<?php define('DB_PASSWORD', '${OTHER_SECRET}');\n`, { mode: 0o644 });
  site = await setUpWordPress(work, { posts: 1 });
  const port = await freePort();
  const policyFile = join(work, 'hatter-wordpress.policy');
  const { config, policy } = hatterWordPressConfig(site, { port, admin: await freePort(), backend: 'landlock', policyFile, children: 2 });
  writeFileSync(policyFile, policy);
  server = await startHatterWith(work, repoRoot, 'hatter-wordpress', config, port, 'landlock', [
    ['/', (body) => body.includes('wp-content/themes/')], ['/wp-login.php', (body) => body.includes('user_login')],
  ]);
  host = `127.0.0.1:${port}`;
});

after(async () => {
  await server?.stop();
  await site?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** WordPress pages on a loaded 2-core machine (the first ones compile much of WordPress): a minute each at most. */
const get = (port: number, hostHeader: string, path: string, options: Parameters<typeof getWithin>[3] = {}): Promise<Reply> =>
  getWithin(port, hostHeader, path, { timeoutMs: 60_000, ...options });

/** name=value of every Set-Cookie, joined for a Cookie header. */
function cookiesOf(reply: Reply, previous = ''): string {
  const jar = new Map(previous.split('; ').filter(Boolean).map((pair) => [pair.split('=')[0]!, pair] as const));
  for (const line of reply.headers['set-cookie'] ?? []) {
    const pair = line.split(';')[0]!;
    jar.set(pair.split('=')[0]!, pair);
  }
  return [...jar.values()].join('; ');
}

test('WordPress under hatter serve (Landlock): login and a picture upload work; PHP in the uploads reads its own wp-config.php, not another site\'s', { skip, timeout: 240_000 }, async () => {
  const port = server!.port;
  // Log in: wp-login.php wants its test cookie, then sets the authentication cookies and redirects.
  const testCookie = 'wordpress_test_cookie=WP%20Cookie%20check';
  const form = new URLSearchParams({ log: WORDPRESS_ADMIN.user, pwd: WORDPRESS_ADMIN.password, 'wp-submit': 'Log In', redirect_to: `http://${host}/wp-admin/`, testcookie: '1' }).toString();
  const login = await get(port, host, '/wp-login.php', { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: testCookie } });
  assert.equal(login.status, 302, `login: ${login.status} ${login.body.toString().slice(0, 300)}`);
  const cookies = cookiesOf(login, testCookie);
  assert.match(cookies, /wordpress_logged_in_[0-9a-f]+=/, `no login cookie: ${JSON.stringify(login.headers['set-cookie'])}`);

  // The upload form's nonce, then the upload through async-upload.php as the media library does it.
  const page = await get(port, host, '/wp-admin/media-new.php', { headers: { cookie: cookies } });
  assert.equal(page.status, 200, `media-new.php: ${page.status}`);
  const nonce = /"_wpnonce":"([0-9a-f]+)"/.exec(page.body.toString())?.[1];
  assert.ok(nonce, 'no upload nonce on media-new.php');
  const boundary = `hatter${Date.now()}`;
  const field = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const body = Buffer.concat([
    Buffer.from(field('name', 'pixel.png') + field('action', 'upload-attachment') + field('_wpnonce', nonce)),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="async-upload"; filename="pixel.png"\r\nContent-Type: image/png\r\n\r\n`),
    PIXEL,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const upload = await get(port, host, '/wp-admin/async-upload.php', { method: 'POST', body, headers: { cookie: cookies, 'content-type': `multipart/form-data; boundary=${boundary}` } });
  assert.equal(upload.status, 200, `upload: ${upload.status} ${upload.body.toString().slice(0, 300)}`);
  const uploaded = JSON.parse(upload.body.toString()) as { success: boolean; data?: { url?: string; message?: string } };
  assert.equal(uploaded.success, true, `upload refused: ${upload.body.toString().slice(0, 300)}`);
  const picture = await get(port, host, new URL(uploaded.data!.url!).pathname);
  assert.equal(picture.status, 200);
  assert.deepEqual(picture.body, PIXEL, 'the uploaded picture is served back');

  // A PHP file in the upload directory reads what it is told to.
  writeFileSync(join(site!.uploads, 'probe.php'), `<?php
$text = @file_get_contents($_GET['f']);
echo $text === false ? 'DENIED: ' . (error_get_last()['message'] ?? '') : $text;
`, { mode: 0o644 });
  const own = await get(port, host, `/wp-content/uploads/probe.php?f=${encodeURIComponent(join(site!.root, 'wp-config.php'))}`);
  assert.equal(own.status, 200);
  assert.match(own.body.toString(), /define\('DB_PASSWORD'/, `its own wp-config.php: ${own.body.toString().slice(0, 200)}`);
  const other = await get(port, host, `/wp-content/uploads/probe.php?f=${encodeURIComponent(otherConfig)}`);
  assert.match(other.body.toString(), /^DENIED: .*Permission denied/, `another site's wp-config.php: ${other.body.toString().slice(0, 200)}`);
  assert.doesNotMatch(other.body.toString(), new RegExp(OTHER_SECRET));
});
