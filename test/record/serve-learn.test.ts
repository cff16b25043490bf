// hatter serve --learn end to end on the demo: the workload's accesses are recorded and attributed to the
// right hat (pages, Node handlers, a CGI script), and the status page says the server is learning.
// Then `hatter learn --apply --write` turns the recording into the hats, and the learned policy is served
// under Landlock (root: the launcher) with the same workload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '../../src/confine/index.js';
import { LearningBackend } from '../../src/cli/learn-backend.js';
import { findStrace, RecordingSession, StraceRecorder } from '../../src/record/index.js';
import { loadConfigFile, prepareServe, startServer } from '../../src/server/serve.js';
import { runCli } from '../support/cli.js';
import { get, serverStatus, startFromFile } from '../server/helpers.js';
import { demo, demoWorkload, recordServe, scratchDemo } from './demo-copy.js';

const strace = findStrace(process.env['PATH']);
const skip = strace ? false : 'skipped: strace is not installed (Debian package strace)';
test('serve --learn records each pool under its hat, children (CGI) included', { skip, timeout: 120_000 }, async () => {
  const lines: string[] = [];
  const session = new RecordingSession(new StraceRecorder(strace!), { write: (text) => { lines.push(...text.trim().split('\n')); } }, { counter: { intervalMs: 60_000, cap: 10_000 } });
  const backend = new LearningBackend(session, 'memory');
  const overrides = { listen: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, accessLog: 'off' as const };
  const prepared = prepareServe(loadConfigFile(join(demo, 'hatter.yaml')), overrides, true).prepared!;
  const { supervisor } = await startServer(prepared, backend, 'learning (test)', { info: () => undefined, warn: () => undefined });
  const running = supervisor.run();
  try {
    const port = supervisor.addresses[0]!.port;
    const replies = await demoWorkload(port);
    assert.deepEqual(replies.filter((r) => r.status !== 200), []);
    const status = await serverStatus(supervisor.adminAddress!.port);
    assert.equal(status['backend']['learning'], true);
    assert.match(status['backend']['warning'], /LEARNING, UNCONFINED/);
  } finally {
    supervisor.enqueue('stop');
    await running;
    session.stop();
  }
  const events = lines.map((line) => JSON.parse(line) as Record<string, string>);
  const labels = new Set(events.map((e) => e['label']));
  assert.deepEqual([...labels].sort(), ['hatter-demo//alice.localhost', 'hatter-demo//bob.localhost']);
  const has = (label: string, operation: string, name: string): boolean => events.some((e) => e['label'] === `hatter-demo//${label}` && e['operation'] === operation && e['name'] === name);
  for (const site of ['alice', 'bob']) {
    const label = `${site}.localhost`;
    assert.ok(has(label, 'open', join(demo, site, 'secret.txt')), `${site} read its secret`);
    assert.ok(has(label, 'open', join(demo, site, 'public', 'index.html')), `${site}'s page`);
    assert.ok(has(label, 'open', join(demo, site, 'app', 'hello.mjs')), `${site}'s Node handler`);
    assert.ok(has(label, 'exec', join(demo, site, 'cgi-bin', 'hello.cgi')), `${site}'s CGI script, exec'd by the worker`);
  }
  // Nothing of one site is attributed to the other.
  assert.ok(!events.some((e) => e['label'] === 'hatter-demo//bob.localhost' && (e['name'] ?? '').startsWith(join(demo, 'alice'))));
  assert.ok(!events.some((e) => e['label'] === 'hatter-demo//alice.localhost' && (e['name'] ?? '').startsWith(join(demo, 'bob'))));
});

const landlock = await createBackend('landlock').probe();
const learnSkip = skip || (process.getuid?.() !== 0 ? 'skipped: serving under Landlock with the hatter launcher needs root' : landlock.available ? false : `skipped: Landlock is not available (${landlock.reason})`);

// PHP sites: serve-learn-php.test.ts.
test('learned hats serve the same workload under Landlock, and bob still cannot read alice\'s secret', { skip: learnSkip, timeout: 240_000 }, async () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'hatter-serve-learn-')));
  try {
    const { copy, config, policy } = scratchDemo(root);
    assert.doesNotMatch(readFileSync(policy, 'utf8'), /hosting\/alice\//, 'the stripped hats grant nothing of the sites');
    // 1. Record the workload with serve --learn.
    const log = join(root, 'learn.jsonl');
    const { replies } = await recordServe(strace!, config, log, (port) => demoWorkload(port));
    assert.deepEqual(replies.filter((r) => r.status !== 200), []);
    // 2. hatter learn proposes the hats from the recording and writes them into the policy.
    const learned = await runCli(['learn', log, '--policy', policy, '--config', config, '--apply', '--write'], { cwd: copy });
    assert.equal(learned.code, 0, learned.stderr + learned.stdout);
    const text = readFileSync(policy, 'utf8');
    for (const site of ['alice', 'bob']) {
      assert.ok(text.includes(join(copy, site, 'public', 'index.html')) || text.includes(join(copy, site, 'public')), `${site}'s pages learned:\n${text}`);
      assert.ok(text.includes(join(copy, site, 'cgi-bin')), `${site}'s CGI learned:\n${text}`);
    }
    // 3. The learned policy, served under Landlock: the same workload, no EACCES, no 403.
    const server = await startFromFile(config, false, { backend: 'landlock' });
    try {
      const replies = await demoWorkload(server.port);
      assert.deepEqual(replies.filter((r) => r.status !== 200), [], `the learned policy:\n${text}`);
      const bob = await get(server.port, 'bob.localhost', '/read?path=alice/secret.txt');
      assert.equal(bob.status, 403);
      assert.match(bob.body.toString(), /EACCES/);
      assert.doesNotMatch(bob.body.toString(), /alice's database password/);
      const alice = await get(server.port, 'alice.localhost', '/read?path=alice/secret.txt');
      assert.match(alice.body.toString(), /alice's database password/);
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('serve --learn attributes a CGI helper run with Px to its own profile, and learn writes its rules there', { skip, timeout: 120_000 }, async () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'hatter-serve-learn-px-')));
  try {
    const { copy, config, policy } = scratchDemo(root, {
      pool: 1,
      hatExtra: '    @{HATTER_DEMO}/SITE/bin/stamp Px -> hatter-demo-SITE-stamp,',
      policyExtra: '\nprofile hatter-demo-alice-stamp {\n}\n\nprofile hatter-demo-bob-stamp {\n}\n',
    });
    for (const site of ['alice', 'bob']) {
      mkdirSync(join(copy, site, 'bin'));
      mkdirSync(join(copy, site, 'data'));
      writeFileSync(join(copy, site, 'data', 'input.txt'), `${site}'s stamp input\n`);
      // The helper reads the site's data; only it may (its profile), not the hat that runs it.
      writeFileSync(join(copy, site, 'bin', 'stamp'), `#!/bin/sh\nexec cat ${join(copy, site, 'data', 'input.txt')}\n`, { mode: 0o755 });
      writeFileSync(join(copy, site, 'cgi-bin', 'stamp.cgi'), `#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\n${join(copy, site, 'bin', 'stamp')}\n`, { mode: 0o755 });
    }
    const log = join(root, 'learn.jsonl');
    const { replies, events } = await recordServe(strace!, config, log, async (port) => {
      const reply = await get(port, 'alice.localhost', '/cgi-bin/stamp.cgi');
      return [{ host: 'alice.localhost', path: '/cgi-bin/stamp.cgi', status: reply.status, body: reply.body.toString() }];
    });
    assert.deepEqual(replies.map((r) => [r.status, r.body]), [[200, "alice's stamp input\n"]]);
    const input = join(copy, 'alice', 'data', 'input.txt');
    const labelsOf = (name: string, operation: string): string[] => [...new Set(events.filter((e) => e['name'] === name && e['operation'] === operation).map((e) => String(e['label'])))];
    assert.deepEqual(labelsOf(input, 'open'), ['hatter-demo-alice-stamp'], 'the helper\'s read, in its own profile');
    assert.deepEqual(labelsOf(join(copy, 'alice', 'bin', 'stamp'), 'exec'), ['hatter-demo//alice.localhost'], 'the hat execs the helper');
    assert.ok(events.some((e) => e['operation'] === 'exec' && e['name'] === join(copy, 'alice', 'bin', 'stamp') && e['target'] === 'hatter-demo-alice-stamp'));
    assert.deepEqual(labelsOf(join(copy, 'alice', 'cgi-bin', 'stamp.cgi'), 'exec'), ['hatter-demo//alice.localhost']);

    const learned = await runCli(['learn', log, '--policy', policy, '--config', config, '--apply', '--write'], { cwd: copy });
    assert.equal(learned.code, 0, learned.stderr + learned.stdout);
    const text = readFileSync(policy, 'utf8');
    const block = (header: RegExp): string => {
      const start = text.search(header);
      assert.ok(start >= 0, `${header} in\n${text}`);
      let depth = 0;
      for (let i = text.indexOf('{', start); i < text.length; i++) {
        if (text[i] === '{') depth++;
        else if (text[i] === '}' && --depth === 0) return text.slice(start, i + 1);
      }
      return text.slice(start);
    };
    assert.match(block(/^profile hatter-demo-alice-stamp /m), /alice\/data\/(input\.txt|\*\*?|\{,\*\*\})? r/, `the helper's profile learned its read:\n${text}`);
    assert.doesNotMatch(block(/^  \^alice\.localhost /m), /alice\/data/, `the hat did not learn the helper's read:\n${text}`);
    assert.doesNotMatch(block(/^profile hatter-demo-bob-stamp /m), /alice/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
