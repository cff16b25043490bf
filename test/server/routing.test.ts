import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfigFile } from '../../src/server/serve.js';
import { loadPolicyHats, hatChooser } from '../../src/server/policy-hats.js';
import { parseServeConfig } from '../../src/server/config.js';
import { Router, chooserFromHats, normalizeUriPath, prefixMatches, requestMapConfig } from '../../src/server/routing.js';
import { apacheSites } from '../../src/server/apache.js';
import { mapRequest, memoryFileSystem, readApacheConfig, whichHat } from '../../src/web/index.js';
import { repoRoot } from '../support/repo.js';

const demo = join(repoRoot, 'examples', 'hosting', 'hatter.yaml');

test('demo: each site lands in its own hat of hatter-demo; unknown hosts go to the first site', () => {
  const { config, diagnostics } = loadConfigFile(demo);
  assert.deepEqual(diagnostics, []);
  assert.ok(config);
  const policy = loadPolicyHats(config);
  assert.ok(policy.hats, JSON.stringify(policy.diagnostics));
  assert.deepEqual([...policy.hats.hats].sort(), ['DEFAULT_URI', 'HANDLING_UNTRUSTED_INPUT', 'alice.localhost', 'bob.localhost']);
  assert.deepEqual(policy.diagnostics.filter((d) => d.severity !== 'info'), []);
  const router = new Router(config, hatChooser(policy.hats));
  const cases: [string, string, string, string][] = [
    ['alice.localhost', '/', 'hatter-demo//alice.localhost', 'static'],
    ['alice.localhost', '/hello', 'hatter-demo//alice.localhost', 'node'],
    ['bob.localhost', '/read', 'hatter-demo//bob.localhost', 'node'],
    ['bob.localhost', '/cgi-bin/hello.cgi', 'hatter-demo//bob.localhost', 'cgi'],
    ['unknown.example', '/hello', 'hatter-demo//alice.localhost', 'node'],
  ];
  for (const [host, path, label, type] of cases) {
    const route = router.route(host, path)!;
    assert.equal(route.label, label, `${host}${path}`);
    assert.equal(route.handler.type, type, `${host}${path}`);
  }
  assert.deepEqual(router.route('bob.localhost', '/cgi-bin/hello.cgi')!.candidates, ['bob.localhost', 'bob.localhost-/cgi-bin/hello.cgi', '/cgi-bin/hello.cgi', 'DEFAULT_URI']);
  assert.equal(router.route('bob.localhost', '/cgi-bin/hello.cgi')!.locationPrefix, '/cgi-bin/');
});

test('the hat vector falls through: AAHatName, default hat, ServerName-URI, URI, DEFAULT_URI, parent', () => {
  const { config } = parseServeConfig(`policy: { profile: web }
sites:
  - serverName: shop.example
    documentRoot: /srv/shop
    defaultHat: shop
    locations:
      - prefix: /cart
        hat: checkout
      - prefix: /cart/admin
        hat: admin
`, '/etc/hatter/hatter.yaml');
  assert.ok(config);
  const route = (hats: string[], path: string) => new Router(config, chooserFromHats(new Set(hats))).route('shop.example', path)!;
  assert.deepEqual(route([], '/cart/add.php').candidates, ['checkout', 'shop', 'shop.example-/cart/add.php', '/cart/add.php', 'DEFAULT_URI']);
  assert.equal(route(['checkout', 'shop'], '/cart/add.php').label, 'web//checkout');
  assert.equal(route(['shop'], '/cart/add.php').label, 'web//shop');
  assert.equal(route(['shop.example-/cart/add.php', '/cart/add.php'], '/cart/add.php').hat, 'shop.example-/cart/add.php');
  assert.equal(route(['/cart/add.php'], '/cart/add.php').hat, '/cart/add.php');
  assert.equal(route(['DEFAULT_URI'], '/cart/add.php').hat, 'DEFAULT_URI');
  assert.equal(route([], '/cart/add.php').label, 'web');
  // The last matching location that sets a hat wins (Apache merges <Location> in file order).
  assert.equal(route(['admin', 'checkout'], '/cart/admin/x').hat, 'admin');
  // Prefixes match on segment boundaries; the vector uses the decoded, normalized URI.
  assert.equal(route(['checkout', 'shop'], '/cartoon').hat, 'shop');
  assert.deepEqual(route([], '/a/../cart/%61dd').candidates.slice(2, 4), ['shop.example-/cart/add', '/cart/add']);
});

test('URI normalization and prefix matching', () => {
  assert.equal(normalizeUriPath('/a//b/./c/../d'), '/a/b/d');
  assert.equal(normalizeUriPath('/%2e%2e/x'), undefined);
  assert.equal(normalizeUriPath('/a/%2f'), undefined);
  assert.equal(normalizeUriPath('/../etc/passwd'), undefined);
  assert.equal(prefixMatches('/app', '/app'), true);
  assert.equal(prefixMatches('/app', '/app/x'), true);
  assert.equal(prefixMatches('/app', '/apple'), false);
  assert.equal(prefixMatches('/app/', '/app/x'), true);
});

test('startup warns about configured hats the policy lacks', () => {
  const { config } = parseServeConfig(`policy: { file: ${join(repoRoot, 'examples', 'hosting', 'policy', 'hatter-demo')}, profile: hatter-demo }
sites:
  - serverName: alice.localhost
    documentRoot: /srv/a
    locations:
      - prefix: /x
        hat: nosuchhat
  - serverName: carol.localhost
    documentRoot: /srv/c
`, '/etc/hatter/hatter.yaml');
  assert.ok(config);
  const { hats, diagnostics } = loadPolicyHats(config);
  assert.ok(hats);
  const warnings = diagnostics.filter((d) => d.code === 'serve/hat-not-in-policy').map((d) => d.message);
  assert.equal(warnings.length, 2);
  assert.ok(warnings.some((m) => m.includes("'nosuchhat'")));
  assert.ok(warnings.some((m) => m.includes('carol.localhost') && m.includes('DEFAULT_URI')));
  const missing = loadPolicyHats({ ...config, policy: { ...config.policy, profile: 'nope' } });
  assert.equal(missing.hats, undefined);
  assert.equal(missing.diagnostics.at(-1)?.code, 'serve/profile-not-in-policy');
});

const BOB_FORMS = ['bob.localhost', 'BOB.LOCALHOST', 'bob.localhost.', 'bob.localhost.:80', 'Bob.Localhost.:8080', 'bob.localhost:80', 'bob.localhost:'];

test('every form of a Host reaches the same site in serve routing and in which-hat', () => {
  const { config } = loadConfigFile(demo);
  assert.ok(config);
  const router = new Router(config, chooserFromHats(new Set(['alice.localhost', 'bob.localhost'])));
  const model = requestMapConfig(config);
  for (const host of BOB_FORMS) {
    const route = router.route(host, '/hello')!;
    assert.equal(route.site.serverName, 'bob.localhost', host);
    assert.equal(route.label, 'hatter-demo//bob.localhost', host);
    const mapped = mapRequest(model, { url: '/hello', host });
    assert.ok(mapped.ok, host);
    assert.equal(mapped.serverName, 'bob.localhost', host);
  }
  // An IPv6 literal (with port) names no site: the first one, in both.
  assert.equal(router.route('[::1]:8080', '/')!.site.serverName, 'alice.localhost');
  const v6 = mapRequest(model, { url: '/', host: '[::1]:8080' });
  assert.ok(v6.ok && v6.serverName === 'alice.localhost');
  // What httpd refuses as a malformed Host (400) is refused by both.
  assert.equal(router.route('bob..localhost', '/'), undefined);
  assert.deepEqual(mapRequest(model, { url: '/', host: 'bob..localhost' }).ok, false);

  // The same through an Apache configuration: serve --apache and which-hat.
  const { config: apache } = readApacheConfig('/etc/apache2/apache2.conf', { fs: memoryFileSystem({ '/etc/apache2/apache2.conf': `LoadModule apparmor_module m.so
<VirtualHost *:80>
  ServerName alice.localhost
  DocumentRoot /srv/alice
</VirtualHost>
<VirtualHost *:80>
  ServerName bob.localhost
  DocumentRoot /srv/bob
</VirtualHost>
` }) });
  const apacheRouter = new Router({ sites: apacheSites(apache, []), policy: { profile: 'apache2' }, hatOrder: 'current' }, chooserFromHats(new Set(['alice.localhost', 'bob.localhost'])));
  const profile = { name: 'apache2', baseName: 'apache2', isHat: false, mode: 'enforce' as const, children: ['alice.localhost', 'bob.localhost'].map((h) => ({ name: `apache2//${h}`, baseName: h, isHat: true, mode: 'enforce' as const, children: [] })) };
  for (const host of BOB_FORMS) {
    assert.equal(apacheRouter.route(host, '/')!.label, 'apache2//bob.localhost', host);
    const answer = whichHat(apache, { url: '/', host, port: 80 }, profile);
    assert.ok(answer.ok && answer.selection.label === 'apache2//bob.localhost', host);
  }
});

test('serve --apache: <Location> wildcards, <Directory> and <Files> merge as in which-hat, not as literal prefixes', () => {
  const { config: apache, diagnostics } = readApacheConfig('/etc/apache2/apache2.conf', { fs: memoryFileSystem({ '/etc/apache2/apache2.conf': `LoadModule apparmor_module m.so
<VirtualHost *:80>
  ServerName shop.example
  DocumentRoot /srv/shop
  <Location /a/*>
    AAHatName glob
  </Location>
  <Location /admin>
    AAHatName location
  </Location>
  <Directory /srv/shop/admin>
    AAHatName directory
  </Directory>
  <Files "*.php">
    AAHatName php
  </Files>
</VirtualHost>
` }) });
  assert.deepEqual(diagnostics, []);
  const sites = apacheSites(apache, []);
  const router = new Router({ sites, policy: { profile: 'apache2' }, hatOrder: 'current' }, chooserFromHats(new Set(['glob', 'location', 'directory', 'php'])));
  const hat = (path: string) => router.route('shop.example', path)!.hat;
  assert.equal(hat('/a/x'), 'glob');
  assert.equal(hat('/a/x/y'), null, "'*' matches one segment and a wildcard <Location> the whole URI");
  assert.equal(hat('/a*'), null, "'*' is a wildcard, not a literal prefix");
  // <Location> merges after <Directory> whatever the file order; <Files> between them.
  assert.equal(hat('/admin/x'), 'location');
  assert.equal(hat('/x.php'), 'php');
  for (const path of ['/a/x', '/a/x/y', '/admin/x', '/x.php', '/other']) {
    const mapped = mapRequest(apache, { url: path, host: 'shop.example', port: 80 });
    assert.ok(mapped.ok);
    assert.equal(router.route('shop.example', path)!.candidates[0], mapped.vectorInput.hatName ?? 'shop.example', path);
  }
});
