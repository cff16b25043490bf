// Regression tests for the findings of issue #17's "Why" list that are not attacks from inside a
// site's worker (those are in compromised.test.ts): a local user's symlinks in the demo's predictable
// policy copy directory, the supervisor's own errors (an access log that fails), configurations that
// must refuse to start, and the CLI's inputs that overflowed the stack or backtracked for minutes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chownSync, lchownSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { concreteDemoPolicy } from '../../src/server/index.js';
import { cliMain, repoRoot } from '../support/repo.js';
import { runCliProcess } from '../support/cli.js';
import { scratchDir } from '../support/confine.js';
import { freePort, http, layOutEscapeFixtures } from './compromised.js';

const isRoot = process.getuid?.() === 0;
const OTHER_UID = 65534;
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

test('[#17.5 predictable temporary paths] a local user\'s symlinks in the demo policy copy directory make serve overwrite no file', { skip: isRoot ? false : 'needs root: the attacker is another local user' }, () => {
  const scratch = scratchDir('tmp-symlink');
  const tmp = join(scratch, 'tmp');
  mkdirSync(tmp, { mode: 0o1777 });
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp; // os.tmpdir() reads it on each call: the attack stays in this scratch tree
  try {
    const policy = join(repoRoot, 'examples', 'hosting', 'policy', 'hatter-demo');
    const demo = join(repoRoot, 'examples', 'hosting');
    // the name is predictable: a first start shows it (a local user computes the same hash)
    const first = concreteDemoPolicy(policy, demo);
    const predictable = dirname(first);
    rmSync(predictable, { recursive: true, force: true });
    // the local user (another uid) creates that directory first and plants symlinks to a root-owned file
    const victim = join(scratch, 'victim');
    writeFileSync(victim, 'precious\n');
    mkdirSync(predictable, { mode: 0o777 });
    chownSync(predictable, OTHER_UID, OTHER_UID);
    for (const name of [`hatter-demo.${process.pid}.tmp`, 'hatter-demo']) {
      symlinkSync(victim, join(predictable, name));
      lchownSync(join(predictable, name), OTHER_UID, OTHER_UID);
    }
    const copy = concreteDemoPolicy(policy, demo);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n', 'root\'s serve wrote its policy copy through the planted symlink');
    // and the copy serve loads is one no other user can replace
    const dir = statSync(dirname(copy));
    assert.ok(!lstatSync(copy).isSymbolicLink(), `${copy} is a symlink`);
    assert.equal(dir.uid, process.getuid!(), `the policy copy is in ${dirname(copy)}, owned by uid ${dir.uid}`);
    assert.equal(dir.mode & 0o022, 0, `the policy copy's directory ${dirname(copy)} is writable by others (mode ${(dir.mode & 0o7777).toString(8)})`);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = saved;
    rmSync(scratch, { recursive: true, force: true });
  }
});

// ── hatter serve, --backend none (no confinement is involved in these) ─────────────────────────────
/** The status of a GET, 0 when there is no answer. */
function get(port: number, host: string, path: string): Promise<number> {
  return http(port, host, path, { timeoutMs: 10_000 }).then((r) => r.status, () => 0);
}

/** A two-site configuration of the escape fixtures, with `extra` top-level YAML and `site` keys for alice. */
async function serveConfig(extra: string, aliceKeys = ''): Promise<{ dir: string; config: string; port: number; admin: number }> {
  const dir = scratchDir('findings');
  const { root, policy } = layOutEscapeFixtures(dir);
  const [port, admin] = [await freePort(), await freePort()];
  const config = join(root, 'hatter.yaml');
  writeFileSync(config, `listen: 127.0.0.1:${port}
admin: 127.0.0.1:${admin}
policy:
  file: ${policy}
  profile: hatter-escape
backend: none
pool:
  min: 1
  max: 1
${extra}sites:
  - serverName: alice.localhost
    documentRoot: alice/public
${aliceKeys}    locations:
      - prefix: /hello
        handler: { type: node, module: alice/app/hello.mjs }
  - serverName: bob.localhost
    documentRoot: bob/public
`);
  return { dir, config, port, admin };
}

interface Served { readonly exitCode: number | null; readonly output: string; readonly port: number; readonly stop: () => Promise<void>; readonly running: () => boolean }

/** Start `hatter serve CONFIG --backend none`; resolves once it answers its status page or has exited. */
async function serve(setup: { config: string; port: number; admin: number }): Promise<Served> {
  let output = '';
  const child = spawn(process.execPath, [cliMain.replace(/main\.js$/, 'bin.js'), 'serve', setup.config, '--backend', 'none'], { cwd: dirname(setup.config), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c) => { output += c; });
  child.stderr!.on('data', (c) => { output += c; });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 30_000;
  while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
    if (await get(setup.admin, 'localhost', '/_hatter/status') === 200) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    get exitCode() { return child.exitCode; },
    get output() { return output; },
    port: setup.port,
    running: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  } as Served;
}

test('[#17.6 the supervisor\'s own errors] an access log that fails to write (/dev/full) does not take the server down', async () => {
  const setup = await serveConfig('accessLog: /dev/full\n');
  const server = await serve(setup);
  try {
    assert.ok(server.running(), `serve did not start:\n${server.output}`);
    assert.equal(await get(setup.port, 'alice.localhost', '/hello'), 200);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await get(setup.port, 'bob.localhost', '/'), 200, `the second request after a failed access-log write:\n${server.output}`);
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(server.running(), `the supervisor exited after a failed access-log write:\n${server.output}`);
  } finally {
    await server.stop();
    rmSync(setup.dir, { recursive: true, force: true });
  }
});

test('[#17.6 the supervisor\'s own errors] an access log in a directory that does not exist gives a diagnostic, not a stack trace', async () => {
  const setup = await serveConfig('accessLog: /nonexistent-hatter-dir/access.log\n');
  const server = await serve(setup);
  try {
    if (server.running()) await get(setup.port, 'alice.localhost', '/hello');
    await new Promise((r) => setTimeout(r, 500));
    assert.doesNotMatch(server.output, STACK_FRAME, `a stack trace:\n${server.output}`);
    assert.match(server.output, /nonexistent-hatter-dir/, `no message names the access log:\n${server.output}`);
  } finally {
    await server.stop();
    rmSync(setup.dir, { recursive: true, force: true });
  }
});

test('[#17.8 config validation] a documentRoot that does not exist refuses to start with a diagnostic', async () => {
  const setup = await serveConfig('', '');
  writeFileSync(setup.config, readFileSync(setup.config, 'utf8').replace('documentRoot: bob/public', 'documentRoot: bob/no-such-dir'));
  const server = await serve(setup);
  try {
    assert.ok(!server.running(), `serve started with a missing documentRoot (bob.localhost / answers ${await get(setup.port, 'bob.localhost', '/')})`);
    assert.notEqual(server.exitCode, 0);
    assert.match(server.output, /documentRoot/, server.output);
    assert.doesNotMatch(server.output, STACK_FRAME, server.output);
  } finally {
    await server.stop();
    rmSync(setup.dir, { recursive: true, force: true });
  }
});

test('[#17.8 config validation] a site with an unknown user refuses to start with a diagnostic', async () => {
  const setup = await serveConfig('', '    user: hatter-no-such-user\n');
  const server = await serve(setup);
  try {
    assert.ok(!server.running(), `serve started without the site whose user does not exist:\n${server.output}`);
    assert.notEqual(server.exitCode, 0);
    assert.match(server.output, /hatter-no-such-user/, server.output);
    assert.doesNotMatch(server.output, STACK_FRAME, server.output);
  } finally {
    await server.stop();
    rmSync(setup.dir, { recursive: true, force: true });
  }
});

// ── the CLI ─────────────────────────────────────────────────────────────────────────────────────────
test('[#17.11 CLI] which-hat --apache on an Include of a directory with more files than it reads: a diagnostic, no stack overflow', { timeout: 240_000 }, () => {
  // The finding: >120,000 files overflowed the stack. Reading now stops at 20,000 files with a
  // diagnostic (web/apache-too-many-files); just past that limit is enough to guard it.
  const dir = scratchDir('huge-include');
  try {
    const conf = join(dir, 'conf.d');
    mkdirSync(conf);
    for (let i = 0; i < 20_500; i++) writeFileSync(join(conf, `site-${i}.conf`), '');
    writeFileSync(join(dir, 'apache2.conf'), `Listen 80\nInclude ${conf}/\n<VirtualHost *:80>\n  ServerName shop.example\n  DocumentRoot /srv/shop\n</VirtualHost>\n`);
    writeFileSync(join(dir, 'policy'), 'profile apache2 {\n  ^shop.example {\n  }\n}\n');
    const result = runCliProcess(['which-hat', '--apache', join(dir, 'apache2.conf'), '--policy', join(dir, 'policy'), '--url', 'http://shop.example/'], { timeoutMs: 180_000 });
    assert.doesNotMatch(result.stderr, /Maximum call stack|RangeError/, result.stderr.slice(0, 2000));
    assert.doesNotMatch(result.stderr, STACK_FRAME, result.stderr.slice(0, 2000));
    assert.notEqual(result.code, 128, 'killed by the timeout');
    assert.ok(result.code === 0 || /^\S+:\d+:\d+: error: .* \[[\w/-]+\]$/m.test(result.stderr), `exit ${result.code} without a diagnostic: ${result.stderr.slice(0, 2000)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('[#17.11 CLI] hatter logs --profile with a pattern of many * answers in linear time', { timeout: 60_000 }, () => {
  const dir = scratchDir('glob-backtrack');
  try {
    const log = join(dir, 'kern.log');
    const label = 'a'.repeat(60);
    const lines = Array.from({ length: 200 }, (_, i) => `Dec  6 10:00:00 host kernel: [ ${i}.0] audit: type=1400 audit(1795307306.894:${i}): apparmor="DENIED" operation="open" profile="${label}" name="/srv/x" pid=147 comm="w" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`);
    writeFileSync(log, `${lines.join('\n')}\n`);
    const started = Date.now();
    const result = runCliProcess(['logs', '--profile', `${'*a'.repeat(25)}*b`, log], { timeoutMs: 15_000 });
    const elapsed = Date.now() - started;
    // linear matching takes well under a second; backtracking takes minutes
    assert.ok(elapsed < 10_000, `hatter logs --profile took ${elapsed} ms (killed at 15 s: ${result.code === 128})`);
    assert.notEqual(result.code, 128, 'killed by the timeout');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
