// Process entry used by tests and workers that start the compiled CLI directly (same as bin/hatter.js).
import { runMain } from './main.js';
// `hatter logs … | head` closes our stdout early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await runMain(process.argv.slice(2));
