// Private runtime state (strict mode): each pool's worker sockets live in a directory only that pool
// (and the supervisor) can reach. Before, every pool could write one shared runtime directory: code in
// bob's worker unlinked alice's worker socket and listened in its place, so alice's requests (with her
// cookies) reached bob.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '../../src/confine/index.js';
import { RuntimeDirs } from '../../src/server/runtime-dirs.js';
import { get, serverStatus, startFromYaml, type TestServer } from './helpers.js';

const landlock = await createBackend('landlock').probe();
const skip = landlock.available ? false : `skipped: Landlock is not available (${landlock.reason})`;

// bob's code: take over the socket it is told about.
const HIJACK = `import { unlinkSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
export default async function handler(request) {
  const target = new URL(request.url).searchParams.get('target');
  const out = {};
  try { unlinkSync(target); out.unlink = 'ok'; } catch (e) { out.unlink = e.code; }
  try { readdirSync(target.slice(0, target.lastIndexOf('/'))); out.list = 'ok'; } catch (e) { out.list = e.code; }
  out.listen = await new Promise((resolve) => {
    const server = createServer((req, res) => res.end('bob listening in alice\\'s place'));
    server.once('error', (e) => resolve(e.code));
    server.listen(target, () => resolve('ok'));
  });
  return Response.json(out);
}
`;
const ECHO = `export default () => Response.json({ hat: process.env.HATTER_HAT, pid: process.pid });\n`;

/** The path of the UNIX socket a process listens on (/proc/PID/fd matched against /proc/net/unix). */
function unixSocketOf(pid: number): string | undefined {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try { const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`)); if (m) inodes.add(m[1]!); } catch { /* closed meanwhile */ }
  }
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length >= 8 && inodes.has(fields[6]!) && fields[7]!.endsWith('.sock')) return fields[7];
  }
  return undefined;
}

let server: (TestServer & { dir: string }) | undefined;
before(async () => {
  if (skip) return;
  const policyDir = mkdtempSync(join(tmpdir(), 'hatter-runtime-policy-'));
  const files = { 'hijack.mjs': HIJACK, 'echo.mjs': ECHO, 'pub/index.html': 'x\n' };
  // The hats may read the site files (the test's temporary directory), nothing else of their own.
  const policy = (dir: string): string => `profile hatter-test {
  ^HANDLING_UNTRUSTED_INPUT {
  }
  ^alice.test {
    ${dir}/** r,
  }
  ^bob.test {
    ${dir}/** r,
  }
}
`;
  const policyFile = join(policyDir, 'hatter-test');
  // The site directory is made by startFromYaml: write a policy that covers every hatter-serve-test dir.
  writeFileSync(policyFile, policy(join(tmpdir(), 'hatter-serve-test-*')));
  server = await startFromYaml(`listen: 127.0.0.1:0
backend: landlock
front: { mode: strict }
pool: { min: 1, max: 1 }
policy: { file: ${policyFile}, profile: hatter-test }
sites:
  - serverName: alice.test
    documentRoot: pub
    locations:
      - prefix: /echo
        handler: { type: node, module: echo.mjs }
  - serverName: bob.test
    documentRoot: pub
    locations:
      - prefix: /hijack
        handler: { type: node, module: hijack.mjs }
`, files, { backend: 'landlock' });
  const stop = server.stop;
  server = { ...server, async stop() { await stop(); rmSync(policyDir, { recursive: true, force: true }); } };
});
after(async () => { await server?.stop(); });

test('strict mode under Landlock: bob cannot unlink or replace alice\'s worker socket', { skip }, async () => {
  const s = server!;
  const before = await get(s.port, 'alice.test', '/echo');
  assert.equal(before.status, 200);
  assert.equal(JSON.parse(before.body.toString()).hat, 'alice.test');
  const status = await serverStatus(s.adminPort);
  const alice = (status.pools as any[]).find((p) => p.hat === 'alice.test');
  const target = unixSocketOf(alice.workers[0].pid);
  assert.ok(target, 'alice\'s worker listens on a UNIX socket');
  const attack = await get(s.port, 'bob.test', `/hijack?target=${encodeURIComponent(target)}`);
  assert.equal(attack.status, 200, attack.body.toString());
  const result = JSON.parse(attack.body.toString());
  assert.notEqual(result.unlink, 'ok', 'bob unlinked alice\'s socket');
  assert.notEqual(result.listen, 'ok', 'bob listens in alice\'s place');
  // (Listing is not asserted: this test's policy names the site directory by a glob, which Landlock
  // widens to all of the temporary directory, and root passes the directory's mode.)
  assert.ok(lstatSync(target).isSocket(), 'alice\'s socket is still there');
  for (let i = 0; i < 3; i++) {
    const after = await get(s.port, 'alice.test', '/echo');
    assert.equal(after.status, 200);
    assert.equal(JSON.parse(after.body.toString()).hat, 'alice.test', 'alice\'s requests still reach alice');
  }
});

test('RuntimeDirs: an unpredictable root of mode 0711, one fresh private directory per pool', () => {
  const dirs = RuntimeDirs.create('hatter-runtime-test-');
  try {
    assert.equal(statSync(dirs.root).mode & 0o7777, 0o711);
    const one = dirs.poolDir({});
    const two = dirs.poolDir({});
    assert.notEqual(one, two);
    assert.equal(statSync(one).mode & 0o7777, 0o700);
    assert.ok(one.startsWith(`${dirs.root}/pool-`));
    if (process.getuid?.() === 0) {
      const other = dirs.poolDir({ uid: 65534, gid: 65534 });
      const stat = statSync(other);
      assert.equal(stat.uid, 65534);
      assert.equal(stat.gid, process.getgid!());
      assert.equal(stat.mode & 0o7777, 0o2710);
    }
  } finally {
    dirs.remove();
  }
});
