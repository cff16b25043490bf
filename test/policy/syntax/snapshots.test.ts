// Reviewed tree snapshots: test/policy/syntax/{ok,err}/NAME.apparmor with NAME.tree beside it
// (the dumpTree output, then one `# line:col severity code` line per diagnostic). ok cases must have no
// diagnostics, err cases must have some. To add a case, write the .apparmor file, generate its .tree
// with dumpTree, and read the tree before committing it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dumpTree, parsePolicy, printTree } from '../../../src/policy/syntax/index.js';
import { repoRoot } from '../../support/repo.js';

for (const kind of ['ok', 'err'] as const) {
  const dir = join(repoRoot, 'test', 'policy', 'syntax', kind);
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.apparmor')).sort()) {
    test(`${kind}/${name}`, () => {
      const text = readFileSync(join(dir, name), 'utf8');
      const expected = readFileSync(join(dir, name.replace(/\.apparmor$/, '.tree')), 'utf8');
      const result = parsePolicy(text, name);
      assert.equal(printTree(result.root), text);
      const diagnostics = result.diagnostics.map((d) => `# ${d.line}:${d.col} ${d.severity} ${d.code}`).join('\n');
      assert.equal(dumpTree(result.root) + (diagnostics ? `${diagnostics}\n` : ''), expected);
      if (kind === 'ok') assert.equal(result.diagnostics.length, 0);
      else assert.ok(result.diagnostics.some((d) => d.severity === 'error'));
    });
  }
}
