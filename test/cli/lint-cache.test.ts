// `hatter lint`'s fast paths (one file-system snapshot and one parse cache per run, findings kept in the
// compile cache) must give exactly the findings of the plain path: each file loaded on its own with a
// fresh reader and linted with a fresh pattern cache, as lint did before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from '../support/cli.js';
import { repoRoot } from '../support/repo.js';
import { corpus, debianProfileDirs } from '../support/corpora.js';
import { diagnosticToJson, loadPolicy, lookupInclude } from '../../src/policy/index.js';
import { nodeFileReader } from '../../src/policy-node/index.js';
import { compareFindings, createLintCache, findingKey, lintPolicy, type LintFinding } from '../../src/lint/index.js';
import { tenantsFromFlags } from '../../src/web/index.js';

interface Target {
  readonly name: string;
  readonly inputs: readonly string[];
  readonly includeDirs: readonly string[];
  readonly tenants?: readonly string[];
}

/** The plain path: every input file loaded alone (fresh reader, no shared parse cache) and linted alone. */
function plainFindings(target: Target): unknown[] {
  const files: string[] = [];
  for (const input of target.inputs) {
    if (nodeFileReader().kind(input) === 'directory') {
      const found = lookupInclude(input, 'quoted', [], repoRoot, nodeFileReader());
      if (found.found) files.push(...found.files);
    } else {
      files.push(input);
    }
  }
  const web = target.tenants ? { tenants: tenantsFromFlags([...target.tenants]) } : {};
  const seen = new Set<string>();
  const findings: LintFinding[] = [];
  for (const file of files) {
    const loaded = loadPolicy(file, nodeFileReader(), { workingDirectory: repoRoot, ...(target.includeDirs.length ? { includePaths: [...target.includeDirs] } : {}) });
    if (loaded.unreadable || !loaded.ok) continue;
    for (const f of lintPolicy({ loaded, web, cache: createLintCache() }).findings) {
      if (!seen.has(findingKey(f))) { seen.add(findingKey(f)); findings.push(f); }
    }
  }
  return findings.sort(compareFindings).map((f) => ({ ...diagnosticToJson(f), ...(f.profile ? { profile: f.profile } : {}), ...(f.fix ? { fix: f.fix.description } : {}) }));
}

async function cliFindings(target: Target, cacheDir: string | undefined): Promise<unknown[]> {
  const args = ['lint', '--json', ...target.includeDirs.flatMap((d) => ['-I', d]), ...(target.tenants ?? []).flatMap((t) => ['--tenant', t]), ...(cacheDir ? [] : ['--no-cache']), ...target.inputs];
  const result = await runCli(args, { env: { HATTER_CACHE_DIR: cacheDir ?? '/nonexistent/hatter-cache' } });
  assert.notEqual(result.code, 2, result.stderr.slice(0, 2000));
  return (JSON.parse(result.stdout) as { findings: unknown[] }).findings;
}

async function assertSameEverywhere(target: Target): Promise<void> {
  const plain = plainFindings(target);
  assert.deepEqual(await cliFindings(target, undefined), plain, `${target.name}: --no-cache`);
  const cacheDir = mkdtempSync(join(tmpdir(), 'hatter-lint-cache-'));
  assert.deepEqual(await cliFindings(target, cacheDir), plain, `${target.name}: cold cache`);
  assert.ok(readdirSync(join(cacheDir, 'v1')).some((n) => n.endsWith('.bin')), `${target.name}: the cold run stored its findings`);
  assert.deepEqual(await cliFindings(target, cacheDir), plain, `${target.name}: warm cache`);
}

function fixtureTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hatter-lint-fast-'));
  mkdirSync(join(dir, 'abstractions'));
  mkdirSync(join(dir, 'local'));
  writeFileSync(join(dir, 'abstractions', 'site'), '/srv/www/** r,\n/tmp/** w,\n/{,usr/}bin/* ix,\n');
  writeFileSync(join(dir, 'local', 'shop'), '/srv/www/shop/uploads/** w,\n');
  writeFileSync(join(dir, 'web'), [
    'profile apache2 /usr/sbin/apache2 {',
    '  ^shop {',
    '    #include <local/shop>',
    '    include <abstractions/site>',
    '    /srv/www/shop/** r,',
    '    /srv/www/shop/** m,',
    '    signal (receive) peer=apache2//null-shop,',
    '  }',
    '  ^blog {',
    '    include <abstractions/site>',
    '    /srv/www/blog/** rw,',
    '    capability dac_override,',
    '  }',
    '}',
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'other'), 'profile other /usr/bin/other {\n  include <abstractions/site>\n}\n');
  writeFileSync(join(dir, 'broad'), 'profile broad /usr/bin/broad {\n  change_profile -> **,\n}\n');
  return dir;
}

test('lint fast paths give the plain path\'s findings on fixtures (no cache, cold cache, warm cache)', async () => {
  const dir = fixtureTree();
  await assertSameEverywhere({ name: 'fixture tree', inputs: [dir], includeDirs: [dir], tenants: ['shop=/srv/www/shop', 'blog=/srv/www/blog'] });
  const hosting = join(repoRoot, 'examples', 'hosting', 'policy');
  if (existsSync('/etc/apparmor.d/abi')) await assertSameEverywhere({ name: 'examples/hosting', inputs: [hosting], includeDirs: [hosting, '/etc/apparmor.d'] });
});

test('a warm lint run sees a changed abstraction: its findings are recomputed, not served from the cache', async () => {
  const dir = fixtureTree();
  const cacheDir = mkdtempSync(join(tmpdir(), 'hatter-lint-cache-'));
  const target: Target = { name: 'fixture', inputs: [join(dir, 'other')], includeDirs: [dir] };
  const before = await cliFindings(target, cacheDir);
  assert.ok(!before.some((f) => (f as { code: string }).code === 'lint/unconfined-exec'));
  writeFileSync(join(dir, 'abstractions', 'site'), '/srv/www/** r,\n/usr/bin/tool Ux,\n');
  const after = await cliFindings(target, cacheDir);
  assert.ok(after.some((f) => (f as { code: string; file: string }).code === 'lint/unconfined-exec'), JSON.stringify(after));
  assert.deepEqual(after, plainFindings(target));
});

test('lint fast paths give the plain path\'s findings on Debian\'s /etc/apparmor.d and the profile corpus', async (t) => {
  const profiles = corpus('profiles');
  const targets: Target[] = [];
  if (existsSync(join(debianProfileDirs.apparmor, 'abi'))) targets.push({ name: 'Debian', inputs: [debianProfileDirs.apparmor], includeDirs: [] });
  else t.diagnostic(`skipped: ${debianProfileDirs.apparmor} not present`);
  if (profiles.dir) {
    const tree = resolve(profiles.dir, 'apparmor.d');
    targets.push({ name: 'corpus', inputs: [tree], includeDirs: [tree] });
  } else {
    t.diagnostic(String(profiles.skip));
  }
  for (const target of targets) await assertSameEverywhere(target);
});
