// Path arithmetic the way the kernel names things: lexical joining, and /proc/<own pid> → /proc/@{pid}.

/** `base` + `path` made absolute with `.`, `..` and repeated slashes removed (`..` of `/` is `/`). */
export function joinPath(base: string, path: string): string {
  const parts: string[] = [];
  for (const part of (path.startsWith('/') ? path : `${base}/${path}`).split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/**
 * A process's own /proc entry as the policy variable: `/proc/<pid>/…` of the process itself (strace's
 * -yy shows /proc/self already resolved) becomes `/proc/@{pid}/…`, so the rule learned holds for every pid.
 */
export function procSelf(path: string, pid: number): string {
  const self = `/proc/${pid}`;
  if (path === self || path.startsWith(`${self}/`)) return `/proc/@{pid}${path.slice(self.length)}`;
  if (path === '/proc/self' || path.startsWith('/proc/self/')) return `/proc/@{pid}${path.slice('/proc/self'.length)}`;
  if (path === '/proc/thread-self' || path.startsWith('/proc/thread-self/')) return `/proc/@{pid}/task/@{tid}${path.slice('/proc/thread-self'.length)}`;
  return path;
}
