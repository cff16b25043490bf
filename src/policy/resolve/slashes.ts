// Slash filtering (policy-language.md §8): applied to path-like patterns after variable expansion.

/**
 * Collapse runs of `/` to one, except that a pattern starting with exactly `//` followed by something
 * other than `/` keeps its leading `//`. Trailing slashes are kept. Escaped characters are left alone.
 */
export function filterSlashes(pattern: string): string {
  let start = 0;
  let out = '';
  if (pattern.startsWith('//') && pattern.length > 2 && pattern[2] !== '/') {
    out = '//';
    start = 2;
  }
  for (let i = start; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) {
      out += ch + pattern[i + 1];
      i++;
      continue;
    }
    if (ch === '/' && out.endsWith('/') && !out.endsWith('\\/')) continue;
    out += ch;
  }
  return out;
}
