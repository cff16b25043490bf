import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { previewChanges, writeChanges } from '../../src/cli/learn-write.js';
import { unifiedDiff } from '../../src/cli/line-diff.js';
import { applyEdits } from '../../src/learn/apply.js';
import { apparmorParser } from '../support/corpora.js';

const parser = apparmorParser();

/** A scratch policy tree: DIR/entry (a profile with a local/ include and a hat in an included file). */
function tree(entryText?: string): { dir: string; entry: string; files: Map<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'hatter-learn-write-'));
  mkdirSync(join(dir, 'php-fpm.d'));
  const entry = join(dir, 'php-fpm');
  const files = new Map<string, string>([
    [entry, entryText ?? '# PHP-FPM\nprofile php-fpm /usr/sbin/php-fpm* {\n  /etc/php/** r,\n  include <php-fpm.d>\n  include if exists <local/php-fpm>\n}\n'],
    [join(dir, 'php-fpm.d', 'blog'), '^blog {\n  /srv/www/blog/** r,\n}\n'],
  ]);
  for (const [path, text] of files) writeFileSync(path, text);
  return { dir, entry, files };
}

function learn(t: ReturnType<typeof tree>) {
  return applyEdits(t.files, [
    { kind: 'add-rule', profile: 'php-fpm//blog', rule: '/srv/www/blog/uploads/** w' },
    { kind: 'add-rule', profile: 'php-fpm', rule: 'capability setuid' },
  ], { entry: t.entry, includePaths: [t.dir] });
}

test('preview: a unified diff per file, new files from /dev/null', () => {
  const t = tree();
  const { changes, diagnostics } = learn(t);
  assert.deepEqual(diagnostics, []);
  const name = (f: string) => f.slice(1);
  assert.equal(previewChanges(changes), [
    `--- a/${name(join(t.dir, 'php-fpm.d', 'blog'))}`,
    `+++ b/${name(join(t.dir, 'php-fpm.d', 'blog'))}`,
    '@@ -1,3 +1,4 @@',
    ' ^blog {',
    '   /srv/www/blog/** r,',
    '+  /srv/www/blog/uploads/** w,',
    ' }',
    '--- /dev/null',
    `+++ b/${name(join(t.dir, 'local', 'php-fpm'))}`,
    '@@ -0,0 +1,2 @@',
    `+# Site-specific additions and overrides for 'php-fpm', created by hatter learn.`,
    '+capability setuid,',
    '',
  ].join('\n'));
});

test('write: backups (hidden, so directory includes skip them), atomic writes, new local/ file; the tree still loads', () => {
  const t = tree();
  const { changes } = learn(t);
  const result = writeChanges(changes, { entries: [t.entry], includeDirs: [t.dir] });
  assert.deepEqual(result.diagnostics, []);
  assert.equal(result.exitCode, 0);
  const blog = join(t.dir, 'php-fpm.d', 'blog');
  assert.equal(readFileSync(blog, 'utf8'), '^blog {\n  /srv/www/blog/** r,\n  /srv/www/blog/uploads/** w,\n}\n');
  assert.equal(result.backups.get(blog), join(t.dir, 'php-fpm.d', '.blog.hatter-bak'));
  assert.equal(readFileSync(join(t.dir, 'php-fpm.d', '.blog.hatter-bak'), 'utf8'), t.files.get(blog));
  assert.match(readFileSync(join(t.dir, 'local', 'php-fpm'), 'utf8'), /capability setuid,\n$/);
  assert.deepEqual(readdirSync(join(t.dir, 'php-fpm.d')).sort(), ['.blog.hatter-bak', 'blog']);
  if (!parser.skip) {
    const run = spawnSync('apparmor_parser', ['-QK', '-I', t.dir, t.entry], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
  }
  // A second write keeps the first backup and makes a new one.
  const again = applyEdits(new Map([[t.entry, readFileSync(t.entry, 'utf8')], [blog, readFileSync(blog, 'utf8')], [join(t.dir, 'local', 'php-fpm'), readFileSync(join(t.dir, 'local', 'php-fpm'), 'utf8')]]),
    [{ kind: 'add-rule', profile: 'php-fpm//blog', rule: '/tmp/** rw' }], { entry: t.entry, includePaths: [t.dir] });
  assert.equal(writeChanges(again.changes, { entries: [t.entry], includeDirs: [t.dir] }).backups.get(blog), join(t.dir, 'php-fpm.d', '.blog.hatter-bak.1'));
});

test('a file changed on disk since it was read: refused, nothing written', () => {
  const t = tree();
  const { changes } = learn(t);
  const blog = join(t.dir, 'php-fpm.d', 'blog');
  writeFileSync(blog, '^blog {\n  # edited by someone else\n}\n');
  const result = writeChanges(changes, { entries: [t.entry], includeDirs: [t.dir] });
  assert.equal(result.exitCode, 2);
  assert.deepEqual(result.diagnostics.map((d) => [d.file, d.code]), [[blog, 'learn-edit/changed-on-disk']]);
  assert.equal(readFileSync(blog, 'utf8'), '^blog {\n  # edited by someone else\n}\n');
  assert.equal(existsSync(join(t.dir, 'local', 'php-fpm')), false);
  assert.equal(existsSync(join(t.dir, 'php-fpm.d', '.blog.hatter-bak')), false);
});

test('a changed tree that does not check: exit 2, the reasons, nothing written', () => {
  // The second profile mode makes the whole profile invalid (hatter check and apparmor_parser agree).
  const t = tree('profile php-fpm /usr/sbin/php-fpm* flags=(complain enforce) {\n  include <php-fpm.d>\n}\n');
  const { changes } = learn(t);
  assert.ok(changes.length > 0);
  const result = writeChanges(changes, { entries: [t.entry], includeDirs: [t.dir] });
  assert.equal(result.exitCode, 2);
  assert.equal(result.diagnostics[0]!.code, 'learn-edit/check-failed');
  assert.ok(result.diagnostics.length > 1, 'the checker\'s own errors follow');
  assert.equal(readFileSync(join(t.dir, 'php-fpm.d', 'blog'), 'utf8'), t.files.get(join(t.dir, 'php-fpm.d', 'blog')));
  assert.equal(existsSync(join(t.dir, 'local')), false);
});

test('apparmor_parser -QK is run on a scratch copy and its rejection stops the write', { skip: parser.skip }, () => {
  const t = tree();
  const { changes } = learn(t);
  // A fake parser that rejects everything stands in for a parser/hatter disagreement.
  const fake = join(t.dir, 'reject.sh');
  writeFileSync(fake, '#!/bin/sh\necho "AppArmor parser error: scripted rejection" >&2\nexit 1\n', { mode: 0o755 });
  const result = writeChanges(changes, { entries: [t.entry], includeDirs: [t.dir], apparmorParser: fake });
  assert.equal(result.exitCode, 2);
  assert.equal(result.diagnostics[0]!.code, 'learn-edit/apparmor-parser-rejected');
  assert.match(result.diagnostics[0]!.message, /scripted rejection/);
  assert.equal(existsSync(join(t.dir, 'local')), false);
});

/** Apply a unified diff of one file to `before` (the test's own reader of the format). */
function patch(before: string, diff: string): string {
  const old = before.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const out: string[] = [];
  let at = 0;
  const lines = diff.split('\n').slice(2, -1);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const hunk = /^@@ -(\d+),(\d+) \+\d+,\d+ @@$/.exec(line);
    if (hunk) {
      const start = Number(hunk[2]) === 0 ? Number(hunk[1]) : Number(hunk[1]) - 1;
      while (at < start) out.push(old[at++]!);
      continue;
    }
    const noNewline = lines[i + 1] === '\\ No newline at end of file';
    const text = line.slice(1) + (noNewline ? '' : '\n');
    if (line[0] === ' ') { assert.equal(old[at], text); out.push(old[at++]!); }
    else if (line[0] === '-') { assert.equal(old[at], text); at++; }
    else if (line[0] === '+') out.push(text);
    if (noNewline) i++;
  }
  while (at < old.length) out.push(old[at++]!);
  return out.join('');
}

test('property: the diff turns before into after, and agrees with diff(1) on the number of changed lines', () => {
  const text = fc.array(fc.constantFrom('a', 'b', 'c', '  d,', '}', ''), { maxLength: 30 }).chain((lines) => fc.tuple(fc.constant(lines), fc.boolean()))
    .map(([lines, finalNewline]) => lines.join('\n') + (finalNewline && lines.length ? '\n' : ''));
  fc.assert(fc.property(text, text, (before, after) => {
    const diff = unifiedDiff(before, after, '/x');
    if (before === after) { assert.equal(diff, ''); return; }
    assert.equal(patch(before, diff), after);
  }), { numRuns: 500 });
  const gnu = spawnSync('diff', ['--version']);
  if (gnu.error) return;
  const dir = mkdtempSync(join(tmpdir(), 'hatter-line-diff-'));
  fc.assert(fc.property(text, text, (before, after) => {
    writeFileSync(join(dir, 'a'), before);
    writeFileSync(join(dir, 'b'), after);
    const theirs = spawnSync('diff', ['-u', join(dir, 'a'), join(dir, 'b')], { encoding: 'utf8' }).stdout;
    const count = (d: string) => d.split('\n').filter((l) => /^[-+](?![-+]{2} )/.test(l)).length;
    assert.equal(count(unifiedDiff(before, after, '/x')), count(theirs), 'a shortest edit script');
  }), { numRuns: 200 });
});
