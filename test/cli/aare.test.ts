// `hatter aare`: what users and scripts see (output lines, JSON, exit codes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/cli.js';

test('aare match prints match/nomatch per path; exit 0 only when every path matches', async () => {
  const all = await runCli(['aare', 'match', '/srv/www/*/htdocs/**', '/srv/www/a/htdocs/index.php', '/srv/www//a/htdocs/x']);
  assert.equal(all.code, 0);
  assert.equal(all.stdout, 'match /srv/www/a/htdocs/index.php\nmatch /srv/www//a/htdocs/x\n');
  const some = await runCli(['aare', 'match', '/tmp/**', '/tmp/', '/tmp/a']);
  assert.equal(some.code, 1);
  assert.equal(some.stdout, 'nomatch /tmp/\nmatch /tmp/a\n');
});

test('aare match reports an invalid pattern as a diagnostic with exit 2', async () => {
  const result = await runCli(['aare', 'match', '/tmp/{a', '/tmp/a']);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /<pattern>:1:6: error: .*\[aare\/unclosed-group\]/);
});

test('aare match --json and --kind glob_null', async () => {
  const result = await runCli(['aare', 'match', '--json', '--kind', 'glob_null', 'org.freedesktop.*', 'org.freedesktop.DBus', 'org/x']);
  assert.equal(result.code, 1);
  const json = JSON.parse(result.stdout);
  assert.deepEqual(json.results, [{ path: 'org.freedesktop.DBus', match: true }, { path: 'org/x', match: false }]);
  const bad = await runCli(['aare', 'match', '--kind', 'dbus', 'x', 'y']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--kind must be/);
});

test('aare match --jsonl answers each line, with errors for bad lines instead of a crash', async () => {
  const stdin = [
    '{"pattern": "/proc/*", "paths": ["/proc/1", "/proc/", "/proc/1/stat"]}',
    'not json',
    '{"pattern": "/a/{b}", "paths": ["/a/b"]}',
    '{"pattern": 3}',
    '',
    '{"pattern": "a*", "paths": ["a/b"], "kind": "glob_null"}',
  ].join('\n');
  const result = await runCli(['aare', 'match', '--jsonl'], { stdin });
  assert.equal(result.code, 0);
  const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 5);
  assert.deepEqual(lines[0], { pattern: '/proc/*', results: [true, false, false] });
  assert.equal(lines[1].pattern, null);
  assert.match(lines[1].error, /not valid JSON/);
  assert.equal(lines[2].pattern, '/a/{b}');
  assert.match(lines[2].error, /aare\/single-alternative/);
  assert.match(lines[3].error, /expected/);
  assert.deepEqual(lines[4], { pattern: 'a*', results: [false] });
});

test('aare compare prints the relation and shortest witnesses; exit 0 only when equal', async () => {
  const subset = await runCli(['aare', 'compare', '/tmp/**', '/tmp/{,**}']);
  assert.equal(subset.code, 1);
  assert.equal(subset.stdout, 'subset\nonly in B: /tmp/\nin both: /tmp/a\n');
  const equal = await runCli(['aare', 'compare', '/x/{a,b}', '/x/[ab]']);
  assert.equal(equal.code, 0);
  assert.equal(equal.stdout, 'equal\nin both: /x/a\n');
  const disjoint = await runCli(['aare', 'compare', '--json', '/srv/a/**', '/srv/b/**']);
  assert.deepEqual(JSON.parse(disjoint.stdout), { a: '/srv/a/**', b: '/srv/b/**', relation: 'disjoint', onlyInA: '/srv/a/a', onlyInB: '/srv/b/a' });
  const overlap = await runCli(['aare', 'compare', '/a/[^x]', '/a/?']);
  assert.equal(overlap.stdout, 'overlap\nonly in A: /a//\nonly in B: /a/x\nin both: /a/a\n');
});

test('aare usage errors exit 2 with a pointer to --help', async () => {
  for (const args of [['aare'], ['aare', 'frob'], ['aare', 'match', '/x'], ['aare', 'compare', '/x']]) {
    const result = await runCli(args);
    assert.equal(result.code, 2, args.join(' '));
    assert.match(result.stderr, /--help/);
  }
  const help = await runCli(['aare', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /hatter aare compare/);
});
