import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, runCliProcess } from '../support/cli.js';
import { corpus } from '../support/corpora.js';

function workspace(files: Record<string, string>): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'hatter-check-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('hatter check: accepted file exits 0, rejected exits 1 with file:line:col and the include chain', async () => {
  const ws = workspace({
    'good': 'profile good {\n  /etc/hosts r,\n}\n',
    'bad': 'profile bad {\n  include <abstractions/broken>\n}\n',
    'inc/abstractions/broken': '# comment\n  capability CAP_CHOWN,\n',
  });
  try {
    const ok = await runCli(['check', '-I', 'inc', 'good'], { cwd: ws.dir });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(ok.stdout, '');
    const bad = await runCli(['check', '-I', 'inc', 'bad'], { cwd: ws.dir });
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /abstractions\/broken:2:\d+: error: unknown capability 'CAP_CHOWN' \[check\/unknown-capability\]/);
    assert.match(bad.stdout, /included from bad:2:3/);
    assert.match(bad.stdout, /hint: capability names are lowercase without CAP_: 'chown'/);
    const both = await runCli(['check', '-I', 'inc', 'good', 'bad'], { cwd: ws.dir });
    assert.equal(both.code, 1);
    assert.match(both.stderr, /good: accepted\nbad: rejected/);
  } finally {
    ws.done();
  }
});

test('hatter check --json: one object per file and line', async () => {
  const ws = workspace({ 'a': '/x { /a rw, }\n', 'b': '/x { /a rwa, }\n' });
  try {
    const result = await runCli(['check', '--json', 'a', 'b'], { cwd: ws.dir });
    assert.equal(result.code, 1);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(lines.length, 2);
    assert.deepEqual(lines[0], { file: 'a', ok: true, diagnostics: [] });
    assert.equal(lines[1].file, 'b');
    assert.equal(lines[1].ok, false);
    assert.deepEqual(Object.keys(lines[1].diagnostics[0]).slice(0, 6), ['file', 'line', 'col', 'severity', 'code', 'message']);
    assert.equal(lines[1].diagnostics[0].code, 'resolve/write-and-append');
    assert.equal(lines[1].diagnostics[0].line, 1);
  } finally {
    ws.done();
  }
});

test('hatter check: warnings do not fail the check; --quiet hides them', async () => {
  const ws = workspace({ 'w': '/x {\n  /a RW,\n}\n' });
  try {
    const result = await runCli(['check', 'w'], { cwd: ws.dir });
    assert.equal(result.code, 0);
    assert.match(result.stdout, /w:2:\d+: warning: uppercase permission 'R' is deprecated/);
    const quiet = await runCli(['check', '-q', 'w'], { cwd: ws.dir });
    assert.equal(quiet.stdout, '');
  } finally {
    ws.done();
  }
});

test('hatter check: usage errors exit 2', async () => {
  assert.equal((await runCli(['check'])).code, 2);
  assert.equal((await runCli(['check', '--frobnicate', 'x'])).code, 2);
  const missingFeatures = await runCli(['check', '--features', '/nonexistent/features', 'x']);
  assert.equal(missingFeatures.code, 2);
  assert.match(missingFeatures.stderr, /features/);
  const missingFile = await runCli(['check', '/nonexistent/policy']);
  assert.equal(missingFile.code, 2);
  assert.match(missingFile.stdout, /cannot read/);
});

const parserTests = corpus('parser-tests');

test('hatter check - reads stdin like the upstream driver (real process, relative includes from the cwd)', { skip: parserTests.skip }, () => {
  const input = '/does/not/exist {\n  #include <includes/base>\n  #include "simple_tests/include_tests/includes_okay_helper.include"\n}\n';
  const ok = runCliProcess(['check', '--features', 'features_files/features.all', '-I', 'simple_tests', '-'], { cwd: parserTests.dir!, stdin: input });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const bad = runCliProcess(['check', '-I', 'simple_tests', '-'], { cwd: parserTests.dir!, stdin: '/x {\n  #include <does-not-exist>\n}\n' });
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /^-:2:3: error: Could not open 'does-not-exist' \[resolve\/include-not-found\]/m);
});

test('hatter check DIR checks the profile files directly in it, skipping README and leftovers', async () => {
  const ws = workspace({
    'profiles/a': '/a { /x r, }\n',
    'profiles/b': '/b { /x rwa, }\n',
    'profiles/README': 'not a profile\n',
    'profiles/c.dpkg-old': 'garbage {\n',
    'profiles/sub/d': 'garbage {\n',
  });
  try {
    const result = await runCli(['check', '--json', 'profiles'], { cwd: ws.dir });
    assert.equal(result.code, 1);
    const verdicts = result.stdout.trim().split('\n').map((line) => JSON.parse(line)).map((o) => [o.file, o.ok]);
    assert.deepEqual(verdicts, [['profiles/a', true], ['profiles/b', false]]);
  } finally {
    ws.done();
  }
});
