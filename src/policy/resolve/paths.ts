// POSIX path arithmetic for the resolver, without node:path: the policy core stays free of Node so it
// runs anywhere a FileReader can be given (a browser console, a worker). Same answers as node's
// path.posix for the paths policies use (test/policy/resolve/paths.test.ts compares them).

/** Collapse `.`, `..` and repeated slashes; '' becomes '.'; a trailing slash is kept. */
export function normalize(path: string): string {
  if (path === '') return '.';
  const absolute = path.startsWith('/');
  const trailing = path.endsWith('/');
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
      continue;
    }
    out.push(part);
  }
  let result = out.join('/');
  if (absolute) result = `/${result}`;
  else if (result === '') result = '.';
  if (trailing && result !== '/') result += '/';
  return result;
}

export function join(...parts: string[]): string {
  const joined = parts.filter((p) => p !== '').join('/');
  return joined === '' ? '.' : normalize(joined);
}

/** Like path.posix.resolve, with `/` (not the process's directory) as the base of last resort. */
export function resolve(...parts: string[]): string {
  let path = '';
  for (let i = parts.length - 1; i >= 0 && !path.startsWith('/'); i--) {
    const part = parts[i]!;
    if (part === '') continue;
    path = path === '' ? part : `${part}/${path}`;
  }
  const normal = normalize(`/${path}`);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** Everything before the last segment, exactly as path.posix.dirname (`//a` → `//`, `/a//b` → `/a/`). */
export function dirname(path: string): string {
  if (path === '') return '.';
  const hasRoot = path.startsWith('/');
  let end = -1;
  let inSegment = false;
  for (let i = path.length - 1; i >= 1; i--) {
    if (path[i] === '/') {
      if (inSegment) { end = i; break; }
    } else {
      inSegment = true;
    }
  }
  if (end === -1) return hasRoot ? '/' : '.';
  if (hasRoot && end === 1) return '//';
  return path.slice(0, end);
}

export function basename(path: string): string {
  let end = path.length;
  while (end > 0 && path[end - 1] === '/') end--;
  return path.slice(path.lastIndexOf('/', end - 1) + 1, end);
}

/** The path from `from` to `to`, both taken as absolute (see resolve). */
export function relative(from: string, to: string): string {
  const a = resolve(from).split('/').filter(Boolean);
  const b = resolve(to).split('/').filter(Boolean);
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  return [...a.slice(common).map(() => '..'), ...b.slice(common)].join('/');
}
