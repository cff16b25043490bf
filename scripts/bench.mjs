// `npm run bench [NAME...]`: compile, then run the benchmark programs in bench/ (all, or the named ones).
// Each benchmark runs hatter and its reference tool in the same run, prints a table and rewrites its own
// section of docs/benchmarks.md.
import { spawnSync } from 'node:child_process';

const tsc = [spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' })]
    // The console page (src/console/ui) is compiled on its own, with the DOM library the server code must not see.
    .concat([spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.ui.json'], { stdio: 'inherit' })]).find((r) => r.status !== 0) ?? { status: 0 };
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
const run = spawnSync(process.execPath, ['dist/bench/run.js', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(run.status ?? 1);
