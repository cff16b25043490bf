// File-rule patterns of the shared AppArmor profile corpus, with variables expanded, for the AARE
// differential test and benchmark. A deliberately simple line scan (not the policy parser): it only
// needs realistic patterns, and feeds the same expanded text to hatter and to apparmor_parser.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) out.push(...filesUnder(path));
    else if (stat.isFile()) out.push(path);
  }
  return out;
}

function splitValues(text: string): string[] {
  const values: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) values.push(m[1] ?? m[2]!);
  return values;
}

function stripComment(line: string): string {
  // A '#' starts a comment unless it is `#include`; patterns with '#' are rare enough to lose.
  const hash = line.indexOf('#');
  if (hash < 0 || /^\s*#include/.test(line)) return line;
  return line.slice(0, hash);
}

const RULE = /^\s*(?:(?:audit|deny|allow|owner|file)\s+)*("(?:[^"\\]|\\.)*"|[/@][^\s,]*)\s+([rwaklmixPpCcUuD]+)\s*(?:->\s*\S+\s*)?,\s*$/;

/**
 * Every distinct file-rule pattern in the corpus, variables expanded (multi-valued as `{a,b}`;
 * unknown ones as `unknown`). Returned in a stable order.
 */
export function corpusFilePatterns(profilesDir: string): string[] {
  const files = filesUnder(profilesDir);
  const variables = new Map<string, string[]>();
  const texts = files.map((file) => {
    try { return readFileSync(file, 'utf8'); } catch { return ''; }
  });
  for (const text of texts) {
    for (const raw of text.split('\n')) {
      const m = /^\s*@\{(\w+)\}\s*(\+?=)\s*(.*)$/.exec(stripComment(raw));
      if (!m) continue;
      const values = splitValues(m[3]!);
      if (m[2] === '+=') variables.set(m[1]!, [...(variables.get(m[1]!) ?? []), ...values]);
      else if (!variables.has(m[1]!)) variables.set(m[1]!, values);
    }
  }
  const expand = (text: string, depth: number): string => text.replace(/@\{(\w+)\}/g, (_, name: string) => {
    const values = variables.get(name);
    if (!values || values.length === 0 || depth > 8) return name === 'profile_name' ? 'profile' : 'unknown';
    const expanded = [...new Set(values.map((v) => expand(v, depth + 1)))];
    return expanded.length === 1 ? expanded[0]! : `{${expanded.join(',')}}`;
  });
  const patterns = new Set<string>();
  for (const text of texts) {
    for (const raw of text.split('\n')) {
      const m = RULE.exec(stripComment(raw));
      if (!m) continue;
      let pattern = m[1]!;
      if (pattern.startsWith('"')) pattern = pattern.slice(1, -1);
      pattern = expand(pattern, 0);
      if (!pattern.startsWith('/') || pattern.includes('@{')) continue;
      patterns.add(pattern);
    }
  }
  return [...patterns];
}
