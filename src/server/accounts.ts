// Accounts for pools: a site's `user:`/`group:` names (or numbers) to the uid/gid its workers run as,
// read from /etc/passwd and /etc/group. Only root can start workers as another user; otherwise the keys
// are ignored with one warning.
import { readFileSync } from 'node:fs';
import type { Diagnostic } from '../policy/index.js';
import { resolveAccountId, type PoolAccount } from './confinement-needs.js';

export interface PoolAccountIds {
  readonly uid?: number;
  readonly gid?: number;
}

export class AccountResolver {
  private warnedNotRoot = false;

  constructor(
    private readonly report: (diagnostic: Diagnostic) => void,
    private readonly uid: number | undefined = process.getuid?.(),
    private readonly read: (file: string) => string = (file) => { try { return readFileSync(file, 'utf8'); } catch { return ''; } },
  ) {}

  /** The ids for what a pool's sites ask for ({} = nothing asked, or not root); null = the pool must not start. */
  resolve(wanted: PoolAccount | undefined, label: string, source: string): PoolAccountIds | null {
    if (!wanted) return {};
    const at = { file: source, line: 1, col: 1 };
    if (wanted.conflict) {
      this.report({ ...at, severity: 'error', code: 'serve/account-conflict', message: `${wanted.conflict}; not starting that pool` });
      return null;
    }
    if (this.uid !== 0) {
      if (!this.warnedNotRoot) {
        this.warnedNotRoot = true;
        this.report({ ...at, severity: 'warning', code: 'serve/account-needs-root', message: `user:/group: of ${wanted.sites.join(', ')} ignored: the supervisor does not run as root, so every worker runs as uid ${this.uid ?? '?'}` });
      }
      return {};
    }
    let uid: number | undefined;
    let gid: number | undefined;
    if (wanted.user !== undefined) {
      const user = resolveAccountId(wanted.user, this.read('/etc/passwd'));
      if (!user) {
        this.report({ ...at, severity: 'error', code: 'serve/unknown-user', message: `user '${wanted.user}' of ${wanted.sites.join(', ')} is not in /etc/passwd; not starting ${label}` });
        return null;
      }
      uid = user.id;
      gid = user.primaryGid;
    }
    if (wanted.group !== undefined) {
      const group = resolveAccountId(wanted.group, this.read('/etc/group'));
      if (!group) {
        this.report({ ...at, severity: 'error', code: 'serve/unknown-group', message: `group '${wanted.group}' of ${wanted.sites.join(', ')} is not in /etc/group; not starting ${label}` });
        return null;
      }
      gid = group.id;
    }
    return { ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}) };
  }
}
