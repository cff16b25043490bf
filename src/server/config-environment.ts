// The host as hatter.yaml's checks see it (config.ts ConfigEnvironment): files and directories by
// stat(2), accounts from /etc/passwd and /etc/group, the same databases the supervisor resolves
// `user:`/`group:` from when it starts a pool.
import { readFileSync, statSync } from 'node:fs';
import type { ConfigEnvironment } from './config.js';
import { resolveAccountId } from './confinement-needs.js';

export function hostConfigEnvironment(files = { passwd: '/etc/passwd', group: '/etc/group' }): ConfigEnvironment {
  const text = new Map<string, string>();
  const database = (path: string): string => {
    let cached = text.get(path);
    if (cached === undefined) {
      try { cached = readFileSync(path, 'utf8'); } catch { cached = ''; }
      text.set(path, cached);
    }
    return cached;
  };
  return {
    kindOf(path) {
      try {
        const stat = statSync(path);
        return stat.isDirectory() ? 'directory' : stat.isFile() ? 'file' : 'other';
      } catch {
        return undefined;
      }
    },
    userExists: (name) => resolveAccountId(name, database(files.passwd)) !== undefined,
    groupExists: (name) => resolveAccountId(name, database(files.group)) !== undefined,
  };
}
