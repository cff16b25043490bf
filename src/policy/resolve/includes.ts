// Where an `include` points (policy-language.md §2.2): magic `<x>` searches the include path,
// quoted and bare forms are absolute or relative to the working directory; directories expand to
// their regular files in alphasort order minus the skip list.
import * as posix from './paths.js';
import type { FileReader } from './files.js';

export type IncludeForm = 'magic' | 'quoted' | 'bare';

export interface IncludeTarget {
  /** Absolute path of a file to read. */
  readonly path: string;
}

export type IncludeLookup =
  | { readonly found: true; readonly files: readonly string[]; readonly ignored: readonly string[] }
  | { readonly found: false; readonly tried: readonly string[] };

/** Suffixes skipped silently in directory includes. */
const SILENT_SUFFIXES = ['.dpkg-new', '.dpkg-old', '.dpkg-dist', '.dpkg-bak', '.dpkg-remove', '.pacsave', '.pacnew'];
/** Suffixes skipped with an "Ignoring" note. */
const NOTED_SUFFIXES = ['.rpmnew', '.rpmsave', '.orig', '.rej', '~'];

/** Whether a directory entry is skipped: 'silent', 'noted', or false when it is read. */
export function skippedEntry(name: string): 'silent' | 'noted' | false {
  if (name === '' || name.startsWith('.') || name === 'README') return 'silent';
  if (SILENT_SUFFIXES.some((s) => name.endsWith(s))) return 'silent';
  if (NOTED_SUFFIXES.some((s) => name.endsWith(s))) return 'noted';
  return false;
}

const ENCODER = new TextEncoder();

/** Byte-order comparison, as alphasort does in the C locale. */
export function alphasortCompare(a: string, b: string): number {
  const x = ENCODER.encode(a);
  const y = ENCODER.encode(b);
  for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** Find the files an include names. */
export function lookupInclude(name: string, form: IncludeForm, searchPaths: readonly string[], workingDirectory: string, reader: FileReader): IncludeLookup {
  const candidates = form === 'magic' && !name.startsWith('/')
    ? searchPaths.map((dir) => posix.resolve(workingDirectory, dir, name))
    : [posix.resolve(workingDirectory, name)];
  for (const candidate of candidates) {
    const kind = reader.kind(candidate);
    if (kind === 'file') return { found: true, files: [candidate], ignored: [] };
    if (kind === 'directory') {
      const entries = (reader.listDirectory(candidate) ?? []).slice().sort(alphasortCompare);
      const files: string[] = [];
      const ignored: string[] = [];
      for (const entry of entries) {
        const skip = skippedEntry(entry);
        const path = posix.join(candidate, entry);
        if (skip === 'noted') ignored.push(path);
        if (skip) continue;
        if (reader.kind(path) === 'file') files.push(path);
      }
      return { found: true, files, ignored };
    }
  }
  return { found: false, tried: candidates };
}
