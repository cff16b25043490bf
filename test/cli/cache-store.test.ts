// The compile cache on disk: entries come back only when intact and made by the same code; corrupt,
// truncated or foreign entries are ignored (one warning) and replaced; an unusable directory turns the
// cache off with a warning and never changes an answer; the directory stays within its bound; and
// concurrent writers never leave a torn entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { clearCache, commandCacheStore, defaultCacheDirectory, openCacheStore, trimCache } from '../../src/cli/cache-store.js';
import { runCli } from '../support/cli.js';

function withDir(fn: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hatter-cache-'));
    try { await fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
  };
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array | undefined) => (data ? new TextDecoder().decode(data) : undefined);

function entries(root: string): string[] {
  return readdirSync(join(root, 'v1')).filter((name) => name.endsWith('.bin')).map((name) => join(root, 'v1', name));
}

test('the cache directory: HATTER_CACHE_DIR, else $XDG_CACHE_HOME/hatter, else ~/.cache/hatter', () => {
  assert.equal(defaultCacheDirectory({ HATTER_CACHE_DIR: '/x/y', XDG_CACHE_HOME: '/c', HOME: '/h' }), '/x/y');
  assert.equal(defaultCacheDirectory({ XDG_CACHE_HOME: '/c', HOME: '/h' }), '/c/hatter');
  assert.equal(defaultCacheDirectory({ XDG_CACHE_HOME: 'relative', HOME: '/h' }), '/h/.cache/hatter');
  assert.equal(defaultCacheDirectory({ HOME: '/h' }), '/h/.cache/hatter');
});

test('an entry comes back as written, only for the same key and the same code', withDir((dir) => {
  const store = openCacheStore({ directory: dir, identity: 'code-1' })!;
  assert.ok(store);
  assert.equal(store.get('k'), undefined);
  store.set('k', bytes('value'));
  assert.equal(text(store.get('k')), 'value');
  assert.equal(store.get('k2'), undefined);
  assert.equal(openCacheStore({ directory: dir, identity: 'code-2' })!.get('k'), undefined, 'another build never reads it');
  assert.equal(text(openCacheStore({ directory: dir, identity: 'code-1' })!.get('k')), 'value', 'another process of the same build does');
  assert.equal(statSync(join(dir, 'v1')).mode & 0o777, 0o700);
  assert.equal(statSync(entries(dir)[0]!).mode & 0o777, 0o600);
  assert.equal(clearCache(dir), 1);
  assert.equal(store.get('k'), undefined);
}));

test('a corrupt or truncated entry is ignored with one warning, removed, and written again', withDir((dir) => {
  const warnings: string[] = [];
  const store = openCacheStore({ directory: dir, identity: 'c', warn: (m) => warnings.push(m) })!;
  store.set('k', bytes('a'.repeat(1000)));
  const [file] = entries(dir);
  const data = readFileSync(file!);
  data[data.length - 10] ^= 1;
  writeFileSync(file!, data);
  assert.equal(store.get('k'), undefined);
  assert.equal(existsSync(file!), false, 'removed');
  assert.equal(store.stats.corrupt, 1);
  store.set('k', bytes('b'.repeat(1000)));
  writeFileSync(file!, readFileSync(file!).subarray(0, 100));
  assert.equal(store.get('k'), undefined, 'truncated');
  writeFileSync(file!, 'not an entry at all');
  assert.equal(store.get('k'), undefined, 'garbage');
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /corrupt/);
  store.set('k', bytes('c'));
  assert.equal(text(store.get('k')), 'c');
}));

test('an entry renamed to another key\'s name is not taken for that key', withDir((dir) => {
  const store = openCacheStore({ directory: dir, identity: 'c' })!;
  store.set('one', bytes('1'));
  const [first] = entries(dir);
  store.set('two', bytes('2'));
  const second = entries(dir).find((f) => f !== first)!;
  writeFileSync(second, readFileSync(first!));
  assert.equal(store.get('two'), undefined);
}));

test('an unusable directory turns the cache off with a warning: a file in the way, or a directory others may write', withDir((dir) => {
  const warnings: string[] = [];
  writeFileSync(join(dir, 'file'), '');
  assert.equal(openCacheStore({ directory: join(dir, 'file', 'cache'), warn: (m) => warnings.push(m) }), undefined);
  mkdirSync(join(dir, 'shared'));
  chmodSync(join(dir, 'shared'), 0o777);
  assert.equal(openCacheStore({ directory: join(dir, 'shared'), warn: (m) => warnings.push(m) }), undefined);
  assert.equal(warnings.length, 2);
  assert.match(warnings[1]!, /only this user can write/);
  assert.equal(commandCacheStore({ env: { HATTER_CACHE_DIR: join(dir, 'x') }, stderr: { write: () => true } }, true), undefined, '--no-cache');
}));

test('hatter query answers the same, with one warning, when the cache directory cannot be used', withDir(async (dir) => {
  const policy = join(dir, 'p');
  writeFileSync(policy, 'profile p {\n  /srv/** r,\n}\n');
  writeFileSync(join(dir, 'file'), '');
  const args = ['query', '-I', dir, '--policy', policy, '--profile', 'p', '--file', '/srv/a', '--perm', 'r'];
  const broken = await runCli(args, { env: { HATTER_CACHE_DIR: join(dir, 'file', 'cache') } });
  const off = await runCli([...args, '--no-cache']);
  assert.equal(broken.code, 0, broken.stderr);
  assert.equal(broken.stdout, off.stdout);
  assert.match(broken.stderr, /^hatter: cache: cannot use .*answers are not affected/);
  assert.equal(off.stderr, '');
}));

test('past its bound the least recently used entries go; stale temp files too', withDir((dir) => {
  const store = openCacheStore({ directory: dir, identity: 'c', limitBytes: 10_000_000 })!;
  const old = Date.now() / 1000 - 3600 * 24;
  for (let i = 0; i < 5; i++) {
    store.set(`k${i}`, new Uint8Array(1000));
    for (const file of entries(dir)) if (statSync(file).mtimeMs > Date.now() - 60_000) utimesSync(file, old + i, old + i);
  }
  assert.equal(entries(dir).length, 5);
  store.get('k0'); // used now: the most recent
  writeFileSync(join(dir, 'v1', 'x.bin.1.abc.tmp'), 'partial');
  utimesSync(join(dir, 'v1', 'x.bin.1.abc.tmp'), old, old);
  trimCache(join(dir, 'v1'), 2500);
  const left = ['k0', 'k1', 'k2', 'k3', 'k4'].filter((k) => store.get(k) !== undefined);
  assert.deepEqual(left, ['k0', 'k4']);
  assert.equal(existsSync(join(dir, 'v1', 'x.bin.1.abc.tmp')), false);
}));

test('concurrent writers of one key never leave a torn or mixed entry', withDir(async (dir) => {
  const module = pathToFileURL(join(import.meta.dirname, '..', '..', 'src', 'cli', 'cache-store.js')).href;
  const writer = (id: number) => new Promise<number | null>((resolve) => {
    const script = `const { openCacheStore } = await import(${JSON.stringify(module)});
      const store = openCacheStore({ directory: ${JSON.stringify(dir)}, identity: 'c' });
      for (let i = 0; i < 40; i++) store.set('shared', new Uint8Array(200000).fill(${id}));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    child.on('exit', (code) => resolve(code));
  });
  const reader = openCacheStore({ directory: dir, identity: 'c' })!;
  const writers = [1, 2, 3, 4].map(writer);
  let done = false;
  void Promise.all(writers).then(() => { done = true; });
  while (!done) {
    const data = reader.get('shared');
    if (data) {
      assert.equal(data.length, 200000);
      assert.ok(data.every((b) => b === data[0]), 'one writer\'s bytes only');
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.deepEqual(await Promise.all(writers), [0, 0, 0, 0]);
  assert.ok(reader.get('shared'), 'an entry is there at the end');
  assert.equal(reader.stats.corrupt, 0);
  assert.deepEqual(readdirSync(join(dir, 'v1')).filter((n) => n.endsWith('.tmp')), [], 'no temp files left');
}));
