// Process entry used by tests and workers that start the compiled CLI directly (same as bin/hatter.js).
import { runMain } from './main.js';

process.exitCode = await runMain(process.argv.slice(2));
