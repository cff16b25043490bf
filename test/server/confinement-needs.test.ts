// FastCGI TCP ports reach the pool (hat) whose handlers connect to them, and no other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServeConfig } from '../../src/server/config.js';
import { fastcgiConnectPorts, fastcgiTcpPort } from '../../src/server/confinement-needs.js';

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
