import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { grantedSockets, socketGrantText } from '../../src/confine/sockets.js';
import { LandlockBackend } from '../../src/confine/landlock.js';
import { nodeRuntimeNeeds } from '../../src/confine/launcher.js';
import type { HatOtherRule } from '../../src/confine/hat-rules.js';
import { landlockSkipReason, launcherPath, runLauncher, scratchDir } from '../support/confine.js';

const source = { file: 'p', line: 3, col: 1 };
const rule = (kind: string, words: string[], extra: Partial<HatOtherRule> = {}): HatOtherRule => ({ kind, words, deny: false, source, text: kind, ...extra });
const texts = (rules: HatOtherRule[]) => grantedSockets(rules).grants.map(socketGrantText).sort();
const landlock = landlockSkipReason();
const python = spawnSync('/usr/bin/python3', ['-c', 'import socket'], { encoding: 'utf8' }).status === 0 ? undefined : '/usr/bin/python3 is not installed (it opens raw, packet and netlink sockets)';

test('network rules become family/type/protocol grants as AppArmor decides creation', () => {
  assert.deepEqual(texts([]), []);
  assert.deepEqual(texts([rule('network', ['inet', 'stream'])]), ['2:1:*']);
  assert.deepEqual(texts([rule('network', ['inet6'])]), ['10:*:*']);
  assert.deepEqual(texts([rule('network', ['inet', 'tcp'])]), ['2:1:0', '2:1:6']);
  assert.deepEqual(texts([rule('network', ['icmp'])]), ['10:3:58', '2:3:1']);
  assert.equal(grantedSockets([rule('network', [])]).all, true);
  assert.equal(grantedSockets([rule('file-all', [])]).all, true);
  // unix rules: creation needs `create` (or no access list and no peer)
  assert.deepEqual(texts([rule('unix', ['create'], { access: ['create'] })]), ['1:*:*']);
  assert.deepEqual(texts([rule('unix', ['send', 'receive'], { access: ['send', 'receive'], conditions: { type: ['stream'] } })]), []);
  assert.deepEqual(texts([rule('unix', [], { conditions: { 'peer.label': ['x'] } })]), []);
  assert.deepEqual(texts([rule('unix', [], { conditions: { type: ['dgram'] } })]), ['1:2:*']);
  assert.deepEqual(texts([rule('network', ['connect', 'inet', 'stream'], { access: ['connect'] })]), []);
});

test('deny rules remove creation; what a filter cannot keep is narrowed, never widened', () => {
  const bare = rule('network', []);
  const minusRaw = grantedSockets([bare, rule('network', ['raw'], { deny: true }), rule('network', ['packet'], { deny: true })]);
  assert.equal(minusRaw.all, false);
  const grants = minusRaw.grants.map(socketGrantText);
  assert.ok(grants.includes('2:1:*') && grants.includes('2:2:*'));
  assert.ok(!grants.some((g) => /^(\d+):3:/.test(g)), 'no raw socket of any family');
  assert.ok(!grants.some((g) => g.startsWith('17:')), 'no packet socket');
  // an address condition cannot limit creation: the rule grants nothing and says so
  const conditional = grantedSockets([rule('network', ['inet', 'stream'], { conditions: { ip: ['127.0.0.1'] } })]);
  assert.deepEqual(conditional.grants, []);
  assert.match(conditional.narrowed[0]!, /creation cannot be limited by ip/);
  // one protocol out of every protocol: the whole type goes
  const carved = grantedSockets([rule('network', ['inet', 'stream']), rule('network', ['inet', 'tcp'], { deny: true })]);
  assert.deepEqual(carved.grants, []);
  assert.match(carved.narrowed[0]!, /the type is denied/);
  const deniedPeer = grantedSockets([rule('network', ['inet', 'stream']), rule('network', ['inet', 'stream'], { deny: true, conditions: { port: ['22'] } })]);
  assert.deepEqual(deniedPeer.grants.map(socketGrantText), ['2:1:*']);
  assert.match(deniedPeer.widened[0]!, /not kept/);
  assert.deepEqual(grantedSockets([], [{ family: 1, pairOnly: true }]).grants.map(socketGrantText), ['1:*:*:pair']);
});

const PROBE = `
import socket
for name, (family, kind, protocol) in {
    'packet': (socket.AF_PACKET, socket.SOCK_RAW, 0), 'raw': (socket.AF_INET, socket.SOCK_RAW, 1),
    'netlink': (socket.AF_NETLINK, socket.SOCK_RAW, 0), 'udp': (socket.AF_INET, socket.SOCK_DGRAM, 0),
    'tcp': (socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_CLOEXEC, 0), 'unix': (socket.AF_UNIX, socket.SOCK_STREAM, 0)}.items():
    try:
        socket.socket(family, kind, protocol).close(); print(name, 'ok')
    except OSError as error:
        print(name, error.errno)
`;

test('under Landlock a hat granting only `network inet stream` gets EACCES for packet, raw, netlink and UDP sockets', { skip: landlock ?? python }, async () => {
  const dir = scratchDir('sockets');
  const policy = join(dir, 'policy');
  const probe = join(dir, 'probe.py');
  writeFileSync(probe, PROBE);
  writeFileSync(policy, `profile hatter {\n  ^web {\n    network inet stream,\n    ${probe} r,\n  }\n  ^everything {\n    network,\n    unix,\n    ${probe} r,\n  }\n}\n`);
  const backend = new LandlockBackend({ launcher: launcherPath! });
  const run = async (hat: string): Promise<string> => {
    const { prepared, diagnostics } = await backend.prepare({ policyFile: policy, profile: 'hatter', hat, runtime: nodeRuntimeNeeds() });
    assert.ok(prepared, JSON.stringify(diagnostics));
    const child = backend.spawn(prepared, '/usr/bin/python3', ['-S', probe], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (chunk) => { out += chunk; });
    await new Promise((resolve) => child.on('close', resolve));
    return out;
  };
  assert.equal(await run('web'), 'packet 13\nraw 13\nnetlink 13\nudp 13\ntcp ok\nunix 13\n');
  // every family and type passes the filter; raw and packet sockets still need CAP_NET_RAW (EPERM),
  // which this hat does not grant, even to a root server
  assert.equal(await run('everything'), 'packet 1\nraw 1\nnetlink ok\nudp ok\ntcp ok\nunix ok\n');
});

test('the socket filter: socketpair-only grants, bad arguments exit 125', { skip: landlock ?? python }, async () => {
  const pair = await runLauncher(['-Y', '-F', '1:*:*:pair'], ['/usr/bin/python3', '-S', '-c', 'import socket\ntry:\n  socket.socket(socket.AF_UNIX)\nexcept OSError as e: print(e.errno)\na, b = socket.socketpair(); print("pair ok")']);
  assert.equal(pair.stdout, '13\npair ok\n');
  const bad = await runLauncher(['-Y', '-F', '1:x'], ['/bin/true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /^hatter-launch: bad -F argument/);
});
