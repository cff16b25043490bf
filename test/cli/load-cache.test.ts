// A policy load answered from the compile cache must give exactly the answer a fresh load gives:
// differential on random profiles (with an included abstraction and hats), and invalidation whenever
// anything the load read changes: an included file's bytes, a new file in an included directory, a
// conditional include that appears, a file that disappears.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { loadCompiledPolicy as loadPolicy, type CompiledPolicyLoad as LoadedPolicy } from '../../src/cli/load-policy.js';
import type { CliIo } from '../../src/cli/io.js';
import { memoryBlobStore } from '../../src/policy/cache/index.js';
import { createCompileCache, decide, diffPolicies, type AccessRequest } from '../../src/policy/eval/index.js';
import { cliMain } from '../support/repo.js';

function withTree(fn: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hatter-load-cache-'));
    try { await fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
  };
}

const io = (cwd: string) => ({ cwd, env: {}, stdout: { write: () => true }, stderr: { write: () => true } }) as unknown as CliIo;

/** A store that counts whole loads written (each one means the load ran instead of being answered). */
function countingStore() {
  const store = memoryBlobStore();
  let loads = 0;
  return {
    store: { get: store.get, set: (key: string, bytes: Uint8Array) => { if (key.startsWith('policy-load')) loads++; store.set(key, bytes); } },
    entries: store.entries,
    loads: () => loads,
  };
}

function load(dir: string, file: string, store?: ReturnType<typeof countingStore>): Promise<LoadedPolicy> {
  return loadPolicy(io(dir), { file }, { includeDirs: [dir], compileCache: createCompileCache(store ? { store: store.store } : {}) });
}

function answers(loaded: LoadedPolicy, labels: readonly string[], requests: readonly AccessRequest[]): string {
  if (!loaded.ok) return JSON.stringify({ ok: false, diagnostics: loaded.diagnostics });
  const out: unknown[] = [loaded.warnings];
  for (const label of labels) {
    for (const request of requests) {
      try { out.push(JSON.parse(JSON.stringify(decide(loaded.compiled, label, request)))); } catch (error) { out.push(String(error)); }
    }
  }
  return JSON.stringify(out);
}

const paths = ['/srv/a', '/srv/a/b', '/srv/**', '/srv/*/x', '/srv/{a,b}/c', '/etc/x', '/etc/**', '/usr/bin/tool', '/tmp/[ab]*', '@{HOME}/x'];
const perms = ['r', 'w', 'rw', 'a', 'mr', 'ix', 'px', 'rk', 'l', 'wl'];
const prefixes = ['', 'deny ', 'owner ', 'audit ', 'audit deny ', 'other '];
const fileRule = fc.tuple(fc.constantFrom(...prefixes), fc.constantFrom(...paths), fc.constantFrom(...perms)).map(([p, path, perm]) => `${p}${path} ${perm},`);
const otherRule = fc.constantFrom('capability setuid,', 'deny capability kill,', 'network inet stream,', 'deny network inet6,', 'signal (send) set=(hup),', 'change_profile -> other,', 'set rlimit nofile <= 100,');
const rules = fc.array(fc.oneof(fileRule, fileRule, otherRule), { maxLength: 7 });

const requests: AccessRequest[] = [
  ...['/srv/a', '/srv/a/b', '/srv/q/x', '/srv/b/c', '/etc/x', '/usr/bin/tool', '/tmp/ax', '/root/x', '/home/u/x'].flatMap((path) => [
    { class: 'file', path, permissions: 'rwalkmx', owner: false } as const,
    { class: 'file', path, permissions: 'rw', owner: true } as const,
  ]),
  { class: 'capability', name: 'setuid' }, { class: 'capability', name: 'kill' },
  { class: 'network', access: ['create'], fields: { family: 'inet', type: 'stream' } },
  { class: 'signal', access: ['send'], fields: { signal: 'hup', peer: 'x' } },
  { class: 'change_profile', target: 'other' },
];

test('cached loads (written, then read back) answer every request exactly as a fresh load does', withTree(async (dir) => {
  mkdirSync(join(dir, 'abstractions'));
  mkdirSync(join(dir, 'tunables'));
  writeFileSync(join(dir, 'tunables', 'global'), '@{HOME}=/home/*/ /root/\n');
  await fc.assert(fc.asyncProperty(rules, rules, rules, fc.boolean(), async (main, abstraction, hat, complain) => {
    writeFileSync(join(dir, 'abstractions', 'x'), `${abstraction.join('\n')}\n`);
    const policy = join(dir, 'p');
    writeFileSync(policy, `include <tunables/global>\nprofile p ${complain ? 'flags=(complain) ' : ''}{\n  include <abstractions/x>\n  ${main.join('\n  ')}\n  ^h {\n    ${hat.join('\n    ')}\n  }\n}\n`);
    const store = countingStore();
    const labels = ['p', 'p//h'];
    const fresh = answers(await load(dir, policy), labels, requests);
    const cold = await load(dir, policy, store);
    const warm = await load(dir, policy, store);
    assert.equal(answers(cold, labels, requests), fresh);
    assert.equal(answers(warm, labels, requests), fresh);
    assert.equal(store.loads(), cold.ok ? 1 : 0, 'the second load was answered from the cache');
    if (cold.ok && warm.ok) assert.ok(diffPolicies(cold.compiled, warm.compiled).equal);
  }), { numRuns: 40 });
}));

test('a changed included file, a new file in an included directory, a conditional include that appears and a deleted include each invalidate the entry', withTree(async (dir) => {
  mkdirSync(join(dir, 'abstractions', 'x.d'), { recursive: true });
  writeFileSync(join(dir, 'abstractions', 'x'), '/srv/one r,\ninclude <abstractions/x.d>\ninclude if exists <local/p>\n');
  writeFileSync(join(dir, 'abstractions', 'x.d', 'a'), '/srv/a r,\n');
  const policy = join(dir, 'p');
  writeFileSync(policy, 'profile p {\n  include <abstractions/x>\n}\n');
  const store = countingStore();
  const read = async (path: string) => {
    const loaded = await load(dir, policy, store);
    return loaded.ok ? decide(loaded.compiled, 'p', { class: 'file', path, permissions: 'r', owner: false }).allowed : undefined;
  };
  assert.equal(await read('/srv/one'), true);
  assert.equal(await read('/srv/one'), true);
  assert.equal(store.loads(), 1);

  writeFileSync(join(dir, 'abstractions', 'x'), '/srv/two r,\ninclude <abstractions/x.d>\ninclude if exists <local/p>\n');
  assert.equal(await read('/srv/one'), false, 'changed bytes');
  assert.equal(await read('/srv/two'), true);
  assert.equal(store.loads(), 2);

  assert.equal(await read('/srv/b'), false);
  writeFileSync(join(dir, 'abstractions', 'x.d', 'b'), '/srv/b r,\n');
  assert.equal(await read('/srv/b'), true, 'new file in an included directory');
  assert.equal(store.loads(), 3);

  assert.equal(await read('/srv/local'), false);
  mkdirSync(join(dir, 'local'));
  writeFileSync(join(dir, 'local', 'p'), '/srv/local r,\n');
  assert.equal(await read('/srv/local'), true, 'conditional include appeared');
  assert.equal(store.loads(), 4);

  unlinkSync(join(dir, 'abstractions', 'x'));
  assert.equal(await read('/srv/two'), undefined, 'a missing include is an error again, not a cached answer');
  const loaded = await load(dir, policy, store);
  assert.ok(!loaded.ok);
  assert.deepEqual(loaded.diagnostics, (await load(dir, policy) as typeof loaded).diagnostics);
}));

test('a damaged entry is not trusted: the load runs again and answers as a fresh one', withTree(async (dir) => {
  const policy = join(dir, 'p');
  writeFileSync(policy, 'profile p {\n  /srv/** r,\n  deny /srv/secret r,\n}\n');
  const store = countingStore();
  await load(dir, policy, store);
  for (const [key, bytes] of store.entries) {
    const damaged = bytes.slice(0, bytes.length - 8);
    store.entries.set(key, damaged);
  }
  const again = await load(dir, policy, store);
  assert.equal(store.loads(), 2);
  assert.equal(answers(again, ['p'], requests), answers(await load(dir, policy), ['p'], requests));
}));

test('a warm hatter query does not load the parser, resolver or checker, and answers as the cold run did', withTree((dir) => {
  const policy = join(dir, 'p');
  writeFileSync(policy, 'profile p {\n  /srv/** r,\n  deny /srv/secret r,\n  ^h {\n    /srv/h/** rw,\n  }\n}\n');
  // A module hook that names every file module the process loads, on stderr.
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(hooks, "export async function load(url, context, next) { if (url.startsWith('file:')) process.stderr.write(`loaded ${url}\\n`); return next(url, context); }\n");
  const register = join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const run = () => spawnSync(process.execPath, ['--import', pathToFileURL(register).href, cliMain.replace(/main\.js$/, 'bin.js'),
    'query', '-I', dir, '--policy', policy, '--profile', 'p//h', '--file', '/srv/h/x', '--perm', 'w'],
  { encoding: 'utf8', env: { ...process.env, HATTER_CACHE_DIR: join(dir, 'cache') } });
  const cold = run();
  const warm = run();
  assert.equal(cold.status, 0, cold.stderr);
  assert.match(cold.stderr, /policy\/syntax\/parser\.js/, 'the cold run parses (the hook sees modules)');
  assert.equal(warm.status, 0, warm.stderr);
  assert.equal(warm.stdout, cold.stdout);
  for (const module of ['cli/load-fresh.js', 'policy/syntax/parser.js', 'policy/resolve/resolve.js', 'policy/check/check.js', 'policy/load/load.js']) {
    assert.ok(!warm.stderr.includes(module), `${module} is not loaded on a cache hit`);
  }
}));
