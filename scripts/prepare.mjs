// Runs on `npm install` in a checkout: compile TypeScript and, where a C compiler exists,
// the native confinement launcher. Neither step downloads anything.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';

const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

if (existsSync('scripts/build-native.mjs')) {
  const native = spawnSync(process.execPath, ['scripts/build-native.mjs'], { stdio: 'inherit' });
  // The launcher is optional: without it the Landlock backend reports itself unavailable.
  if (native.status !== 0) process.stderr.write('hatter: native launcher not built; the landlock backend will be unavailable\n');
}

// `npx hatter` in this checkout looks for node_modules/.bin/hatter first. npm links a package's bins
// only into the projects that depend on it, so without this link npx copies the checkout into its
// cache and runs this whole script again there (about 40 s) before the first `npx hatter serve`.
if (existsSync('node_modules')) {
  const link = 'node_modules/.bin/hatter';
  mkdirSync('node_modules/.bin', { recursive: true });
  try { lstatSync(link); } catch { symlinkSync('../../bin/hatter.js', link); }
}
