import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capabilityMask, capabilityNumbers, grantedCapabilities } from '../../src/confine/capabilities.js';
import { LandlockBackend } from '../../src/confine/landlock.js';
import { nodeRuntimeNeeds } from '../../src/confine/launcher.js';
import type { HatOtherRule } from '../../src/confine/hat-rules.js';
import { landlockSkipReason, launcherPath, runLauncher, scratchDir } from '../support/confine.js';

const source = { file: 'p', line: 1, col: 1 };
const rule = (kind: string, words: string[], deny = false): HatOtherRule => ({ kind, words, deny, source, text: kind });
const landlock = landlockSkipReason();
const rootSkip = process.getuid?.() === 0 ? undefined : 'needs root (capabilities of a root worker)';

test('a hat grants the union of its capability rules minus its deny rules; a bare rule or all, grants every one', () => {
  assert.deepEqual(grantedCapabilities([]).names, []);
  assert.deepEqual(grantedCapabilities([rule('capability', ['net_bind_service', 'setuid'])]).names, ['setuid', 'net_bind_service']);
  assert.deepEqual(grantedCapabilities([rule('capability', ['net_bind_service'])]).numbers, [10]);
  const every = grantedCapabilities([rule('capability', [])]);
  assert.equal(every.names.length, 41);
  assert.equal(every.names.includes('sys_admin'), true);
  const minus = grantedCapabilities([rule('capability', []), rule('capability', ['sys_admin', 'net_raw'], true)]);
  assert.equal(minus.names.includes('sys_admin'), false);
  assert.equal(minus.names.includes('net_raw'), false);
  assert.equal(minus.names.length, 39);
  assert.equal(grantedCapabilities([rule('file-all', [])]).names.length, 41);
  // a deny wins over the runtime's own needs too, as the kernel would refuse them
  assert.deepEqual(grantedCapabilities([rule('capability', ['kill'], true)], ['kill', 'setuid']).names, ['setuid']);
  assert.deepEqual(grantedCapabilities([rule('capability', ['no_such_cap'])]).names, []);
});

test('capability masks as the launcher and /proc spell them', () => {
  assert.equal(capabilityMask([]), '0x0');
  assert.equal(capabilityMask([10]), '0x400');
  assert.equal(capabilityMask([0, 40]), '0x10000000001');
  assert.deepEqual(capabilityNumbers('0000000000000400'), [10]);
  assert.deepEqual(capabilityNumbers('000001fffeffffff').length, 40);
});

function capabilityLines(status: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of status.matchAll(/^(Cap\w+):\s*([0-9a-f]+)$/gm)) out[match[1]!] = match[2]!;
  return out;
}

const NONE = { CapInh: '0000000000000000', CapPrm: '0000000000000000', CapEff: '0000000000000000', CapBnd: '0000000000000000', CapAmb: '0000000000000000' };
const BIND_ONLY = { CapInh: '0000000000000400', CapPrm: '0000000000000400', CapEff: '0000000000000400', CapBnd: '0000000000000400', CapAmb: '0000000000000400' };

test('the launcher leaves a root program exactly the capabilities asked for, in every set, also after a setuid-root exec', { skip: landlock ?? rootSkip }, async () => {
  const none = await runLauncher(['-C', '0'], ['/bin/cat', '/proc/self/status']);
  assert.equal(none.code, 0, none.stderr);
  assert.deepEqual(capabilityLines(none.stdout), NONE);
  const bind = await runLauncher(['-C', '0x400'], ['/bin/cat', '/proc/self/status']);
  assert.deepEqual(capabilityLines(bind.stdout), BIND_ONLY);
  // kept across the switch to the site's uid, and across a further exec (the ambient set)
  const asNobody = await runLauncher(['-C', '0x400', '-g', '65534', '-u', '65534'], ['/bin/sh', '-c', 'cat /proc/self/status']);
  assert.equal(asNobody.code, 0, asNobody.stderr);
  assert.deepEqual(capabilityLines(asNobody.stdout), BIND_ONLY);
  assert.match(asNobody.stdout, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
  // without no_new_privs (the AppArmor path), a setuid-root program still gains nothing: securebits NOROOT
  const su = await runLauncher(['-C', '0', '-n'], ['/bin/sh', '-c', 'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status; su -c true nobody; echo su=$?']);
  assert.match(su.stdout, /NoNewPrivs:\s+0/);
  assert.match(su.stdout, /su=[1-9]/);
  const bad = await runLauncher(['-C', 'lots'], ['/bin/true']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /^hatter-launch: bad -C mask/);
});

test('a Landlock worker of a root server holds only what its hat grants (CapEff, CapBnd... all 0 without capability rules)', { skip: landlock ?? rootSkip }, async () => {
  const dir = scratchDir('caps');
  const policy = join(dir, 'policy');
  writeFileSync(policy, '@{PROC}=/proc/\n@{pid}={[1-9],[1-9][0-9],[1-9][0-9][0-9],[1-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9][0-9]}\nprofile hatter {\n  ^plain {\n    /usr/** rm,\n    owner @{PROC}/@{pid}/status r,\n  }\n  ^binder {\n    capability net_bind_service,\n    /proc/self/status r,\n  }\n  ^denied {\n    capability,\n    deny capability sys_admin,\n    /proc/[1-9]*/status r,\n  }\n}\n');
  const backend = new LandlockBackend({ launcher: launcherPath! });
  const status = async (hat: string): Promise<Record<string, string>> => {
    const { prepared, diagnostics } = await backend.prepare({ policyFile: policy, profile: 'hatter', hat, runtime: nodeRuntimeNeeds() });
    assert.ok(prepared, JSON.stringify(diagnostics));
    const child = backend.spawn(prepared, process.execPath, ['-e', 'process.stdout.write(require("fs").readFileSync("/proc/self/status", "utf8"))'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (chunk) => { out += chunk; });
    await new Promise((resolve) => child.on('close', resolve));
    return capabilityLines(out);
  };
  assert.deepEqual(await status('plain'), NONE);
  assert.deepEqual(await status('binder'), BIND_ONLY);
  const denied = await status('denied');
  assert.equal(BigInt(`0x${denied.CapEff}`) & (1n << 21n), 0n, 'sys_admin is denied');
  assert.notEqual(denied.CapEff, NONE.CapEff);
  assert.equal(denied.CapBnd, denied.CapEff);
});

test('verify reads which capability sets hold more than the hat grants', async () => {
  const { capabilitySetsBeyond } = await import('../../src/confine/capabilities.js');
  const status = 'CapInh:\t0000000000000000\nCapPrm:\t0000000000000400\nCapEff:\t0000000000000400\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\n';
  assert.deepEqual(capabilitySetsBeyond(status, [10], false), []);
  assert.deepEqual(capabilitySetsBeyond(status, [10], true), ['CapBnd']);
  assert.deepEqual(capabilitySetsBeyond(status, [], false), ['CapPrm', 'CapEff']);
});
