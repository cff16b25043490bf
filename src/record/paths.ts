// Path arithmetic the way the kernel names things: lexical joining, and /proc/self → /proc/<pid>.

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
 * A process's own /proc entry under its real pid, as the kernel names it in an audit event:
 * `/proc/self/…` (the host's /proc/self would be hatter's) becomes `/proc/<pid>/…`, and `/proc/thread-self/…`
 * `/proc/<pid>/task/<pid>/…` (strace -f's pid is the thread's id). `hatter learn` turns the acting
 * process's own pid into `@{pid}`; emitting the variable here would make learn escape it as a literal.
 */
export function procSelf(path: string, pid: number): string {
  if (path === '/proc/self' || path.startsWith('/proc/self/')) return `/proc/${pid}${path.slice('/proc/self'.length)}`;
  if (path === '/proc/thread-self' || path.startsWith('/proc/thread-self/')) return `/proc/${pid}/task/${pid}${path.slice('/proc/thread-self'.length)}`;
  return path;
}
