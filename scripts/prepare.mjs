// Runs on `npm install` in a checkout: compile TypeScript and, where a C compiler exists,
// the native confinement launcher. Neither step downloads anything.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';

// `npx hatter` in a checkout: npm 11 installs the checkout's own package into its npx cache, and to
// pack it runs this script again in the checkout (about 40 s on a quiet 2-core machine, minutes on a
// busy one) although `npm install` has just built everything. Under `npm exec` an existing build is
// kept; `npm install` and `npm run prepare` always rebuild.
if (process.env.npm_command === 'exec' && existsSync('dist/src/cli/bin.js')) {
  process.stderr.write('hatter: prepare under npm exec: the existing build in dist/ is used (run `npm run build` after changing the sources)\n');
  process.exit(0);
}

const tsc = [spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' })]
    // The console page (src/console/ui) is compiled on its own, with the DOM library the server code must not see.
    .concat([spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.ui.json'], { stdio: 'inherit' })]).find((r) => r.status !== 0) ?? { status: 0 };
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

if (existsSync('scripts/build-native.mjs')) {
  const native = spawnSync(process.execPath, ['scripts/build-native.mjs'], { stdio: 'inherit' });
  // The launcher is optional: without it the Landlock backend reports itself unavailable.
  if (native.status !== 0) process.stderr.write('hatter: native launcher not built; the landlock backend will be unavailable\n');
}

// npm 10's `npx hatter` looks for node_modules/.bin/hatter first and runs it directly; npm links a
// package's bins only into the projects that depend on it, hence this link. (npm 11 installs the
// checkout into its npx cache regardless: see the npm exec check at the top.)
if (existsSync('node_modules')) {
  const link = 'node_modules/.bin/hatter';
  mkdirSync('node_modules/.bin', { recursive: true });
  try { lstatSync(link); } catch { symlinkSync('../../bin/hatter.js', link); }
}
