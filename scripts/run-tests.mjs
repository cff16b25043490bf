// `npm test`: type-check and compile, then run every compiled test file with node's test runner.
//   node scripts/run-tests.mjs                 all suites except the real-kernel one (test/kernel)
//   node scripts/run-tests.mjs --only kernel   only test/kernel   (npm run test:kernel)
//   node scripts/run-tests.mjs --only escape   only test/escape   (npm run test:escape)
//   node scripts/run-tests.mjs test/policy     only the tests below these source folders
//   --no-build                                 reuse dist/ as it is
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
let only;
let build = true;
const roots = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--only') only = args[++i];
  else if (args[i] === '--no-build') build = false;
  else roots.push(args[i].replace(/^(dist\/)?/, 'dist/').replace(/\/$/, ''));
}

if (build) {
  const tsc = [spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' })]
    // The console page (src/console/ui) is compiled on its own, with the DOM library the server code must not see.
    .concat([spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.ui.json'], { stdio: 'inherit' })]).find((r) => r.status !== 0) ?? { status: 0 };
  if (tsc.status !== 0) {
    process.stderr.write('run-tests: TypeScript compilation failed\n');
    process.exit(tsc.status ?? 1);
  }
}

function collect(dir, out) {
  let entries;
  // A single test file given on the command line runs alone.
  if (dir.endsWith('.test.js') && existsSync(dir) && statSync(dir).isFile()) return out.push(dir), out;
  if (dir.endsWith('.test.ts')) return collect(dir.replace(/\.ts$/, '.js'), out);
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const searchRoots = only ? [`dist/test/${only}`] : roots.length ? roots : ['dist/test'];
const files = searchRoots.flatMap((root) => collect(root, []))
  .filter((file) => only === 'kernel' || !file.startsWith('dist/test/kernel/'));
if (files.length === 0) {
  process.stderr.write(`run-tests: no test files under ${searchRoots.join(', ')}\n`);
  process.exit(1);
}
// The commands' compile cache goes to a directory of this run's own, never the user's (docs/cache.md).
const cacheDir = process.env.HATTER_CACHE_DIR ? undefined : mkdtempSync(join(tmpdir(), 'hatter-test-cache-'));
const env = cacheDir ? { ...process.env, HATTER_CACHE_DIR: cacheDir } : process.env;
// Kernel boots are single-CPU qemu guests: two at a time keep both cores busy and halve the suite's wall time.
const concurrency = only === 'kernel' ? ['--test-concurrency=2'] : [];
const run = spawnSync(process.execPath, ['--test', ...concurrency, ...files], { stdio: 'inherit', env });
if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
process.exit(run.status ?? 1);
