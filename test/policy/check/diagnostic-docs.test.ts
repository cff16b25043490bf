// Every diagnostic code resolve/ and check/ can emit is documented in docs/diagnostics.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../support/repo.js';

test('every resolve/ and check/ code has a row in docs/diagnostics.md', () => {
  const docs = readFileSync(join(repoRoot, 'docs', 'diagnostics.md'), 'utf8');
  const codes = new Set<string>();
  for (const dir of ['src/policy/resolve', 'src/policy/check']) {
    for (const name of readdirSync(join(repoRoot, dir))) {
      if (!name.endsWith('.ts')) continue;
      for (const match of readFileSync(join(repoRoot, dir, name), 'utf8').matchAll(/'((?:resolve|check)\/[a-z-]+)'/g)) codes.add(match[1]!);
    }
  }
  assert.ok(codes.size > 50);
  assert.deepEqual([...codes].filter((code) => !docs.includes(`| \`${code}\` |`)).sort(), []);
});
