// The real file system behind WebFileSystem (the CLI's edge).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { decodeSource } from '../policy/index.js';
import type { WebFileSystem } from './file-system.js';

export function nodeFileSystem(): WebFileSystem {
  return {
    read(path) {
      try {
        // Only regular files: a device or FIFO would be read forever or block.
        const s = statSync(path);
        if (s.isDirectory()) return { error: 'is a directory' };
        if (!s.isFile()) return { error: 'not a regular file' };
        return { text: decodeSource(readFileSync(path)).text };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (code ?? String(error));
        return { error: why };
      }
    },
    stat(path) {
      try {
        const s = statSync(path);
        return s.isDirectory() ? 'directory' : 'file';
      } catch {
        return undefined;
      }
    },
    list(path) {
      try {
        return readdirSync(path).sort();
      } catch {
        return undefined;
      }
    },
  };
}
