// Apache's per-directory merge order, observed on a real apache2: every section sets the environment
// variable SECTION (mod_env overlays, so the last merged section wins, exactly like mod_apparmor's
// AAHatName) and mod_headers echoes it. The same sections carry AAHatName inside <IfModule mod_apparmor.c>
// (skipped by Apache, which lacks the module here; read by hatter told the module is loaded), so hatter's
// winning AAHatName must equal Apache's header for every request. Skips when apache2 is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { COMPILED_IN_MODULES, mapRequest, nodeFileSystem, readApacheConfig } from '../../src/web/index.js';

const APACHE = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';
const NEEDED = ['mpm_prefork', 'authz_core', 'env', 'headers', 'alias'];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function sectionHeader(port: number, path: string): Promise<{ status: number; section: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { Host: 'site.test', Connection: 'close' }, agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, section: res.headers['x-section'] as string | undefined }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const section = (open: string, close: string, id: string, extra = '') =>
  `${open}\n    SetEnv SECTION ${id}\n    <IfModule mod_apparmor.c>\n        AAHatName ${id}\n    </IfModule>\n${extra}${close}\n`;

// path → the section that must win (by hand, from httpd's merge rules)
const EXPECTED: Readonly<Record<string, string>> = {
  '/which.txt': 'site-dir',
  '/sub/x.html': 'sub-dir',
  '/sub/y.txt': 'sub-txt-files',
  '/re/z.html': 'dirmatch',
  '/a.cgi': 'cgi-files',
  '/re/a.php': 'php-filesmatch',
  '/loc/x.html': 'main-location',
  '/loc/inner/x.html': 'vhost-location',
  '/api/x.php': 'api-locationmatch',
  '/locx.html': 'site-dir',
  '/static/s.css': 'static-dir',
};

test('hatter merges <Directory>/<Files>/<Location> sections in the order apache2 does', { timeout: 60_000 }, async (t) => {
  if (!existsSync(APACHE) || !NEEDED.every((m) => existsSync(join(MODULES, `mod_${m}.so`)))) return t.skip('skipped: apache2 not installed (apt-get install apache2)');
  const dir = mkdtempSync(join(tmpdir(), 'hatter-merge-'));
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const site = join(dir, 'site');
  const files = ['which.txt', 'sub/x.html', 'sub/y.txt', 're/z.html', 'a.cgi', 're/a.php', 'loc/x.html', 'loc/inner/x.html', 'api/x.php', 'locx.html'];
  for (const f of files) {
    mkdirSync(dirname(join(site, f)), { recursive: true });
    writeFileSync(join(site, f), 'x\n');
  }
  mkdirSync(join(dir, 'static'));
  writeFileSync(join(dir, 'static', 's.css'), 'x\n');
  const conf = join(dir, 'apache2.conf');
  writeFileSync(conf, `ServerRoot ${dir}
Mutex file:${dir} default
PidFile ${dir}/apache2.pid
ErrorLog ${dir}/error.log
User www-data
Group www-data
ServerName main.test
Listen 127.0.0.1:${port}
${NEEDED.map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`).join('\n')}
Header always set X-Section "%{SECTION}e"
DocumentRoot ${dir}
${section(`<Directory ${dir}>`, '</Directory>', 'main-dir')}
${section('<Location /loc>', '</Location>', 'main-location')}
<VirtualHost *:${port}>
    ServerName site.test
    DocumentRoot ${site}
    Alias /static/ ${dir}/static/
${section(`<Directory ${site}/sub>`, '</Directory>', 'sub-dir', section('<Files "*.txt">', '</Files>', 'sub-txt-files'))}
${section(`<Directory ${site}>`, '</Directory>', 'site-dir')}
${section('<LocationMatch "^/api/">', '</LocationMatch>', 'api-locationmatch')}
${section('<Location /loc/inner>', '</Location>', 'vhost-location')}
${section('<FilesMatch "\\.php$">', '</FilesMatch>', 'php-filesmatch')}
${section('<Files "*.cgi">', '</Files>', 'cgi-files')}
${section(`<DirectoryMatch "^${site}/(re|rx)/">`, '</DirectoryMatch>', 'dirmatch')}
${section(`<Directory ${dir}/static>`, '</Directory>', 'static-dir')}
</VirtualHost>
`);
  const modules = [...COMPILED_IN_MODULES, ...NEEDED.map((m) => `${m}_module`), 'apparmor_module'];
  const { config, diagnostics } = readApacheConfig(conf, { fs: nodeFileSystem(), modules });
  assert.deepEqual(diagnostics, []);

  // hatter's answers, checked against the hand-written expectations first.
  const fsStat = nodeFileSystem();
  const hatter = (path: string) => {
    const m = mapRequest(config, { url: path, host: 'site.test', localAddress: '127.0.0.1', port }, { stat: (p) => fsStat.stat(p) });
    assert.ok(m.ok);
    return m.ok ? m.vectorInput.hatName : undefined;
  };
  for (const [path, want] of Object.entries(EXPECTED)) assert.equal(hatter(path), want, `hatter for ${path}`);

  const child = spawn(APACHE, ['-f', conf, '-X'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let ready = false;
  for (let i = 0; i < 100 && !ready && child.exitCode === null; i++) {
    try {
      await sectionHeader(port, '/which.txt');
      ready = true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (!ready) return t.skip(`skipped: apache2 -X did not start here (${stderr.trim().split('\n').pop() ?? 'no output'})`);
  for (const path of Object.keys(EXPECTED)) {
    const apache = await sectionHeader(port, path);
    assert.equal(apache.status, 200, path);
    assert.equal(hatter(path), apache.section, `${path}: Apache merged ${apache.section} last`);
  }
  child.kill('SIGTERM');
});
