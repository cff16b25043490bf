// The logs reader's edge: reading files (following them, summarizing them on every core). The pure
// reader and summarizer are in src/logs; this folder gives them bytes from the file system.
export { cutPoints, summarizeFileInParts } from './parallel.js';
export type { FileSummary, ProgressCallback } from './parallel.js';
export { followFile } from './follow.js';
export type { FollowOptions } from './follow.js';
// The library's `logs` namespace is the pure reader plus this edge, so both come from here.
export * from '../logs/index.js';
