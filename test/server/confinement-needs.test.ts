// FastCGI TCP ports reach the pool (hat) whose handlers connect to them, and no other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServeConfig } from '../../src/server/config.js';
import { fastcgiConnectPorts, fastcgiTcpPort, poolAccounts, resolveAccountId } from '../../src/server/confinement-needs.js';

const yaml = `
policy: { profile: web }
sites:
  - serverName: alice.example
    documentRoot: /srv/alice
    locations:
      - prefix: /php/
        handler: { type: fastcgi, address: 127.0.0.1:9001, root: /srv/alice }
  - serverName: bob.example
    documentRoot: /srv/bob
    locations:
      - prefix: /sock/
        handler: { type: fastcgi, address: unix:/run/bob.sock, root: /srv/bob }
`;

test('a host:port FastCGI handler gives its port to the hat its location routes to; unix sockets give none', () => {
  const { config, diagnostics } = parseServeConfig(yaml, '/etc/hatter/hatter.yaml');
  assert.ok(config, JSON.stringify(diagnostics));
  const hats = { profile: 'web', hats: ['alice.example', 'bob.example'] };
  const ports = fastcgiConnectPorts(config, hats);
  assert.deepEqual(ports.get('web//alice.example'), [9001]);
  assert.equal(ports.get('web//bob.example'), undefined);
  assert.equal(fastcgiTcpPort({ type: 'fastcgi', address: 'unix:/run/x.sock', root: '/' }), undefined);
  assert.equal(fastcgiTcpPort({ type: 'static', root: '/' }), undefined);
});

test('user:/group: per site: names or numbers, bad names diagnosed with line and column', () => {
  const good = parseServeConfig(`
sites:
  - { serverName: a.example, documentRoot: /srv/a, user: www-a, group: 1001 }
`, '/etc/hatter/hatter.yaml');
  assert.equal(good.config?.sites[0]?.user, 'www-a');
  assert.equal(good.config?.sites[0]?.group, 1001);
  const bad = parseServeConfig(`
sites:
  - { serverName: a.example, documentRoot: /srv/a, user: "rm -rf" }
`, '/etc/hatter/hatter.yaml');
  const d = bad.diagnostics.find((x) => x.code === 'serve-config/invalid-account');
  assert.ok(d, JSON.stringify(bad.diagnostics));
  assert.equal(d.line, 3);
});

test('a pool gets the account of its sites; sites sharing a hat with different accounts conflict', () => {
  const { config } = parseServeConfig(`
policy: { profile: web }
sites:
  - { serverName: a.example, documentRoot: /srv/a, user: www-a }
  - { serverName: b.example, documentRoot: /srv/b, defaultHat: shared, user: www-b }
  - { serverName: c.example, documentRoot: /srv/c, defaultHat: shared, user: www-c }
`, '/etc/hatter/hatter.yaml');
  assert.ok(config);
  const accounts = poolAccounts(config, { profile: 'web', hats: ['a.example', 'shared'] });
  assert.equal(accounts.get('web//a.example')?.user, 'www-a');
  assert.equal(accounts.get('web//a.example')?.conflict, undefined);
  assert.match(accounts.get('web//shared')?.conflict ?? '', /b\.example, c\.example share web\/\/shared/);
});

test('account names resolve through /etc/passwd and /etc/group text; numbers pass through', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/bash\nwww-a:x:1001:1002::/srv/a:/usr/sbin/nologin\n';
  assert.deepEqual(resolveAccountId('www-a', passwd), { id: 1001, primaryGid: 1002 });
  assert.equal(resolveAccountId('nosuch', passwd), undefined);
  assert.deepEqual(resolveAccountId(4242, passwd), { id: 4242 });
  assert.deepEqual(resolveAccountId('adm', 'adm:x:4:syslog\n'), { id: 4 });
});
