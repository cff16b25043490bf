// The policy toolkit reads files through a FileReader (so the core stays pure and tests can give it a
// virtual tree); this is the one that reads the real file system, for the CLI, the confinement backends,
// benchmarks and tests. It is the shell's: the resolver itself never imports it.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import type { FileReader } from './files.js';

/** Reads the real file system, following symlinks. */
export function nodeFileReader(): FileReader {
  return {
    kind(path) {
      try {
        const stat = statSync(path);
        return stat.isDirectory() ? 'directory' : stat.isFile() ? 'file' : undefined;
      } catch {
        return undefined;
      }
    },
    readFile(path) {
      // Only regular files: a device or FIFO (include "/dev/zero") would be read forever or block.
      try { return statSync(path).isFile() ? readFileSync(path) : undefined; } catch { return undefined; }
    },
    listDirectory(path) {
      try { return readdirSync(path); } catch { return undefined; }
    },
  };
}
