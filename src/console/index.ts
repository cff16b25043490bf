// Public surface of src/console: the console's HTTP handler and listener, its access checks, and the
// services contract the CLI edge implements (src/cli/console.ts runs the commands behind them).
export { createConsoleHandler, startConsoleListener } from './server.js';
export { isLoopbackHost } from './security.js';
export type { ChangeOutcome, ConsoleAnswer, ConsoleServices, ConsoleTopic } from './services.js';
