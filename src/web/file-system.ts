// The only I/O edge of web/: readers take this interface, so they stay pure and testable in memory.
import { posix } from 'node:path';

export type EntryKind = 'file' | 'directory';

export interface WebFileSystem {
  /** The file's text, or why it could not be read. */
  read(path: string): { readonly text: string } | { readonly error: string };
  stat(path: string): EntryKind | undefined;
  /** Entry names (not paths) of a directory, or undefined when it cannot be listed. */
  list(path: string): string[] | undefined;
}

/** An in-memory file system: keys are absolute paths, directories are implied by their files. */
export function memoryFileSystem(files: Readonly<Record<string, string>>, options: { unreadable?: readonly string[] } = {}): WebFileSystem {
  const unreadable = new Set(options.unreadable ?? []);
  const dirs = new Map<string, Set<string>>();
  for (const path of Object.keys(files)) {
    let child = posix.normalize(path);
    for (let dir = posix.dirname(child); ; dir = posix.dirname(dir)) {
      if (!dirs.has(dir)) dirs.set(dir, new Set());
      dirs.get(dir)!.add(posix.basename(child));
      child = dir;
      if (dir === '/' || dir === '.') break;
    }
  }
  return {
    read(path) {
      const p = posix.normalize(path);
      if (unreadable.has(p)) return { error: 'permission denied' };
      const text = files[p];
      if (text !== undefined) return { text };
      return { error: dirs.has(p) ? 'is a directory' : 'no such file' };
    },
    stat(path) {
      const p = posix.normalize(path);
      if (files[p] !== undefined || unreadable.has(p)) return 'file';
      return dirs.has(p) ? 'directory' : undefined;
    },
    list(path) {
      const entries = dirs.get(posix.normalize(path));
      return entries ? [...entries].sort() : undefined;
    },
  };
}

/**
 * Shell-style glob match of one path component (`*`, `?`, `[...]`), as fnmatch without FNM_PERIOD
 * (Apache's Include) or with it (`dotfiles: false`).
 */
export function globComponentToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) { re += '\\['; continue; }
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) {
      re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

export function hasGlob(s: string): boolean {
  return /[*?[]/.test(s);
}

/**
 * Expand a glob path (wildcards in any component) to existing paths, sorted per directory as Apache and
 * PHP's glob() do. Dotfiles match only when the pattern component starts with a dot.
 */
export function expandGlob(fs: WebFileSystem, pattern: string, limit = 10_000): string[] {
  const absolute = pattern.startsWith('/');
  const parts = pattern.split('/').filter((p) => p !== '');
  let current = [absolute ? '/' : '.'];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const next: string[] = [];
    for (const base of current) {
      if (!hasGlob(part)) {
        const p = posix.join(base, part);
        if (i < parts.length - 1 ? fs.stat(p) === 'directory' : fs.stat(p) !== undefined) next.push(p);
        continue;
      }
      const re = globComponentToRegExp(part);
      for (const name of fs.list(base) ?? []) {
        if (name.startsWith('.') && !part.startsWith('.')) continue;
        if (!re.test(name)) continue;
        const p = posix.join(base, name);
        if (i < parts.length - 1 && fs.stat(p) !== 'directory') continue;
        next.push(p);
        if (next.length > limit) break;
      }
    }
    current = next;
    if (current.length === 0) break;
  }
  return current;
}
