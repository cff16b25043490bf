// The rules of one hat as the backends need them: file rules with variables expanded, network, signal
// and unix rules, each with where it came from.
//
// Interim reader: a small scanner of the policy language (profiles, hats, variables, includes, rules),
// used until the shared parser and resolvePolicy (src/policy/syntax, model, resolve) are available; the
// exported HatRules shape and readHatRules signature stay when it switches to them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { LineIndex, type Diagnostic, type SourceLocation } from '../policy/diagnostic.js';

export interface PolicyFiles {
  read(path: string): { readonly text: string } | { readonly error: string };
  stat(path: string): 'file' | 'directory' | undefined;
  list(path: string): string[] | undefined;
}

export const nodePolicyFiles: PolicyFiles = {
  read(path) {
    try {
      return { text: readFileSync(path, 'latin1') };
    } catch (error) {
      return { error: (error as NodeJS.ErrnoException).code ?? String(error) };
    }
  },
  stat(path) {
    try {
      const st = statSync(path);
      return st.isDirectory() ? 'directory' : st.isFile() ? 'file' : undefined;
    } catch {
      return undefined;
    }
  },
  list(path) {
    try {
      return readdirSync(path).sort();
    } catch {
      return undefined;
    }
  },
};

export interface HatFileRule {
  /** The path pattern with variables expanded (one rule per expansion). */
  readonly pattern: string;
  /** AppArmor permission letters as written, e.g. `r`, `rw`, `ix`, `mr`, `Px`. */
  readonly perms: string;
  readonly deny: boolean;
  readonly owner: boolean;
  readonly source: SourceLocation;
  readonly text: string;
}

export interface HatOtherRule {
  /** network | signal | unix | capability | ptrace | mount | dbus | change_profile | ... */
  readonly kind: string;
  readonly deny: boolean;
  /** The words after the keyword (and qualifiers), e.g. ['inet', 'stream']. */
  readonly words: readonly string[];
  readonly source: SourceLocation;
  readonly text: string;
}

export interface HatRules {
  readonly label: string;
  readonly files: readonly HatFileRule[];
  readonly others: readonly HatOtherRule[];
}

interface Block {
  name: string;
  parent?: Block;
  files: HatFileRule[];
  others: HatOtherRule[];
  children: Map<string, Block>;
  attachment?: string;
}

const MAX_FILES = 5000;
const MAX_DEPTH = 40;
const MAX_EXPANSIONS = 4096;
const PERMS = /^[rwaxmlkiuUpPcCbBDN]+$/;

function unquote(token: string): string {
  return token.startsWith('"') && token.endsWith('"') && token.length >= 2 ? token.slice(1, -1).replace(/\\(.)/g, '$1') : token;
}

/** Split on whitespace outside quotes. */
function words(text: string): string[] {
  return text.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
}

/**
 * Read a policy file (following includes) and return the rules of `profile//hat` (or of the profile
 * itself when hat is null). Never throws: problems are diagnostics.
 */
export function readHatRules(file: string, profile: string, hat: string | null, options: { files?: PolicyFiles; includeDirs?: readonly string[] } = {}): { rules?: HatRules; diagnostics: Diagnostic[] } {
  const fs = options.files ?? nodePolicyFiles;
  const includeDirs = options.includeDirs ?? ['/etc/apparmor.d'];
  const diagnostics: Diagnostic[] = [];
  const variables = new Map<string, string[]>([['PROC', ['/proc']], ['sys', ['/sys']], ['run', ['/run', '/var/run']]]);
  const top = new Map<string, Block>();
  const root: Block = { name: '', files: [], others: [], children: top };
  let current: Block = root;
  const opened: (Block | null)[] = [];
  let filesRead = 0;

  const scanFile = (path: string, text: string, chain: readonly SourceLocation[], active: readonly string[]): void => {
    const index = new LineIndex(text);
    const where = (offset: number): SourceLocation => ({ file: path, ...index.location(offset) });
    const diag = (offset: number, severity: Diagnostic['severity'], code: string, message: string, hint?: string): void => {
      diagnostics.push({ ...where(offset), offset, severity, code, message, ...(hint ? { hint } : {}), ...(chain.length ? { includeChain: chain } : {}) });
    };

    const expand = (pattern: string, offset: number): string[] => {
      let results = [pattern];
      for (let guard = 0; guard < 32; guard++) {
        const next: string[] = [];
        let changed = false;
        for (const value of results) {
          const m = /@\{([A-Za-z_][\w]*)\}/.exec(value);
          if (!m) { next.push(value); continue; }
          changed = true;
          const values = variables.get(m[1]!);
          if (!values) {
            diag(offset, 'error', 'confine/undefined-variable', `variable @{${m[1]}} is not defined`, 'define it in the policy or include <tunables/global>');
            return [];
          }
          for (const v of values) next.push(value.slice(0, m.index) + v + value.slice(m.index + m[0].length));
          if (next.length > MAX_EXPANSIONS) {
            diag(offset, 'error', 'confine/too-many-expansions', `variables in ${pattern} expand to more than ${MAX_EXPANSIONS} paths`);
            return [];
          }
        }
        results = next;
        if (!changed) break;
      }
      return results.map((p) => p.replace(/\/\/+/g, '/'));
    };

    const include = (statement: string, offset: number): void => {
      const m = /^#?include\s+(if\s+exists\s+)?(?:<([^>]*)>|"([^"]*)"|(\S+))\s*$/.exec(statement);
      if (!m) { diag(offset, 'error', 'confine/bad-include', `cannot read include statement: ${statement}`); return; }
      const optional = Boolean(m[1]);
      const target = m[2] ?? m[3] ?? m[4] ?? '';
      const candidates = m[2] !== undefined ? includeDirs.map((d) => posix.join(d, target))
        : target.startsWith('/') ? [target] : [posix.join(posix.dirname(path), target), ...includeDirs.map((d) => posix.join(d, target))];
      const found = candidates.find((c) => fs.stat(c) !== undefined);
      if (!found) {
        if (!optional) diag(offset, 'error', 'confine/include-not-found', `include ${target} not found (looked in ${candidates.join(', ')})`);
        return;
      }
      const list = fs.stat(found) === 'directory'
        ? (fs.list(found) ?? []).filter((n) => !/^\.|~$|\.dpkg-(new|old|dist|bak)$|\.rpm(new|save)$/.test(n)).map((n) => posix.join(found, n)).filter((p) => fs.stat(p) === 'file')
        : [found];
      for (const f of list) {
        if (active.includes(f)) { diag(offset, 'warning', 'confine/include-loop', `include loop: ${f} includes itself`); continue; }
        if (++filesRead > MAX_FILES || active.length >= MAX_DEPTH) { diag(offset, 'error', 'confine/too-many-includes', `more than ${MAX_FILES} included files or includes nested over ${MAX_DEPTH} deep`); return; }
        const r = fs.read(f);
        if ('error' in r) { diag(offset, 'error', 'confine/include-unreadable', `cannot read ${f}: ${r.error}`); continue; }
        scanFile(f, r.text, [...chain, where(offset)], [...active, f]);
      }
    };

    const assignment = (statement: string, offset: number): void => {
      const m = /^@\{([A-Za-z_]\w*)\}\s*(\+?=)\s*(.*)$/s.exec(statement);
      if (!m) { diag(offset, 'error', 'confine/bad-variable', `cannot read variable assignment: ${statement}`); return; }
      // Stored unexpanded: a value may name a variable defined later (tunables/home's @{HOMEDIRS}).
      const values = words(m[3]!).map(unquote);
      if (m[2] === '+=') variables.set(m[1]!, [...(variables.get(m[1]!) ?? []), ...values]);
      else variables.set(m[1]!, values);
    };

    const open = (header: string, offset: number): void => {
      let m: RegExpExecArray | null;
      let name: string | undefined;
      let attachment: string | undefined;
      if ((m = /^(?:hat\s+|\^)("(?:[^"\\]|\\.)*"|[^\s(]+)/.exec(header))) name = unquote(m[1]!);
      else if ((m = /^profile\s+("(?:[^"\\]|\\.)*"|[^\s(]+)(?:\s+("(?:[^"\\]|\\.)*"|[/@][^\s(]*))?/.exec(header))) {
        name = unquote(m[1]!);
        if (m[2] && !m[2].startsWith('flags')) attachment = unquote(m[2]);
      } else if ((m = /^("(?:[^"\\]|\\.)*"|[/@:][^\s(]*)/.exec(header))) {
        name = unquote(m[1]!);
        attachment = name;
      }
      if (name === undefined) {
        // a conditional or other block we do not model: its rules count for the enclosing profile
        opened.push(null);
        if (!/^(if|else)\b/.test(header)) diag(offset, 'warning', 'confine/unknown-block', `block not understood, its rules are read as part of the enclosing profile: ${header}`);
        return;
      }
      const block: Block = { name, parent: current, files: [], others: [], children: new Map(), ...(attachment ? { attachment } : {}) };
      current.children.set(name, block);
      opened.push(current);
      current = block;
    };

    const rule = (statement: string, offset: number): void => {
      const ws = words(statement);
      let deny = false;
      let owner = false;
      let i = 0;
      for (; i < ws.length; i++) {
        const w = ws[i]!;
        if (w === 'deny') deny = true;
        else if (w === 'owner') owner = true;
        else if (w === 'audit' || w === 'allow' || w === 'quiet' || w === 'kill' || w === 'other') continue;
        else break;
      }
      const rest = ws.slice(i);
      if (rest[0] === 'file') rest.shift();
      if (rest.length === 0) {
        if (ws[i - 1] === 'file' || ws.includes('file')) current.others.push({ kind: 'file-all', deny, words: [], source: where(offset), text: statement });
        return;
      }
      let pathToken: string | undefined;
      let perms: string | undefined;
      const first = unquote(rest[0]!);
      if (/^[/@]/.test(first)) { pathToken = first; perms = rest[1]; }
      else if (PERMS.test(rest[0]!) && rest[1] && /^[/@]/.test(unquote(rest[1]))) { perms = rest[0]; pathToken = unquote(rest[1]); }
      if (pathToken !== undefined) {
        if (!perms || !PERMS.test(perms)) { diag(offset, 'error', 'confine/bad-file-rule', `file rule without permissions: ${statement}`); return; }
        for (const pattern of expand(pathToken, offset)) current.files.push({ pattern, perms, deny, owner, source: where(offset), text: statement });
        return;
      }
      current.others.push({ kind: rest[0]!.replace(/[(,].*$/, ''), deny, words: rest.slice(1), source: where(offset), text: statement });
    };

    const statement = (raw: string, offset: number, terminator: string): void => {
      const s = raw.trim();
      if (!s) return;
      if (/^#?include\s/.test(s)) return include(s, offset);
      if (/^@\{[^}]*\}\s*\+?=/.test(s)) return assignment(s, offset);
      if (terminator === '{') return open(s, offset);
      if (/^abi\s/.test(s) || /^alias\s/.test(s) || /^\$\w+\s*=/.test(s)) return;
      if (current === root) {
        diag(offset, 'warning', 'confine/rule-outside-profile', `rule outside any profile is ignored: ${s}`);
        return;
      }
      rule(s, offset);
    };

    const depthAtStart = opened.length;
    let buf = '';
    let bufStart = -1;
    let aareDepth = 0;
    let parenDepth = 0;
    const n = text.length;
    let i = 0;
    const flush = (terminator: string): void => {
      const start = bufStart < 0 ? i : bufStart;
      const s = buf;
      buf = ''; bufStart = -1; aareDepth = 0; parenDepth = 0;
      statement(s, start, terminator);
    };
    while (i < n) {
      const c = text[i]!;
      if (c !== '\n' && /^\s*(#?include\s|@\{[^}]*\}\s*\+?=)/.test(buf)) {
        // include lines and variable assignments end at the newline; commas and braces are theirs
        if (c === '#') { while (i < n && text[i] !== '\n') i++; continue; }
        buf += c;
        i++;
        continue;
      }
      if (c === '"') {
        const start = i;
        i++;
        while (i < n && text[i] !== '"' && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
        i++;
        if (bufStart < 0) bufStart = start;
        buf += text.slice(start, Math.min(i, n));
        continue;
      }
      if (c === '#') {
        if (buf.trim() === '' && /^#include\s/.test(text.slice(i, i + 9))) { bufStart = i; buf = '#'; i++; continue; }
        while (i < n && text[i] !== '\n') i++;
        continue;
      }
      if (c === '\n') {
        const s = buf.trim();
        if (/^#?include\s/.test(s) || /^@\{[^}]*\}\s*\+?=/.test(s) || /^abi\s/.test(s)) { flush('\n'); i++; continue; }
        buf += ' '; i++;
        continue;
      }
      if (c === '(') parenDepth++;
      if (c === ')') parenDepth = Math.max(0, parenDepth - 1);
      if (c === '{') {
        const prev = buf.length ? buf[buf.length - 1]! : ' ';
        if (/\s/.test(prev) && parenDepth === 0 && aareDepth === 0 && buf.trim() !== '') { flush('{'); i++; continue; }
        aareDepth++;
      } else if (c === '}') {
        if (aareDepth > 0) aareDepth--;
        else {
          if (buf.trim()) diag(bufStart < 0 ? i : bufStart, 'error', 'confine/missing-comma', `rule not ended with a comma before '}': ${buf.trim()}`);
          buf = ''; bufStart = -1;
          if (opened.length <= depthAtStart) diag(i, 'error', 'confine/unbalanced-brace', "'}' without a matching '{'");
          else { const back = opened.pop(); if (back) current = back; }
          i++;
          continue;
        }
      } else if (c === ',' && aareDepth === 0 && parenDepth === 0) {
        flush(','); i++;
        continue;
      }
      if (bufStart < 0 && !/\s/.test(c)) bufStart = i;
      buf += c;
      i++;
    }
    if (buf.trim()) flush('\n');
    if (opened.length > depthAtStart) diag(n, 'error', 'confine/unclosed-block', 'block not closed before the end of the file');
  };

  const r = fs.read(file);
  if ('error' in r) return { diagnostics: [{ file, line: 1, col: 1, severity: 'error', code: 'confine/policy-unreadable', message: `cannot read policy ${file}: ${r.error}` }] };
  scanFile(file, r.text, [], [file]);

  let block = top.get(profile) ?? [...top.values()].find((b) => b.attachment === profile);
  const label = hat === null ? profile : `${profile}//${hat}`;
  if (block && hat !== null) block = block.children.get(hat);
  if (!block) {
    const known = [...top.values()].flatMap((b) => [b.name, ...[...b.children.keys()].map((h) => `${b.name}//${h}`)]);
    diagnostics.push({ file, line: 1, col: 1, severity: 'error', code: 'confine/hat-not-found', message: `${label} is not defined in ${file}`, ...(known.length ? { hint: `defined: ${known.slice(0, 12).join(', ')}` } : {}) });
    return { diagnostics };
  }
  return { rules: { label, files: block.files, others: block.others }, diagnostics };
}
