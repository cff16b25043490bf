// Private runtime state: one directory per pool for its sockets and files, under a root only the
// supervisor owns. Code running in one site's worker must not reach another pool's sockets (unlink
// them and listen in their place, and alice's requests would reach bob): each pool's Landlock grants
// name only its own directory, and the directory's owner and mode keep other uids out.
//
//   ROOT   mkdtemp name (unpredictable), owner: the supervisor, 0711 (a pool can reach only its own
//          directory, by name, and cannot list the others)
//   ROOT/pool-XXXXXX   mkdtemp, owner: the pool's uid (root: the supervisor), group: the supervisor's,
//          0700, or 02710 when another uid owns it: the front (the supervisor's group) may pass through
//          to connect to the sockets, which the worker makes group-writable; files made there keep
//          that group (setgid)
import { chmodSync, chownSync, lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class RuntimeDirs {
  private constructor(readonly root: string) {}

  static create(prefix: string, parent = tmpdir()): RuntimeDirs {
    const root = mkdtempSync(join(parent, prefix));
    chmodSync(root, 0o711);
    checkOwnDirectory(root, process.getuid?.());
    return new RuntimeDirs(root);
  }

  /** A new directory for one pool (each generation gets its own), owned by `uid` when given. */
  poolDir(account: { uid?: number; gid?: number }): string {
    const dir = mkdtempSync(join(this.root, 'pool-'));
    // mkdtemp made it (mkdir fails on anything already there): check anyway that it is our directory,
    // not something put in its place, before handing it to another uid.
    checkOwnDirectory(dir, process.getuid?.());
    const supervisorGid = process.getgid?.();
    if (account.uid !== undefined && account.uid !== process.getuid?.() && supervisorGid !== undefined) {
      chownSync(dir, account.uid, supervisorGid);
      chmodSync(dir, 0o2710);
    } else chmodSync(dir, 0o700);
    return dir;
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A real directory (not a symbolic link) owned by `uid`; throws otherwise. */
export function checkOwnDirectory(path: string, uid: number | undefined): void {
  const stat = lstatSync(path);
  if (!stat.isDirectory() || stat.isSymbolicLink()) throw new Error(`${path} is not a directory`);
  if (uid !== undefined && stat.uid !== uid) throw new Error(`${path} is owned by uid ${stat.uid}, not ${uid}`);
}
