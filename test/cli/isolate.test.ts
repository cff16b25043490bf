// hatter isolate end to end: the demo is isolated; a leaky variant shows every kind of flow; bad input
// is a diagnostic with exit status 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { repoRoot } from '../support/repo.js';

test('the demo (examples/hosting) is isolated', async () => {
  const result = await runCli(['isolate', '--config', join(repoRoot, 'examples/hosting/hatter.yaml')]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.match(result.stdout, /alice\.localhost\s+-\s+\.\n/);
  assert.match(result.stdout, /isolated: no tenant reaches another/);
});

function leakyFixture(): { dir: string; policy: string; tenants: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'hatter-isolate-'));
  for (const site of ['alice', 'bob', 'carol']) mkdirSync(join(dir, site));
  const policy = join(dir, 'web');
  writeFileSync(policy, `profile helper /usr/local/bin/helper {
  ${dir}/** r,
}
profile web {
  /usr/lib/** mr,
  ^alice {
    ${dir}/alice/** rw,
    ${dir}/*/uploads/** rwlkm,
    ${dir}/bob/bin/* ix,
    /var/cache/shared/** w,
    /usr/local/bin/helper Px,
    change_profile -> web//carol,
    signal send peer=web//bob,
    ptrace trace peer=web//bob,
    unix (connect, send) type=stream,
  }
  ^bob {
    ${dir}/bob/** rw,
    /var/cache/shared/** r,
    signal receive peer=web//alice,
    ptrace tracedby peer=web//alice,
    unix (accept, receive) type=stream,
  }
  ^carol {
    ${dir}/carol/** rw,
  }
}
`);
  return { dir, policy, tenants: ['alice', 'bob', 'carol'].flatMap((s) => ['--tenant', `${s}=${join(dir, s)}`]) };
}

test('a leaky variant shows each kind of flow, with witnesses; --json and --allow', async () => {
  const { dir, policy, tenants } = leakyFixture();
  try {
    const result = await runCli(['isolate', ...tenants, '--policy', policy, '--profile', 'web', '-I', dir]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, new RegExp(`alice -> bob \\[read\\] web//alice may read ${dir}/bob/uploads/a`));
    const json = await runCli(['isolate', ...tenants, '--policy', policy, '--profile', 'web', '--json']);
    assert.equal(json.code, 1);
    const parsed = JSON.parse(json.stdout) as { flows: { from: string; to: string; kind: string; witness: string; rules: { line: number }[] }[]; isolated: boolean };
    assert.equal(parsed.isolated, false);
    const kinds = new Set(parsed.flows.filter((f) => f.from === 'alice' && f.to === 'bob').map((f) => f.kind));
    for (const kind of ['read', 'write', 'create', 'link', 'lock', 'map-exec', 'exec', 'shared-path', 'transition', 'signal', 'ptrace', 'unix']) assert.ok(kinds.has(kind), `missing ${kind}: ${[...kinds].join(',')}`);
    assert.ok(parsed.flows.some((f) => f.from === 'alice' && f.to === 'carol' && f.kind === 'change_profile'));
    assert.equal(parsed.flows.find((f) => f.kind === 'exec' && f.to === 'bob')?.witness, `${dir}/bob/bin/a`);
    assert.equal(parsed.flows.find((f) => f.kind === 'read' && f.to === 'bob')?.rules[0]?.line, 8);
    assert.ok(!parsed.flows.some((f) => f.from === 'bob' || f.from === 'carol'), 'bob and carol reach nobody');
    // Accepting every flow of alice's makes the run pass.
    const accepted = await runCli(['isolate', ...tenants, '--policy', policy, '--profile', 'web', '--allow', 'alice->bob:*', '--allow', 'alice->carol:*']);
    assert.equal(accepted.code, 0, accepted.stdout);
    assert.match(accepted.stdout, /accepted \(--allow\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input: missing area, nested areas, missing hat, bad --allow, no tenants', async () => {
  const { dir, policy } = leakyFixture();
  try {
    const missing = await runCli(['isolate', '--tenant', `alice=${dir}/nope`, '--tenant', `bob=${dir}/bob`, '--policy', policy, '--profile', 'web']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /\[tenant\/missing-area\]/);
    const nested = await runCli(['isolate', '--tenant', `alice=${dir}`, '--tenant', `bob=${dir}/bob`, '--policy', policy, '--profile', 'web']);
    assert.match(nested.stderr, /\[tenant\/nested-area\]/);
    const hat = await runCli(['isolate', '--tenant', `alice=${dir}/alice`, '--tenant', `dave=${dir}/bob`, '--policy', policy, '--profile', 'web']);
    assert.equal(hat.code, 2);
    assert.match(hat.stderr, /web\/\/dave is not in the policy \[isolate\/missing-hat\]/);
    const allow = await runCli(['isolate', '--tenant', `alice=${dir}/alice`, '--policy', policy, '--allow', 'alice-bob']);
    assert.equal(allow.code, 2);
    assert.match(allow.stderr, /not FROM->TO:KIND/);
    const none = await runCli(['isolate', '--policy', policy]);
    assert.equal(none.code, 2);
    assert.ok(!/\n\s+at /.test(missing.stderr + hat.stderr + allow.stderr + none.stderr), 'no stack traces');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
