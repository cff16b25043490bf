// The host's files as hatter sees them: every path is the path on the deployed system; a prefix (a
// scratch copy of the layout) or a pending file plan are views over it. Site planning, listing and
// validation read through this one interface, so tests can hand them an in-memory host.
import { readFileSync, readdirSync, readlinkSync, lstatSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import type { FileReader } from '../policy/index.js';
import type { WebFileSystem } from '../web/index.js';
import type { FilePlan } from './plan.js';

export interface HostFiles {
  /** The text of a regular file (symlinks followed), or undefined. */
  read(path: string): string | undefined;
  kind(path: string): 'file' | 'directory' | undefined;
  /** The target of a symbolic link, or undefined when `path` is not one. */
  link(path: string): string | undefined;
  /** Entry names of a directory, or undefined. */
  list(path: string): string[] | undefined;
}

/** Where a deployed path lives on this machine: under the prefix when there is one. */
export function underPrefix(prefix: string | undefined, path: string): string {
  return prefix === undefined || prefix === '/' ? path : posix.join(prefix, path);
}

/** The real file system, every deployed path read under `prefix`. */
export function prefixedHostFiles(prefix: string | undefined): HostFiles {
  const at = (path: string): string => underPrefix(prefix, path);
  return {
    read(path) {
      try { return statSync(at(path)).isFile() ? readFileSync(at(path), 'utf8') : undefined; } catch { return undefined; }
    },
    kind(path) {
      try { const s = statSync(at(path)); return s.isDirectory() ? 'directory' : s.isFile() ? 'file' : undefined; } catch { return undefined; }
    },
    link(path) {
      try { return lstatSync(at(path)).isSymbolicLink() ? readlinkSync(at(path)) : undefined; } catch { return undefined; }
    },
    list(path) {
      try { return readdirSync(at(path)).sort(); } catch { return undefined; }
    },
  };
}

/** An in-memory host for tests: files by deployed path, symlinks as `{ link: target }`. */
export function memoryHostFiles(entries: Readonly<Record<string, string | { readonly link: string }>>): HostFiles {
  return overlayHostFiles({ read: () => undefined, kind: () => undefined, link: () => undefined, list: () => undefined },
    Object.entries(entries).map(([path, e]) => (typeof e === 'string' ? { path, action: 'write', content: e } : { path, action: 'symlink', target: e.link })));
}

/** The host as it will be after the plan is carried out (for validating before anything is written). */
export function overlayHostFiles(base: HostFiles, plan: readonly FilePlan[]): HostFiles {
  const files = new Map<string, string | null>(); // null: deleted
  const links = new Map<string, string | null>();
  const dirs = new Set<string>();
  const addParents = (path: string): void => {
    for (let d = posix.dirname(path); d !== '/' && !dirs.has(d); d = posix.dirname(d)) dirs.add(d);
  };
  for (const p of plan) {
    if (p.action === 'write') { files.set(p.path, p.content); links.set(p.path, null); addParents(p.path); }
    else if (p.action === 'symlink') { links.set(p.path, p.target); files.delete(p.path); addParents(p.path); }
    else if (p.action === 'mkdir') { dirs.add(p.path); addParents(p.path); }
    else if (p.action === 'delete') { files.set(p.path, null); links.set(p.path, null); }
  }
  const resolveLink = (path: string): string => {
    const target = links.get(path);
    return typeof target === 'string' ? posix.resolve(posix.dirname(path), target) : path;
  };
  const view: HostFiles = {
    read(path) {
      const real = resolveLink(path);
      if (files.has(real)) return files.get(real) ?? undefined;
      if (links.get(path) === null && files.get(path) === null) return undefined;
      return base.read(real);
    },
    kind(path) {
      const real = resolveLink(path);
      if (typeof files.get(real) === 'string') return 'file';
      if (files.get(real) === null) return undefined;
      if (dirs.has(real)) return base.kind(real) ?? 'directory';
      return base.kind(real);
    },
    link(path) {
      if (links.has(path)) return links.get(path) ?? undefined;
      return base.link(path);
    },
    list(path) {
      const names = new Set(base.list(path) ?? []);
      const add = (p: string, present: boolean): void => {
        if (posix.dirname(p) !== path) return;
        if (present) names.add(posix.basename(p)); else names.delete(posix.basename(p));
      };
      for (const [p, text] of files) add(p, text !== null || typeof links.get(p) === 'string');
      for (const [p, target] of links) if (typeof target === 'string') add(p, true);
      for (const d of dirs) add(d, true);
      if (names.size === 0 && base.list(path) === undefined && !dirs.has(path)) return undefined;
      return [...names].sort();
    },
  };
  return view;
}

/** The same view for the policy loader. */
export function hostFileReader(host: HostFiles): FileReader {
  const encoder = new TextEncoder();
  return {
    kind: (path) => host.kind(path),
    readFile: (path) => { const text = host.read(path); return text === undefined ? undefined : encoder.encode(text); },
    listDirectory: (path) => host.list(path),
  };
}

/** The same view for the Apache and PHP-FPM readers. */
export function hostWebFileSystem(host: HostFiles): WebFileSystem {
  return {
    read(path) {
      const text = host.read(path);
      if (text !== undefined) return { text };
      return { error: host.kind(path) === 'directory' ? 'is a directory' : 'no such file' };
    },
    stat: (path) => host.kind(path),
    list: (path) => host.list(path),
  };
}
