import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { repoRoot } from '../support/repo.js';
import { scratchDir } from '../support/confine.js';

function site(): { dir: string; policy: string } {
  const dir = scratchDir('explain');
  mkdirSync(join(dir, 'bob', 'public'), { recursive: true });
  mkdirSync(join(dir, 'bob', 'data'), { recursive: true });
  writeFileSync(join(dir, 'bob', 'public', 'index.html'), '');
  writeFileSync(join(dir, 'bob', 'public', 'notes.txt'), '');
  const policy = join(dir, 'hatter');
  writeFileSync(policy, `@{SITE}=${dir}/bob\nprofile hatter {\n  ^bob {\n    @{SITE}/public/*.html r,\n    @{SITE}/data/** rw,\n    deny @{SITE}/data/private/** r,\n  }\n}\n`);
  return { dir, policy };
}

test('confine explain prints the Landlock grants with their hat rules, the narrowing and the widening', async () => {
  const { dir, policy } = site();
  const result = await runCli(['confine', 'explain', '--policy', policy, '--backend', 'landlock', '--abi', '7', 'hatter//bob']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^landlock: hatter\/\/bob \(ABI 7, --abi\)$/m);
  assert.match(result.stdout, new RegExp(`^    rw  ${dir}/bob/data    <- ${dir}/bob/data/\\*\\* rw \\(${policy}:5\\)$`, 'm'));
  // *.html is granted on the existing .html file, not on public (notes.txt is not in the hat)
  assert.match(result.stdout, new RegExp(`^    r   ${dir}/bob/public/index\\.html    <- ${dir}/bob/public/\\*\\.html r`, 'm'));
  assert.doesNotMatch(result.stdout, new RegExp(`^    r   ${dir}/bob/public    `, 'm'));
  assert.match(result.stdout, new RegExp(`^  narrowing \\(1\\): .*\n    \\[glob\\] ${dir}/bob/public/\\*\\.html r: granted only on the 1 existing path it matches beneath ${dir}/bob/public, not on what is created later \\(allow it with landlock\\.allowWidening`, 'm'));
  assert.match(result.stdout, new RegExp(`\\[deny\\] deny ${dir}/bob/data/private/\\*\\* r cannot be kept`));
  assert.match(result.stdout, /^  tcp: handled; bind ports \[\], connect ports \[\]/m);
  assert.doesNotMatch(result.stdout, /^apparmor:/m);
});

test('confine explain --json gives both backends; apparmor shows the attr/exec string', async () => {
  const { policy } = site();
  const result = await runCli(['confine', 'explain', '--policy', policy, '--abi', '4', '--json', 'hatter//bob']);
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout) as { ok: boolean; explanations: { backend: string; attrExec?: string; abi?: number; scoped?: boolean; widening?: { kind: string }[] }[] };
  assert.equal(json.ok, true);
  assert.deepEqual(json.explanations.map((e) => e.backend), ['landlock', 'apparmor']);
  assert.equal(json.explanations[1]!.attrExec, 'exec hatter//bob');
  assert.equal(json.explanations[0]!.abi, 4);
  assert.equal(json.explanations[0]!.scoped, false);
  assert.ok(json.explanations[0]!.widening!.some((w) => w.kind === 'signal'));
});

test('confine explain: usage errors and policy errors exit 2', async () => {
  const { policy } = site();
  assert.equal((await runCli(['confine', 'explain', 'hatter//bob'])).code, 2);
  assert.equal((await runCli(['confine', 'explain', '--policy', policy, 'hatter//'])).code, 2);
  assert.equal((await runCli(['confine', 'explain', '--policy', policy, '--backend', 'selinux', 'hatter//bob'])).code, 2);
  assert.equal((await runCli(['confine', 'frobnicate'])).code, 2);
  const missing = await runCli(['confine', 'explain', '--policy', policy, 'hatter//carol']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /hatter\/\/carol is not defined in .* \[confine\/hat-not-found\]/);
  const help = await runCli(['confine', 'explain', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: hatter confine explain/);
});

test('confine probe lists the backends and what auto picks', async () => {
  const result = await runCli(['confine', 'probe', '--json']);
  const json = JSON.parse(result.stdout) as { backends: { backend: string; available: boolean; reason: string }[]; auto: { backend: string | null } };
  assert.deepEqual(json.backends.map((b) => b.backend), ['apparmor', 'landlock', 'none']);
  assert.equal(json.backends[2]!.available, true);
  const someKernelBackend = json.backends.slice(0, 2).some((b) => b.available);
  assert.equal(result.code, someKernelBackend ? 0 : 1);
  assert.equal(json.auto.backend === null, !someKernelBackend);
  const text = await runCli(['confine', 'probe']);
  assert.match(text.stdout, /^apparmor +(available|unavailable) /m);
  assert.match(text.stdout, /^auto +/m);
  assert.equal((await runCli(['confine', 'probe', 'extra'])).code, 2);
});

const DEMO_POLICY = join(repoRoot, 'examples', 'hosting', 'policy', 'hatter-demo');

test('the demo policy: no Landlock grant of one site reaches the other site\'s tree', { skip: existsSync(DEMO_POLICY) ? undefined : 'examples/hosting/policy/hatter-demo is missing' }, async () => {
  const hosting = join(repoRoot, 'examples', 'hosting');
  const source = DEMO_POLICY;
  const dir = scratchDir('demo-policy');
  const policy = join(dir, 'hatter-demo');
  writeFileSync(policy, readFileSync(source, 'utf8')
    .replace(/^@\{HATTER_DEMO\}=.*$/m, `@{HATTER_DEMO}=${hosting}`)
    .replace(/^@\{HATTER_CODE\}=.*$/m, `@{HATTER_CODE}=${join(repoRoot, 'dist')}`)
    .replace(/^@\{HATTER_MODULES\}=.*$/m, `@{HATTER_MODULES}=${join(repoRoot, 'node_modules')}`));
  for (const [site, other] of [['bob', 'alice'], ['alice', 'bob']] as const) {
    const result = await runCli(['confine', 'explain', '--policy', policy, '--backend', 'landlock', '--abi', '7', '--json', `hatter-demo//${site}.localhost`]);
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout) as { explanations: { paths: { path: string }[] }[] };
    const otherRoot = join(hosting, other);
    const reaching = json.explanations[0]!.paths.filter((p) => p.path === '/' || otherRoot === p.path || otherRoot.startsWith(`${p.path}/`) || p.path.startsWith(`${otherRoot}/`));
    assert.deepEqual(reaching, [], `${site}'s grants reach ${other}'s tree`);
    assert.ok(json.explanations[0]!.paths.some((p) => p.path.startsWith(join(hosting, site))), `${site} gets its own tree`);
  }
});

test('confine explain with the real abstractions/base: no grant on /home or /proc unless --allow-widening names the rule', { skip: existsSync('/etc/apparmor.d/abstractions/base') ? undefined : 'no /etc/apparmor.d/abstractions/base (apparmor not installed)' }, async () => {
  const dir = scratchDir('explain-base');
  const policy = join(dir, 'hatter');
  writeFileSync(policy, 'include <tunables/global>\nprofile hatter {\n  ^bob {\n    include <abstractions/base>\n  }\n}\n');
  const narrow = await runCli(['confine', 'explain', '--policy', policy, '-I', '/etc/apparmor.d', '--backend', 'landlock', '--abi', '7', '--json', 'hatter//bob']);
  assert.equal(narrow.code, 0, narrow.stderr);
  type Landlock = { paths: { path: string }[]; narrowing: { kind: string; source?: string }[]; widening: { kind: string; grant?: string }[]; ownProc: string[] | null; capabilities: string[] };
  const n = (JSON.parse(narrow.stdout) as { explanations: Landlock[] }).explanations[0]!;
  assert.ok(!n.paths.some((p) => p.path === '/home' || p.path === '/proc' || p.path === '/'), JSON.stringify(n.paths));
  assert.ok(n.narrowing.some((e) => e.kind === 'owner' && /abstractions\/base:\d+$/.test(e.source ?? '')));
  assert.ok(n.ownProc?.includes('r:/maps') && !n.ownProc.some((e) => !e.includes(':')), JSON.stringify(n.ownProc));
  assert.deepEqual(n.capabilities, []);
  const privateRule = n.narrowing.find((e) => e.kind === 'owner' && /\.Private\/\*\*/.test(JSON.stringify(e)))!;
  const procRule = readFileSync('/etc/apparmor.d/abstractions/base', 'utf8').split('\n').findIndex((line) => /^\s*(owner\s+)?@\{PROC\}\/(@\{pids?\}|\[1-9\]\*)\//.test(line)) + 1;
  assert.ok(procRule > 0, 'abstractions/base has a /proc/@{pid} rule');
  const wide = await runCli(['confine', 'explain', '--policy', policy, '-I', '/etc/apparmor.d', '--backend', 'landlock', '--abi', '7', '--json',
    '--allow-widening', privateRule.source!.replace(/^.*\/(abstractions\/base:\d+)$/, '$1'), '--allow-widening', `abstractions/base:${procRule}`, 'hatter//bob']);
  assert.equal(wide.code, 0, wide.stderr);
  const w = (JSON.parse(wide.stdout) as { explanations: Landlock[] }).explanations[0]!;
  assert.ok(w.paths.some((p) => p.path === '/home'), JSON.stringify(w.paths));
  assert.ok(w.widening.some((e) => e.kind === 'owner'));
  assert.ok(w.paths.some((p) => p.path === '/proc') && w.widening.some((e) => e.grant === '/proc'), JSON.stringify(w.widening));
});
