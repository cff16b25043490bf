// Table-driven scenarios: an Apache configuration, a profile, a URL and mode → the candidate vector and
// the outcome mod_apparmor and the kernel produce (hats-and-web.md §2–8). Expected values are written
// by hand from the spec, never produced by the code under test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  hatVector, mapRequest, memoryFileSystem, readApacheConfig, selectHat,
  type HatOrder, type ProfileMode, type ProfileTree, type RequestTarget,
} from '../../src/web/index.js';

const SITE_CONF = `
ServerName main.example
Listen 80
Listen 8080
LoadModule apparmor_module /usr/lib/apache2/modules/mod_apparmor.so
DocumentRoot /var/www/html
AADefaultHatName main-hat

<Directory /srv>
    AAHatName srv-all
</Directory>

<Location /server-status>
    AAHatName status
</Location>

<VirtualHost *:80>
    ServerName shop.example
    ServerAlias www.shop.example *.shop.test
    DocumentRoot /srv/shop
    AADefaultHatName shop
    Alias /static/ /srv/static/
    AliasMatch ^/img/(.*)\\.png$ /srv/images/$1.png
    <Directory /srv/shop/uploads>
        AAHatName uploads
    </Directory>
    <Directory /srv/shop>
        AAHatName shop-dir
    </Directory>
    <Directory /srv/shop/uploads/tmp>
        Require all denied
    </Directory>
    <DirectoryMatch "^/srv/shop/(private|secret)/">
        AAHatName shop-private
    </DirectoryMatch>
    <Files "*.cgi">
        AAHatName shop-cgi
    </Files>
    <Location /cart>
        AAHatName checkout
    </Location>
    <LocationMatch "^/api/v[0-9]+/">
        AAHatName api
    </LocationMatch>
    <Directory /srv/static>
        AAHatName static
    </Directory>
</VirtualHost>

<VirtualHost *:80>
    ServerName blog.example
    DocumentRoot /srv/blog
    <Location /legacy>
        ImmHatName legacy
    </Location>
    <Directory /srv/blog/wp-admin>
        <Files "*.php">
            AAHatName blog-admin-php
        </Files>
    </Directory>
</VirtualHost>

<VirtualHost *:8080>
    ServerName old.example
    DocumentRoot /var/old
    ImmDefaultHatName old
</VirtualHost>

<VirtualHost 127.0.0.2:80>
    ServerName ip.example
    DocumentRoot /var/ip
</VirtualHost>
`;

function tree(name: string, mode: ProfileMode, hats: readonly string[], children: readonly string[] = []): ProfileTree {
  return {
    name, baseName: name, isHat: false, mode,
    children: [
      ...hats.map((h) => ({ name: `${name}//${h}`, baseName: h, isHat: true, mode, children: [] })),
      ...children.map((c) => ({ name: `${name}//${c}`, baseName: c, isHat: false, mode, children: [] })),
    ],
  };
}

const HATS = ['HANDLING_UNTRUSTED_INPUT', 'DEFAULT_URI', 'shop', 'checkout', 'uploads', 'shop-private', 'static', 'blog.example', 'legacy', 'old', 'status', 'api', 'ip.example'];
const apache2 = (mode: ProfileMode = 'enforce', extraHats: readonly string[] = [], drop: readonly string[] = []): ProfileTree =>
  tree('apache2', mode, [...HATS.filter((h) => !drop.includes(h)), ...extraHats], ['shop-cgi']);

interface Row {
  readonly name: string;
  readonly target: RequestTarget;
  readonly profile?: ProfileTree | 'unconfined';
  readonly order?: HatOrder;
  readonly candidates?: readonly string[];
  readonly outcome: 'hat' | 'learning' | 'parent' | 'error' | 400 | 404;
  readonly label?: string;
  readonly warnings?: readonly string[];
  readonly vhost?: string;
}

const AAHAT_WARN = (n: string) => `[apparmor:warn] AAHatName '${n}' applies, but does not appear to be a hat in the apache apparmor policy`;
const AADEF_WARN = (n: string) => `[apparmor:warn] AADefaultHatName '${n}' applies, but does not appear to be a hat in the apache apparmor policy`;
const long = (n: number) => `/${'a'.repeat(n - 1)}`;

const ROWS: readonly Row[] = [
  // Directory merging: shortest first, so the longer path wins; the vhost's /srv/shop beats the main server's /srv.
  { name: 'site root: vhost Directory beats main-server Directory', target: { url: 'http://shop.example/' }, candidates: ['shop-dir', 'shop', 'shop.example-/', '/', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//shop', warnings: [AAHAT_WARN('shop-dir')], vhost: 'shop.example' },
  { name: 'Location beats Directory', target: { url: 'http://shop.example/cart/add.php?id=3' }, candidates: ['checkout', 'shop', 'shop.example-/cart/add.php', '/cart/add.php', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//checkout', warnings: [] },
  { name: 'Location matches the exact path', target: { url: 'http://shop.example/cart' }, candidates: ['checkout', 'shop', 'shop.example-/cart', '/cart', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//checkout' },
  { name: 'Location /cart does not match /cartoon', target: { url: 'http://shop.example/cartoon' }, candidates: ['shop-dir', 'shop', 'shop.example-/cartoon', '/cartoon', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//shop' },
  { name: 'nested Directory: the longer path wins whatever the config order', target: { url: 'http://shop.example/uploads/a.jpg' }, candidates: ['uploads', 'shop', 'shop.example-/uploads/a.jpg', '/uploads/a.jpg', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//uploads' },
  { name: 'a deeper Directory without AAHatName keeps the inherited one', target: { url: 'http://shop.example/uploads/tmp/x.bin' }, candidates: ['uploads', 'shop', 'shop.example-/uploads/tmp/x.bin', '/uploads/tmp/x.bin', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//uploads' },
  { name: 'DirectoryMatch is merged after Directory', target: { url: 'http://shop.example/private/x.html' }, candidates: ['shop-private', 'shop', 'shop.example-/private/x.html', '/private/x.html', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//shop-private' },
  { name: 'DirectoryMatch alternative branch', target: { url: 'http://shop.example/secret/y/z.txt' }, candidates: ['shop-private', 'shop', 'shop.example-/secret/y/z.txt', '/secret/y/z.txt', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//shop-private' },
  { name: 'Files after Directory; the hat is a child profile: refused (EPERM), fail-open to the parent', target: { url: 'http://shop.example/uploads/run.cgi' }, candidates: ['shop-cgi', 'shop', 'shop.example-/uploads/run.cgi', '/uploads/run.cgi', 'DEFAULT_URI'], outcome: 'parent', label: 'apache2', warnings: ['[apparmor:warn] (1)Operation not permitted: aa_change_hatv call failed'] },
  { name: 'Location after Files', target: { url: 'http://shop.example/cart/run.cgi' }, candidates: ['checkout', 'shop', 'shop.example-/cart/run.cgi', '/cart/run.cgi', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//checkout' },
  { name: 'LocationMatch', target: { url: 'http://shop.example/api/v2/items' }, candidates: ['api', 'shop', 'shop.example-/api/v2/items', '/api/v2/items', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//api' },
  { name: 'main-server Location applies inside the vhost', target: { url: 'http://shop.example/server-status' }, candidates: ['status', 'shop', 'shop.example-/server-status', '/server-status', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//status' },
  { name: "Alias'd path takes the aliased directory's section", target: { url: 'http://shop.example/static/app.js' }, candidates: ['static', 'shop', 'shop.example-/static/app.js', '/static/app.js', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//static' },
  { name: 'AliasMatch maps outside the DocumentRoot (main /srv section applies)', target: { url: 'http://shop.example/img/logo.png' }, candidates: ['srv-all', 'shop', 'shop.example-/img/logo.png', '/img/logo.png', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//shop', warnings: [AAHAT_WARN('srv-all')] },
  // Virtual host selection.
  { name: 'ServerAlias still yields the configured ServerName', target: { url: 'http://www.shop.example/' }, candidates: ['shop-dir', 'shop', 'shop.example-/', '/', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//shop', vhost: 'shop.example' },
  { name: 'wildcard ServerAlias', target: { url: 'http://eu.shop.test/cart' }, candidates: ['checkout', 'shop', 'shop.example-/cart', '/cart', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//checkout', vhost: 'shop.example' },
  { name: 'Host that matches nothing: the first vhost for the address is the default', target: { url: 'http://nobody.example/x' }, candidates: ['shop-dir', 'shop', 'shop.example-/x', '/x', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//shop', vhost: 'shop.example' },
  { name: 'no Host header: the default vhost', target: { url: '/x', host: '' }, candidates: ['shop-dir', 'shop', 'shop.example-/x', '/x', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//shop', vhost: 'shop.example' },
  { name: 'Host with port, upper case and trailing dot', target: { url: 'http://shop.example/', host: 'BLOG.Example.:80' }, candidates: ['srv-all', 'blog.example', 'blog.example-/', '/', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//blog.example', vhost: 'blog.example' },
  { name: "main server's AADefaultHatName is not inherited: the vhost's ServerName is used", target: { url: 'http://blog.example/post/1' }, candidates: ['srv-all', 'blog.example', 'blog.example-/post/1', '/post/1', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//blog.example', warnings: [AAHAT_WARN('srv-all')], vhost: 'blog.example' },
  { name: 'ImmHatName alias of AAHatName', target: { url: 'http://blog.example/legacy/page' }, candidates: ['legacy', 'blog.example', 'blog.example-/legacy/page', '/legacy/page', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//legacy' },
  { name: 'Files nested in Directory; the missing hat falls through to the ServerName', target: { url: 'http://blog.example/wp-admin/index.php' }, candidates: ['blog-admin-php', 'blog.example', 'blog.example-/wp-admin/index.php', '/wp-admin/index.php', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//blog.example', warnings: [AAHAT_WARN('blog-admin-php')] },
  { name: 'nested Files do not apply outside their Directory', target: { url: 'http://blog.example/index.php' }, candidates: ['srv-all', 'blog.example', 'blog.example-/index.php', '/index.php', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//blog.example' },
  { name: 'ImmDefaultHatName alias of AADefaultHatName, on another port', target: { url: 'http://old.example:8080/x' }, candidates: ['old', 'old.example-/x', '/x', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//old', vhost: 'old.example' },
  { name: 'no vhost for the port: the main server, its own AADefaultHatName', target: { url: 'http://anything.example:9090/x' }, candidates: ['main-hat', 'main.example-/x', '/x', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//DEFAULT_URI', warnings: [AADEF_WARN('main-hat')], vhost: 'main.example' },
  { name: 'https on 443 with no vhost for it: main server', target: { url: 'https://shop.example/cart' }, candidates: ['main-hat', 'main.example-/cart', '/cart', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//DEFAULT_URI', vhost: 'main.example' },
  { name: 'IP-based vhost wins over the wildcard ones for its address', target: { url: 'http://shop.example/', localAddress: '127.0.0.2' }, candidates: ['ip.example', 'ip.example-/', '/', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//ip.example', vhost: 'ip.example' },
  { name: 'IP literal in the URL is the local address', target: { url: 'http://127.0.0.2/a' }, candidates: ['ip.example', 'ip.example-/a', '/a', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//ip.example', vhost: 'ip.example' },
  // URI decoding and normalisation.
  { name: 'percent-encoded unreserved characters are decoded before matching', target: { url: 'http://shop.example/c%61rt/add.php' }, candidates: ['checkout', 'shop', 'shop.example-/cart/add.php', '/cart/add.php', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//checkout' },
  { name: 'percent-encoded space is decoded in the URI hat names', target: { url: 'http://blog.example/a%20b.html' }, candidates: ['srv-all', 'blog.example', 'blog.example-/a b.html', '/a b.html', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//blog.example' },
  { name: 'UTF-8 percent-encoding', target: { url: 'http://blog.example/caf%C3%A9' }, candidates: ['srv-all', 'blog.example', 'blog.example-/café', '/café', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//blog.example' },
  { name: 'dot segments are removed (cannot escape a Location by ..)', target: { url: 'http://shop.example/uploads/../cart/x' }, candidates: ['checkout', 'shop', 'shop.example-/cart/x', '/cart/x', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//checkout' },
  { name: 'single dots and repeated slashes', target: { url: 'http://shop.example/./uploads//a.jpg' }, candidates: ['uploads', 'shop', 'shop.example-/uploads/a.jpg', '/uploads/a.jpg', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//uploads' },
  { name: 'encoded dot segments are decoded first, then removed', target: { url: 'http://shop.example/x/%2e%2e/cart' }, candidates: ['checkout', 'shop', 'shop.example-/cart', '/cart', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//checkout' },
  { name: 'traversal above the root is a 400', target: { url: 'http://shop.example/../etc/passwd' }, outcome: 400 },
  { name: 'encoded traversal above the root is a 400', target: { url: 'http://shop.example/%2E%2E/etc/passwd' }, outcome: 400 },
  { name: 'encoded slash is a 404 (AllowEncodedSlashes Off)', target: { url: 'http://shop.example/a%2Fb' }, outcome: 404 },
  { name: 'broken percent-escape is a 400', target: { url: 'http://shop.example/a%zz' }, outcome: 400 },
  // Long URIs.
  { name: 'URI over PATH_MAX: libapparmor refuses the whole vector (EPROTO), parent', target: { url: `http://blog.example${long(5000)}` }, candidates: ['srv-all', 'blog.example', `blog.example-${long(5000)}`, long(5000), 'DEFAULT_URI'], outcome: 'parent', label: 'apache2', warnings: ['[apparmor:warn] (71)Protocol error: aa_change_hatv call failed'] },
  { name: 'URI of exactly 4096 bytes is refused too', target: { url: `http://blog.example${long(4096)}` }, outcome: 'parent', label: 'apache2' },
  { name: 'names under PATH_MAX but a command over one page: the kernel acts on the first page, libapparmor reports the short write', target: { url: `http://shop.example${long(4000)}` }, candidates: ['shop-dir', 'shop', `shop.example-${long(4000)}`, long(4000), 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//shop', warnings: ['[apparmor:warn] (71)Protocol error: aa_change_hatv call failed', AAHAT_WARN('shop-dir')] },
  // Complain mode: only the first candidate counts.
  { name: 'complain mode: missing first candidate → learning hat null-<first>, no warnings', target: { url: 'http://shop.example/' }, profile: apache2('complain'), candidates: ['shop-dir', 'shop', 'shop.example-/', '/', 'DEFAULT_URI'], outcome: 'learning', label: 'apache2//null-shop-dir', warnings: [] },
  { name: 'complain mode: existing first candidate is entered', target: { url: 'http://shop.example/cart' }, profile: apache2('complain'), outcome: 'hat', label: 'apache2//checkout', warnings: [] },
  { name: 'complain mode never reaches DEFAULT_URI', target: { url: 'http://anything.example:9090/x' }, profile: apache2('complain'), candidates: ['main-hat', 'main.example-/x', '/x', 'DEFAULT_URI'], outcome: 'learning', label: 'apache2//null-main-hat' },
  { name: 'complain mode: a first candidate that is a child profile is still refused', target: { url: 'http://shop.example/run.cgi' }, profile: apache2('complain'), outcome: 'parent', label: 'apache2' },
  { name: 'kill mode resolves like enforce', target: { url: 'http://shop.example/' }, profile: apache2('kill'), outcome: 'hat', label: 'apache2//shop', warnings: [] },
  // Hat orders.
  { name: 'order 2.8.95: AAHatName, URI, AADefaultHatName, DEFAULT_URI', target: { url: 'http://shop.example/cart/add.php' }, order: '2.8.95', candidates: ['checkout', '/cart/add.php', 'shop', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//checkout' },
  { name: 'current order: the default hat comes before a URI hat', target: { url: 'http://shop.example/about.html' }, profile: apache2('enforce', ['/about.html']), candidates: ['shop-dir', 'shop', 'shop.example-/about.html', '/about.html', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//shop' },
  { name: 'order 2.8.95: the URI hat comes before the default hat', target: { url: 'http://shop.example/about.html' }, order: '2.8.95', profile: apache2('enforce', ['/about.html']), candidates: ['shop-dir', '/about.html', 'shop', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2///about.html' },
  { name: 'order 2.8.95 without AAHatName: URI, then the default hat, then DEFAULT_URI', target: { url: 'http://nohats.example:9090/x' }, order: '2.8.95', candidates: ['/x', 'main-hat', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//DEFAULT_URI' },
  { name: 'ServerName-URI hat (current order only) lands, with the documented false-positive warning', target: { url: 'http://blog.example/special' }, profile: apache2('enforce', ['blog.example-/special'], ['blog.example']), candidates: ['srv-all', 'blog.example', 'blog.example-/special', '/special', 'DEFAULT_URI'], outcome: 'hat', label: 'apache2//blog.example-/special', warnings: [AAHAT_WARN('srv-all')] },
  // Kernel errors.
  { name: 'Apache unconfined: EPERM, served unconfined, no sanity warning', target: { url: 'http://shop.example/cart' }, profile: 'unconfined', outcome: 'error', label: 'unconfined', warnings: ['[apparmor:warn] (1)Operation not permitted: aa_change_hatv call failed'] },
  { name: 'profile without any hats: ECHILD, parent, both error-log lines', target: { url: 'http://shop.example/cart' }, profile: tree('apache2', 'enforce', []), outcome: 'parent', label: 'apache2', warnings: ["[apparmor:error] Failed to change_hat to 'HANDLING_UNTRUSTED_INPUT'", '[apparmor:warn] (10)No child processes: aa_change_hatv call failed'] },
  { name: 'no candidate is a hat: ENOENT, parent', target: { url: 'http://shop.example/cart' }, profile: tree('apache2', 'enforce', ['HANDLING_UNTRUSTED_INPUT', 'other']), outcome: 'parent', label: 'apache2', warnings: ['[apparmor:warn] (2)No such file or directory: aa_change_hatv call failed'] },
  { name: 'profile in unconfined mode behaves as unconfined (EPERM)', target: { url: 'http://shop.example/cart' }, profile: apache2('unconfined'), outcome: 'parent', label: 'apache2' },
];

const fs = memoryFileSystem({ '/etc/apache2/apache2.conf': SITE_CONF });
const { config, diagnostics } = readApacheConfig('/etc/apache2/apache2.conf', { fs });

test('the scenario configuration reads without diagnostics', () => {
  assert.deepEqual(diagnostics, []);
  assert.equal(config.vhosts.length, 4);
});

test(`the table has at least 40 scenarios (${ROWS.length})`, () => {
  assert.ok(ROWS.length >= 40);
});

for (const row of ROWS) {
  test(row.name, () => {
    const mapped = mapRequest(config, row.target, { defaultServerName: 'fallback.invalid' });
    if (typeof row.outcome === 'number') {
      assert.equal(mapped.ok, false, 'httpd rejects the request');
      if (!mapped.ok) assert.equal(mapped.status, row.outcome);
      return;
    }
    assert.ok(mapped.ok, !mapped.ok ? mapped.reason : '');
    if (!mapped.ok) return;
    if (row.vhost !== undefined) assert.equal(mapped.serverName, row.vhost, 'vhost');
    const candidates = hatVector(mapped.vectorInput, row.order ?? 'current');
    if (row.candidates) assert.deepEqual(candidates, row.candidates);
    const selection = selectHat(row.profile ?? apache2(), candidates, mapped.vectorInput);
    assert.equal(selection.outcome, row.outcome, selection.reason);
    if (row.label !== undefined) assert.equal(selection.label, row.label);
    if (row.warnings !== undefined) assert.deepEqual(selection.warnings, row.warnings);
  });
}

test('with the file system: the directory walk stops at a missing directory, and a directory gets its trailing slash', () => {
  const files = memoryFileSystem({ '/srv/shop/uploads/a.jpg': '', '/srv/shop/index.php': '' });
  const stat = (p: string) => files.stat(p);
  const missing = mapRequest(config, { url: 'http://shop.example/uploads/tmp/x/y' }, { stat });
  assert.ok(missing.ok);
  if (!missing.ok) return;
  assert.equal(missing.filePath, '/srv/shop/uploads/tmp');
  assert.equal(missing.pathInfo, '/x/y');
  // /srv/shop/uploads/tmp is not a directory here, so <Directory /srv/shop/uploads/tmp> does not apply.
  assert.deepEqual(missing.sections.map((s) => s.section.pattern), ['/srv', '/srv/shop', '/srv/shop/uploads']);
  const dir = mapRequest(config, { url: 'http://shop.example/uploads' }, { stat });
  assert.ok(dir.ok && dir.filePath === '/srv/shop/uploads/');
  if (dir.ok) assert.equal(dir.vectorInput.hatName, 'uploads');
  const file = mapRequest(config, { url: 'http://shop.example/index.php/extra/path' }, { stat });
  assert.ok(file.ok && file.filePath === '/srv/shop/index.php' && file.pathInfo === '/extra/path');
  const elsewhere = mapRequest(config, { url: 'http://blog.example/x' }, { stat });
  assert.ok(elsewhere.ok && elsewhere.filePath === '/srv/blog/x');
  if (elsewhere.ok) assert.match(elsewhere.notes.join('\n'), /\/srv\/blog does not exist here/);
});

test('Alias concatenates like mod_alias (a missing trailing slash in the target is kept as written)', () => {
  const fs = memoryFileSystem({ '/a.conf': 'DocumentRoot /var/www\nAlias /static/ /srv/static\nAlias /icons /usr/share/icons/\n' });
  const { config: c } = readApacheConfig('/a.conf', { fs });
  const m1 = mapRequest(c, { url: '/static/app.js' });
  assert.ok(m1.ok && m1.filePath === '/srv/staticapp.js');
  const m2 = mapRequest(c, { url: '/icons/a.png' });
  assert.ok(m2.ok && m2.filePath === '/usr/share/icons/a.png');
  const m3 = mapRequest(c, { url: '/iconsx' });
  assert.ok(m3.ok && m3.filePath === '/var/www/iconsx');
});
