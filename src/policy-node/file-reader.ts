// The FileReader that reads the real file system, for the CLI, the server, the confinement backends,
// benchmarks and tests. It lives outside src/policy so the policy core imports no node: module; it
// depends only on policy's FileReader interface.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import type { FileReader } from '../policy/index.js';

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
