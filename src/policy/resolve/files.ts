// The resolver's only window on the file system, so resolution stays pure and testable in memory.
import * as posix from './paths.js';

export type FileKind = 'file' | 'directory';

/** Synchronous, side-effect-free reads. Paths are absolute POSIX paths. */
export interface FileReader {
  /** What is at `path` (symlinks followed), or undefined when nothing is. */
  kind(path: string): FileKind | undefined;
  /** The bytes of a regular file, or undefined when it cannot be read. */
  readFile(path: string): Uint8Array | undefined;
  /** Names of the entries directly in a directory (any order), or undefined when unreadable. */
  listDirectory(path: string): string[] | undefined;
}

/** An in-memory tree: `{ '/etc/apparmor.d/x': 'text' }`; directories are implied by the paths. */
export function memoryFileReader(files: Readonly<Record<string, string | Uint8Array>>): FileReader {
  const contents = new Map<string, Uint8Array>();
  const directories = new Map<string, Set<string>>();
  for (const [path, content] of Object.entries(files)) {
    const normal = posix.normalize(path);
    contents.set(normal, typeof content === 'string' ? new TextEncoder().encode(content) : content);
    let child = normal;
    for (let dir = posix.dirname(normal); ; dir = posix.dirname(dir)) {
      let entries = directories.get(dir);
      if (!entries) { entries = new Set(); directories.set(dir, entries); }
      entries.add(posix.basename(child));
      if (dir === '/' || dir === '.' || dir === posix.dirname(dir)) break;
      child = dir;
    }
  }
  return {
    kind: (path) => (contents.has(posix.normalize(path)) ? 'file' : directories.has(posix.normalize(path)) ? 'directory' : undefined),
    readFile: (path) => contents.get(posix.normalize(path)),
    listDirectory: (path) => {
      const entries = directories.get(posix.normalize(path));
      return entries ? [...entries] : undefined;
    },
  };
}

/**
 * A reader that asks `reader` each question once and then repeats the answer: one run of a command
 * that loads many profiles (`hatter lint` on a directory) looks up the same abstractions, tunables and
 * `.d` directories for every profile. Only for one run: later changes on disk are not seen.
 */
export function snapshotFileReader(reader: FileReader): FileReader {
  const kinds = new Map<string, FileKind | undefined>();
  const contents = new Map<string, Uint8Array | undefined>();
  const listings = new Map<string, string[] | undefined>();
  const kind = (path: string) => {
    if (!kinds.has(path)) kinds.set(path, reader.kind(path));
    return kinds.get(path);
  };
  return {
    kind,
    readFile(path) {
      if (!contents.has(path)) contents.set(path, reader.readFile(path));
      return contents.get(path);
    },
    listDirectory(path) {
      if (!listings.has(path)) listings.set(path, reader.listDirectory(path));
      const names = listings.get(path);
      return names ? [...names] : undefined;
    },
  };
}
