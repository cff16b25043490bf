// `hatter diff` as users run it: equal (0), different with a witness (1), JSON, the JSONL pair
// protocol, and exit 2 for policies that do not compile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';

const OLD = 'profile web {\n  /srv/www/** r,\n  /srv/www/uploads/** rw,\n}\n';
/** The same permissions, written differently. */
const SAME = 'profile web {\n  /srv/www/uploads/** w,\n  /srv/www/** r,\n}\n';
/** One real change: uploads become writable everywhere under /srv/www. */
const WIDER = 'profile web {\n  /srv/www/** rw,\n}\n';
const BROKEN = 'profile web {\n  /srv/www/** r\n';

function withFiles(files: Record<string, string>, fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hatter-diff-'));
    try {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const diff = (dir: string, ...args: string[]) => runCli(['diff', '-I', dir, ...args], { cwd: dir });

test('policies with the same compiled permissions are equal (exit 0)', withFiles({ old: OLD, same: SAME }, async (dir) => {
  const r = await diff(dir, 'old', 'same');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^equal/);
}));

test('a real change exits 1 and prints the shortest witness', withFiles({ old: OLD, wider: WIDER }, async (dir) => {
  const r = await diff(dir, 'old', 'wider');
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /web: different/);
  // The shortest path outside uploads/, for the other half; the new rule (line 2) grants it.
  assert.match(r.stdout, /file: gained: wa on \/srv\/www\/a\n\s+before: no rule\s+after: \S*wider:2\n/);
}));

test('--json reports each differing profile and class with witnesses', withFiles({ old: OLD, wider: WIDER }, async (dir) => {
  const r = await diff(dir, 'old', 'wider', '--json');
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout) as {
    equal: boolean;
    profiles: { label: string; equal: boolean; classes: { class: string; witnesses: { request: { class: string; path: string }; gained: string[]; lost: string[] }[] }[] }[];
  };
  assert.equal(out.equal, false);
  assert.deepEqual(out.profiles.map((p) => [p.label, p.equal]), [['web', false]]);
  const file = out.profiles[0]!.classes.find((c) => c.class === 'file')!;
  const w = file.witnesses[0]!;
  assert.equal(w.request.class, 'file');
  assert.match(w.request.path, /^\/srv\/www\//);
  assert.ok(w.gained.includes('w'));
  assert.deepEqual(w.lost, []);
}));

test('a side that does not compile exits 2 with its diagnostics', withFiles({ old: OLD, broken: BROKEN }, async (dir) => {
  const r = await diff(dir, 'old', 'broken');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /broken:\d+:\d+/);
  assert.match(r.stderr, /does not compile/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}));

test('--jsonl answers every line: equal, different, uncompilable and malformed', withFiles({}, async (dir) => {
  const lines = [
    JSON.stringify({ a: OLD, b: SAME, features: null }),
    JSON.stringify({ a: OLD, b: WIDER, features: null }),
    JSON.stringify({ a: OLD, b: BROKEN, features: null }),
    '{"a": "profile',
    JSON.stringify({ a: OLD }),
  ];
  const result = await runCli(['diff', '--jsonl', '-I', dir], { cwd: dir, stdin: `${lines.join('\n')}\n` });
  assert.equal(result.code, 2, 'a line in error makes the whole run exit 2');
  const out = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { equal?: boolean; witness?: { profile: string; class: string; gained: string[] } | null; error?: string });
  assert.equal(out.length, lines.length);
  assert.deepEqual(out[0], { equal: true, witness: null });
  assert.equal(out[1]!.equal, false);
  assert.equal(out[1]!.witness!.profile, 'web');
  assert.equal(out[1]!.witness!.class, 'file');
  assert.ok(out[1]!.witness!.gained.includes('w'));
  assert.match(out[2]!.error!, /^b does not compile: \d+:\d+: /);
  assert.equal(typeof out[3]!.error, 'string');
  assert.match(out[4]!.error!, /"a" and "b"/);
}));

test('--jsonl with only good lines exits 1 when some pair differs, 0 when all are equal', withFiles({}, async (dir) => {
  const equal = await runCli(['diff', '--jsonl'], { cwd: dir, stdin: `${JSON.stringify({ a: OLD, b: SAME, features: null })}\n` });
  assert.equal(equal.code, 0, equal.stdout);
  const different = await runCli(['diff', '--jsonl'], { cwd: dir, stdin: `${JSON.stringify({ a: OLD, b: SAME, features: null })}\n${JSON.stringify({ a: SAME, b: WIDER, features: null })}\n` });
  assert.equal(different.code, 1, different.stdout);
}));

test('--jsonl refuses file arguments (exit 2)', withFiles({ old: OLD }, async (dir) => {
  const r = await diff(dir, '--jsonl', 'old');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--jsonl reads pairs from stdin/);
}));
