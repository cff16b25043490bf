// The tenant model shared by learn, isolate and lint: sources, merging, and the checks every model gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { patternsOverlap } from '../../src/policy/aare/index.js';
import {
  areaPatterns, checkTenantAreas, memoryFileSystem, mergeTenantModels, readApacheConfig, readFpmConfig, tenantOfHat, tenantOfPath,
  tenantsFromApache, tenantsFromFlags, tenantsFromFpm,
} from '../../src/web/index.js';
import { parseServeConfig } from '../../src/server/config.js';
import { tenantsFromServeConfig } from '../../src/server/tenants.js';

test('--tenant flags: hats with the same directories form one tenant; bad flags are diagnostics', () => {
  const m = tenantsFromFlags(['alice=/srv/www/alice/', 'alice-admin=/srv/www/alice', 'bob=/srv/www/bob,/var/lib/bob', 'broken', 'rel=srv/x']);
  assert.deepEqual(m.tenants.map((t) => [t.name, t.hats, t.areas.map((a) => a.path)]), [
    ['alice+alice-admin', ['alice', 'alice-admin'], ['/srv/www/alice']],
    ['bob', ['bob'], ['/srv/www/bob', '/var/lib/bob']],
  ]);
  assert.deepEqual(m.diagnostics.map((d) => d.code), ['tenant/bad-flag', 'tenant/relative-area']);
});

test('an area inside another tenant\'s area is reported, not merged; the innermost area owns a path', () => {
  const m = tenantsFromFlags(['outer=/srv/www', 'inner=/srv/www/bob']);
  assert.equal(m.tenants.length, 2);
  assert.deepEqual(m.diagnostics.map((d) => d.code), ['tenant/nested-area']);
  assert.equal(tenantOfPath(m.tenants, '/srv/www/bob/wp-config.php')?.name, 'inner');
  assert.equal(tenantOfPath(m.tenants, '/srv/www/alice/x')?.name, 'outer');
  assert.equal(tenantOfPath(m.tenants, '/srv/wwwx'), undefined);
  assert.equal(tenantOfHat(m.tenants, 'inner')?.name, 'inner');
});

test('area patterns are exact AARE: a sibling glob reaches them, a lookalike prefix does not', () => {
  const [dir, below] = areaPatterns({ path: '/srv/www/bo{b}' });
  assert.equal(dir, '/srv/www/bo\\{b\\}');
  const reach = (glob: string) => areaPatterns({ path: '/srv/www/bob' }).some((p) => {
    const r = patternsOverlap(glob, p);
    assert.ok(r.ok);
    return r.overlap;
  });
  assert.equal(reach('/srv/www/*/wp-config.php'), true);
  assert.equal(reach('/srv/www/bobby/**'), false);
  assert.equal(reach('/srv/www/bob'), true);
  assert.ok(below?.endsWith('/**'));
});

test('Apache: one tenant per vhost with DocumentRoot, Directory and Alias areas and its hats', () => {
  const { config } = readApacheConfig('/etc/apache2/apache2.conf', { fs: memoryFileSystem({
    '/etc/apache2/apache2.conf': `<VirtualHost *:80>
ServerName alice.example
DocumentRoot /srv/www/alice/public
Alias /media /srv/media/alice
<Directory /srv/www/alice/private>
  AAHatName alice-admin
</Directory>
<Location /api>
  AAHatName alice-api
</Location>
</VirtualHost>
<VirtualHost *:80>
ServerName bob.example
AADefaultHatName bob
DocumentRoot /srv/www/bob
</VirtualHost>
` }), modules: ['apparmor_module', 'alias_module'] });
  const m = tenantsFromApache(config);
  assert.deepEqual(m.tenants.map((t) => [t.name, t.hats, t.areas.map((a) => `${a.kind}:${a.path}`)]), [
    ['alice.example', ['alice.example', 'alice-admin', 'alice-api'], ['documentRoot:/srv/www/alice/public', 'directory:/srv/www/alice/private', 'alias:/srv/media/alice']],
    ['bob.example', ['bob'], ['documentRoot:/srv/www/bob']],
  ]);
  assert.ok(m.shared.includes('HANDLING_UNTRUSTED_INPUT'));
  assert.equal(m.tenants[0]!.areas[0]!.origin?.file, '/etc/apache2/apache2.conf');
});

test('PHP-FPM: chdir is the area, apparmor_hat the hat, user the user; merged with Apache by shared hat', () => {
  const { config } = readFpmConfig('/etc/php/8.2/fpm/php-fpm.conf', { fs: memoryFileSystem({
    '/etc/php/8.2/fpm/php-fpm.conf': '[bob]\nuser = bob\nlisten = /run/php/bob.sock\nchdir = /srv/www/bob\napparmor_hat = bob\n[nohat]\nuser = x\nlisten = /run/x.sock\n',
  }) });
  const fpm = tenantsFromFpm(config, 'php-fpm');
  assert.deepEqual(fpm.tenants.map((t) => [t.name, t.hats, t.user, t.areas.map((a) => a.path)]), [['bob', ['bob'], 'bob', ['/srv/www/bob']], ['nohat', [], 'x', []]]);
  assert.deepEqual(fpm.diagnostics.map((d) => d.code), ['tenant/no-hat', 'tenant/no-area']);
  const merged = mergeTenantModels([tenantsFromFlags(['bob=/srv/www/bob/uploads']), fpm]);
  const bob = merged.tenants.find((t) => t.hats.includes('bob'))!;
  assert.deepEqual(bob.areas.map((a) => a.path), ['/srv/www/bob/uploads', '/srv/www/bob']);
  assert.equal(bob.user, 'bob');
});

test('two tenants claiming the same directory is an error; a missing area is an error', () => {
  const m = mergeTenantModels([tenantsFromFlags(['a=/srv/x']), tenantsFromFlags(['b=/srv/x/'])]);
  assert.ok(m.diagnostics.some((d) => d.code === 'tenant/same-area' && d.severity === 'error'));
  const missing = checkTenantAreas(m, memoryFileSystem({ '/srv/other/f': '' }));
  assert.deepEqual(missing.map((d) => d.code), ['tenant/missing-area', 'tenant/missing-area']);
  assert.deepEqual(checkTenantAreas(m, memoryFileSystem({ '/srv/x/f': '' })), []);
});

test('hatter.yaml: each site with its document root, handler roots and hats', () => {
  const { config, diagnostics } = parseServeConfig(`listen: 127.0.0.1:8080
policy: { profile: demo }
sites:
  - serverName: alice.localhost
    documentRoot: /srv/alice/public
    locations:
      - prefix: /app
        hat: alice-app
        handler: { type: node, module: /srv/alice/app/hello.mjs }
      - prefix: /cgi-bin/
        handler: { type: cgi, root: /srv/alice/cgi-bin }
  - serverName: bob.localhost
    defaultHat: bob
    documentRoot: /srv/bob/public
`, '/etc/hatter.yaml');
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
  const m = tenantsFromServeConfig(config!);
  assert.deepEqual(m.tenants.map((t) => [t.name, t.hats, t.profile, t.areas.map((a) => a.path)]), [
    ['alice.localhost', ['alice.localhost', 'alice-app'], 'demo', ['/srv/alice/public', '/srv/alice/app', '/srv/alice/cgi-bin', '/srv/alice']],
    ['bob.localhost', ['bob'], 'demo', ['/srv/bob/public']],
  ]);
});

test('hatter.yaml: a site home is added only when it holds no other site', () => {
  const { config } = parseServeConfig(`listen: 127.0.0.1:8080
sites:
  - serverName: a.localhost
    documentRoot: /srv/www/a
    locations: [{ prefix: /x, handler: { type: cgi, root: /srv/www/a-cgi } }]
  - serverName: b.localhost
    documentRoot: /srv/www/b
`, '/etc/hatter.yaml');
  const m = tenantsFromServeConfig(config!);
  // /srv/www holds b's root too: a's area stays its two roots.
  assert.deepEqual(m.tenants[0]!.areas.map((a) => a.path), ['/srv/www/a', '/srv/www/a-cgi']);
  assert.deepEqual(m.diagnostics, []);
});
