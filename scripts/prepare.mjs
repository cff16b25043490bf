// Runs on `npm install` in a checkout: compile TypeScript and, where a C compiler exists,
// the native confinement launcher. Neither step downloads anything.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

if (existsSync('scripts/build-native.mjs')) {
  const native = spawnSync(process.execPath, ['scripts/build-native.mjs'], { stdio: 'inherit' });
  // The launcher is optional: without it the Landlock backend reports itself unavailable.
  if (native.status !== 0) process.stderr.write('hatter: native launcher not built; the landlock backend will be unavailable\n');
}
