// Locations tests need, resolved once: the repository root, the shared corpora, the compiled CLI.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  let dir = process.cwd();
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'hatter') return dir;
      } catch { /* keep looking */ }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('tests must run inside the hatter checkout (no package.json named hatter found)');
    dir = parent;
  }
}

export const repoRoot = findRepoRoot();

/** The compiled tree this test file belongs to (dist/ or another --outDir). */
export const compiledRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The compiled CLI entry module, next to the compiled tests. */
export const cliMain = join(compiledRoot, 'src', 'cli', 'main.js');
