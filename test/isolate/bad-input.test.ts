// `hatter isolate` on bad input (issue #21, "Done when"): a tenant area that does not exist, one site's
// root inside another's or two sites claiming one directory (reported with both sites, never merged),
// and a hat the configuration names that the policy lacks. Each is a diagnostic naming the culprit and
// exit status 2, never a stack trace or an answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';

function fixture(): { dir: string; policy: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hatter-isolate-bad-'));
  for (const sub of ['alice', 'bob', 'common']) mkdirSync(join(dir, sub));
  const policy = join(dir, 'web');
  writeFileSync(policy, `profile web {\n  ^alice {\n    ${dir}/alice/** rw,\n  }\n  ^bob {\n    ${dir}/bob/** rw,\n  }\n}\n`);
  return { dir, policy };
}

const noStack = (text: string) => assert.ok(!/\n\s+at /.test(text), `no stack trace:\n${text}`);

test('an area that does not exist: tenant/missing-area naming it, exit 2', async () => {
  const { dir, policy } = fixture();
  try {
    const run = await runCli(['isolate', '--tenant', `alice=${dir}/alice`, '--tenant', `bob=${dir}/gone`, '--policy', policy, '--profile', 'web']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, new RegExp(`error: bob: area ${dir}/gone does not exist \\[tenant/missing-area\\]`));
    assert.equal(run.stdout, '', 'no matrix is printed');
    noStack(run.stderr);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('one site\'s root inside another\'s: reported with both sites, not merged, exit 2', async () => {
  const { dir, policy } = fixture();
  try {
    const args = ['isolate', '--tenant', `alice=${dir}`, '--tenant', `bob=${dir}/bob`, '--policy', policy, '--profile', 'web'];
    const run = await runCli(args);
    assert.equal(run.code, 2);
    assert.match(run.stderr, new RegExp(`error: bob's area ${dir}/bob lies inside alice's area ${dir} \\[tenant/nested-area\\]`));
    const json = await runCli([...args, '--json']);
    assert.equal(json.code, 2);
    const out = JSON.parse(json.stdout) as { tenants: { name: string; areas: string[] }[]; isolated: boolean };
    assert.deepEqual(out.tenants.map((t) => [t.name, t.areas]), [['alice', [dir]], ['bob', [`${dir}/bob`]]], 'two tenants, each with its own area');
    assert.equal(out.isolated, false);
    noStack(run.stderr);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('two sites claiming one directory: tenant/same-area naming both, exit 2', async () => {
  const { dir, policy } = fixture();
  try {
    const run = await runCli(['isolate', '--tenant', `alice=${dir}/alice,${dir}/common`, '--tenant', `bob=${dir}/bob,${dir}/common`, '--policy', policy, '--profile', 'web']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, new RegExp(`error: alice and bob both claim ${dir}/common as their own \\[tenant/same-area\\]`));
    noStack(run.stderr);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a hat the configuration names but the policy lacks: isolate/missing-hat, exit 2', async () => {
  const { dir, policy } = fixture();
  try {
    const run = await runCli(['isolate', '--tenant', `alice=${dir}/alice`, '--tenant', `carol=${dir}/bob`, '--policy', policy, '--profile', 'web']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /error: carol: hat web\/\/carol is not in the policy \[isolate\/missing-hat\]/);
    assert.equal(run.stdout, '');
    noStack(run.stderr);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
