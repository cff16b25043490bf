// The live oracle for AARE: apparmor_parser's own translation of each pattern into its regex dialect
// (`-QT --dump=rule-exprs`), turned into a reference matcher (a JS RegExp over byte strings).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type DumpResult = { readonly regex: string } | { readonly error: string };

/** A file rule for the pattern (path semantics, slash filtering). */
export const fileRule = (pattern: string) => `"${pattern}" r,`;
/** A dbus rule with the pattern as its member: a non-path field (no slash filtering). */
export const dbusMemberRule = (pattern: string) => `dbus send member="${pattern}",`;

/**
 * Dump the regex of each pattern; one profile per pattern, one process per batch (bisected on errors).
 * `extraArgs` (e.g. `-M features`) are passed to apparmor_parser.
 */
export function dumpRuleExprs(parser: string, patterns: readonly string[], rule: (pattern: string) => string = fileRule, extraArgs: readonly string[] = []): DumpResult[] {
  const results: DumpResult[] = new Array(patterns.length);
  const dir = mkdtempSync(join(tmpdir(), 'hatter-aare-'));
  try {
    const runBatch = (indexes: number[]): void => {
      if (indexes.length === 0) return;
      const file = join(dir, 'batch.profile');
      const text = indexes.map((i) => `profile p${i} {\n  ${rule(patterns[i]!)}\n}\n`).join('');
      writeFileSync(file, Buffer.from(text, 'utf8'));
      const run = spawnSync(parser, ['-QT', '--dump=rule-exprs', ...extraArgs, file], { maxBuffer: 1 << 28 });
      const stderr = run.stderr.toString('latin1');
      if (run.status !== 0) {
        if (indexes.length === 1) {
          const message = stderr.split('\n').filter((l) => l && !l.startsWith('aare:') && !l.includes('Cache read/write')).join(' ').trim();
          results[indexes[0]!] = { error: message || `exit ${run.status}` };
          return;
        }
        const half = indexes.length >> 1;
        runBatch(indexes.slice(0, half));
        runBatch(indexes.slice(half));
        return;
      }
      let current = -1;
      for (const line of stderr.split('\n')) {
        if (!line.startsWith('aare: ')) continue;
        const arrow = line.indexOf('   ->   ');
        if (arrow < 0) continue;
        const left = line.slice(6, arrow);
        const profile = /^p(\d+)$/.exec(left);
        if (profile) { current = Number(profile[1]); continue; }
        if (current >= 0 && results[current] === undefined) results[current] = { regex: line.slice(arrow + 8) };
      }
      for (const i of indexes) results[i] ??= { error: 'no rule expression in the dump' };
    };
    for (let start = 0; start < patterns.length; start += 1500) {
      runBatch([...Array(Math.min(1500, patterns.length - start)).keys()].map((i) => start + i));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

const hex = (byte: number) => `\\x${byte.toString(16).padStart(2, '0')}`;

/**
 * apparmor_parser's regex dialect (libapparmor_re) as a JS RegExp over latin1 strings (one char per
 * byte): literals, `\` escapes (`\xHH`, octal, `\dNNN`, `\a\e\f\n\r\t`, else the char itself),
 * `[...]`/`[^...]` over all 256 bytes, `( | )` groups, and the `*` and `+` quantifiers (`?` is literal).
 */
export function apparmorRegexToJs(regex: string): RegExp {
  let i = 0;
  const escape = (): number => {
    const c = regex[i]!;
    if (c === 'x' && /[0-9a-fA-F]/.test(regex[i + 1] ?? '')) {
      let j = i + 1;
      let v = 0;
      while (j < i + 3 && /[0-9a-fA-F]/.test(regex[j] ?? '')) v = v * 16 + parseInt(regex[j++]!, 16);
      i = j;
      return v;
    }
    if (c === 'd' && /[0-9]/.test(regex[i + 1] ?? '')) {
      let j = i + 1;
      let v = 0;
      while (j < i + 4 && /[0-9]/.test(regex[j] ?? '')) v = v * 10 + Number(regex[j++]);
      i = j;
      return v & 255;
    }
    if (/[0-7]/.test(c)) {
      let j = i;
      let v = 0;
      while (j < i + 3 && /[0-7]/.test(regex[j] ?? '')) v = v * 8 + Number(regex[j++]);
      i = j;
      return v & 255;
    }
    i++;
    const simple: Record<string, number> = { a: 7, e: 27, f: 12, n: 10, r: 13, t: 9 };
    return simple[c] ?? c.charCodeAt(0);
  };
  let out = '';
  while (i < regex.length) {
    const c = regex[i]!;
    if (c === '\\') { i++; out += hex(escape()); continue; }
    if (c === '(') { out += '(?:'; i++; continue; }
    // `?` is not an operator in this dialect (its grammar has only `*` and `+`): a literal.
    if (c === ')' || c === '|' || c === '*' || c === '+') { out += c; i++; continue; }
    if (c === '.') { out += '[\\x00-\\xff]'; i++; continue; }
    if (c === '[') {
      i++;
      let negated = false;
      if (regex[i] === '^') { negated = true; i++; }
      const members = new Uint8Array(256);
      let first = true;
      while (i < regex.length && (regex[i] !== ']' || first)) {
        first = false;
        let lo: number;
        if (regex[i] === '\\') { i++; lo = escape(); } else lo = regex.charCodeAt(i++);
        let hi = lo;
        if (regex[i] === '-' && regex[i + 1] !== ']' && i + 1 < regex.length) {
          i++;
          if (regex[i] === '\\') { i++; hi = escape(); } else hi = regex.charCodeAt(i++);
        }
        for (let b = Math.min(lo, hi); b <= Math.max(lo, hi); b++) members[b] = 1;
      }
      i++;
      let set = '';
      for (let b = 0; b < 256; b++) if (members[b] !== (negated ? 1 : 0)) set += hex(b);
      out += set ? `[${set}]` : '[^\\x00-\\xff]';
      continue;
    }
    out += hex(regex.charCodeAt(i++) & 255);
  }
  return new RegExp(`^(?:${out})$`);
}

/** A subject string as the latin1 byte string the reference RegExp works on. */
export function byteString(subject: string | Uint8Array): string {
  return Buffer.from(typeof subject === 'string' ? Buffer.from(subject, 'utf8') : subject).toString('latin1');
}
