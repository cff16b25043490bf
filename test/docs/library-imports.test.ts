// The library examples in README.md and docs/*.md import from 'hatter'; a user who copies them must
// get every name they import, through the package's own exports (no deep paths the package hides).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/repo.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, { default: string }> };
const docs = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

test("every import from 'hatter' in the docs names an exported subpath and exported bindings", async () => {
  let seen = 0;
  for (const doc of docs) {
    const text = readFileSync(join(repoRoot, doc), 'utf8');
    for (const m of text.matchAll(/^import \{([^}]*)\} from '(hatter[^']*)'/gm)) {
      seen++;
      const specifier = m[2]!;
      const subpath = specifier === 'hatter' ? '.' : `.${specifier.slice('hatter'.length)}`;
      const target = pkg.exports[subpath];
      assert.ok(target, `${doc}: '${specifier}' is not exported by package.json (exports: ${Object.keys(pkg.exports).join(', ')})`);
      // The module the export points at (./dist/...), taken from the build these tests run from.
      const module = (await import(new URL(`../../${target.default.replace(/^\.\/dist\//, '')}`, import.meta.url).href)) as Record<string, unknown>;
      const names = m[1]!.split(',').map((n) => n.trim().split(/\s+as\s+/)[0]!);
      for (const name of names.filter((n) => n && !n.startsWith('type '))) { // types are gone at run time
        assert.ok(name in module, `${doc}: '${name}' is not exported by '${specifier}'`);
      }
    }
  }
  assert.ok(seen > 0, 'no library imports found in the docs');
});
