// ProfileTree[] from an AppArmor policy file: only what change_hat needs (profile and hat names, nesting,
// mode flags), following includes so that `include if exists <apache2.d>` contributes its hats.
//
import { posix } from 'node:path';
import { LineIndex, type Diagnostic, type SourceLocation } from '../policy/diagnostic.js';
import { resolvePolicy, type FileReader, type ResolvedChangeProfileRule, type ResolvedPolicy, type ResolvedProfile, type ResolveResult } from '../policy/index.js';
import type { WebFileSystem } from './file-system.js';
import type { ProfileMode, ProfileTree } from './hat-resolver.js';

export interface PolicyTreeOptions {
  readonly fs: WebFileSystem;
  /** Where `include <x>` looks; default /etc/apparmor.d. */
  readonly includeDirs?: readonly string[];
}

export interface PolicyTrees {
  readonly trees: readonly ProfileTree[];
  readonly diagnostics: readonly Diagnostic[];
}

const MODES: readonly ProfileMode[] = ['enforce', 'complain', 'kill', 'unconfined', 'default_allow', 'prompt'];
const MAX_INCLUDED_FILES = 5000;
const MAX_INCLUDE_DEPTH = 40;

interface MutableTree {
  name: string;
  baseName: string;
  isHat: boolean;
  mode: ProfileMode;
  explicitMode: boolean;
  /** The executable path the profile attaches to, when it has one. */
  attachment?: string;
  changeProfileRules: string[];
  children: MutableTree[];
}

/** Profiles with their attachment, for choosing Apache's profile. */
export interface ProfileTreeWithAttachment extends ProfileTree {
  readonly attachment?: string;
  /** Targets of the profile's own `change_profile` rules (exec-conditional ones included), as written. */
  readonly changeProfileRules: readonly string[];
  readonly children: readonly ProfileTreeWithAttachment[];
}

type Frame = { kind: 'profile'; tree: MutableTree } | { kind: 'transparent' };

/**
 * Read a policy file (and what it includes) into profile trees, through the shared policy resolver
 * (includes, variables, conditionals as apparmor_parser does). Never throws.
 */
export function profileTreesFromPolicy(file: string, options: PolicyTreeOptions): { trees: ProfileTreeWithAttachment[]; diagnostics: Diagnostic[] } {
  const reader: FileReader = {
    kind: (path) => options.fs.stat(path),
    readFile: (path) => {
      const r = options.fs.read(path);
      return 'text' in r ? Buffer.from(r.text, 'utf8') : undefined;
    },
    listDirectory: (path) => options.fs.list(path),
  };
  let result: ResolveResult;
  try {
    result = resolvePolicy(file, { reader, workingDirectory: posix.dirname(posix.resolve('/', file)), includePaths: options.includeDirs ?? ['/etc/apparmor.d'] });
  } catch {
    // The resolver is young; never let it take which-hat down. The scanner reads names and hats only.
    return scanProfileTrees(file, options);
  }
  const diagnostics = [...result.diagnostics];
  if (result.unreadable) {
    return { trees: [], diagnostics: [{ file, line: 1, col: 1, severity: 'error', code: 'web/policy-unreadable', message: `cannot read ${file}: ${describeRead(options.fs, file)}` }] };
  }
  return { trees: profileTreesFromResolved(result.policy), diagnostics };
}

/** ProfileTrees from a policy already resolved with `resolvePolicy` (for callers that hold one). */
export function profileTreesFromResolved(policy: ResolvedPolicy): ProfileTreeWithAttachment[] {
  return policy.profiles.map(fromResolved);
}

function describeRead(fs: WebFileSystem, file: string): string {
  const r = fs.read(file);
  return 'error' in r ? r.error : 'unreadable';
}

function fromResolved(p: ResolvedProfile): ProfileTreeWithAttachment {
  const rules = p.rules
    .filter((r): r is ResolvedChangeProfileRule => r.class === 'change_profile' && r.prefix.decision === 'allow')
    .map((r) => r.target);
  return Object.freeze({
    name: p.name,
    baseName: p.localName,
    isHat: p.kind === 'hat',
    mode: p.mode,
    ...(p.attachment !== undefined ? { attachment: p.attachment } : {}),
    changeProfileRules: Object.freeze(rules),
    children: Object.freeze(p.children.map(fromResolved)),
  });
}

/**
 * A small private scanner for profile and hat names, nesting, mode flags and change_profile targets:
 * the fallback when the resolver fails. Hats do not inherit their parent's mode (apparmor_parser 3.0.8
 * compiles an unflagged hat under a complain-mode parent exactly like an enforce-mode one).
 */
export function scanProfileTrees(file: string, options: PolicyTreeOptions): { trees: ProfileTreeWithAttachment[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const top: MutableTree[] = [];
  const stack: Frame[] = [];
  let included = 0;
  const includeDirs = options.includeDirs ?? ['/etc/apparmor.d'];

  const currentProfile = (): MutableTree | undefined => {
    for (let i = stack.length - 1; i >= 0; i--) {
      const f = stack[i]!;
      if (f.kind === 'profile') return f.tree;
    }
    return undefined;
  };

  const scanFile = (path: string, text: string, chain: readonly SourceLocation[], active: readonly string[]): void => {
    const index = new LineIndex(text);
    const where = (offset: number): SourceLocation => ({ file: path, ...index.location(offset) });
    const diag = (offset: number, severity: 'error' | 'warning', code: string, message: string): void => {
      diagnostics.push({ ...where(offset), offset, severity, code, message, ...(chain.length ? { includeChain: chain } : {}) });
    };
    const depthAtStart = stack.length;
    let buf = '';
    let bufStart = -1;
    let aareDepth = 0;
    let parenDepth = 0;
    const flush = (): string => {
      const s = buf.trim();
      buf = '';
      bufStart = -1;
      aareDepth = 0;
      parenDepth = 0;
      return s;
    };
    const statement = (s: string, offset: number): void => {
      const cp = /^(?:audit\s+|allow\s+)*change_profile\b(.*)$/s.exec(s);
      if (cp) {
        const owner = currentProfile();
        const arrow = cp[1]!.indexOf('->');
        if (owner) owner.changeProfileRules.push(arrow >= 0 ? unquote(cp[1]!.slice(arrow + 2).trim()) : '**');
        return;
      }
      const m = /^#?include\s+(if\s+exists\s+)?(?:<([^>]*)>|"([^"]*)"|(\S+))\s*$/.exec(s);
      if (!m) return;
      const optional = Boolean(m[1]);
      const target = m[2] ?? m[3] ?? m[4] ?? '';
      const candidates = m[2] !== undefined ? includeDirs.map((d) => posix.join(d, target))
        : target.startsWith('/') ? [target] : [posix.join(posix.dirname(path), target), ...includeDirs.map((d) => posix.join(d, target))];
      const found = candidates.find((c) => options.fs.stat(c) !== undefined);
      if (!found) {
        if (!optional) diag(offset, 'warning', 'web/policy-include-not-found', `include '${target}' not found (looked in ${candidates.join(', ')})`);
        return;
      }
      const via = [...chain, where(offset)];
      const files = options.fs.stat(found) === 'directory'
        ? (options.fs.list(found) ?? []).filter((n) => !/^\.|~$|\.dpkg-(new|old|dist|bak)$|\.rpm(new|save)$/.test(n)).map((n) => posix.join(found, n)).filter((p) => options.fs.stat(p) === 'file')
        : [found];
      for (const f of files) {
        if (active.includes(f)) {
          diag(offset, 'warning', 'web/policy-include-loop', `include loop: ${f} includes itself`);
          continue;
        }
        if (++included > MAX_INCLUDED_FILES || active.length >= MAX_INCLUDE_DEPTH) {
          diag(offset, 'error', 'web/policy-too-many-includes', `too many included files (over ${MAX_INCLUDED_FILES}) or includes nested over ${MAX_INCLUDE_DEPTH} deep`);
          return;
        }
        const r = options.fs.read(f);
        if ('error' in r) {
          diag(offset, 'warning', 'web/policy-include-unreadable', `cannot read included file ${f}: ${r.error}`);
          continue;
        }
        scanFile(f, r.text, via, [...active, f]);
      }
    };
    const open = (header: string, offset: number): void => {
      const parent = currentProfile();
      let m: RegExpExecArray | null;
      let name: string | undefined;
      let isHat = false;
      let attachment: string | undefined;
      let rest = '';
      if ((m = /^(?:hat\s+|\^)("(?:[^"\\]|\\.)*"|\S+)(.*)$/s.exec(header))) {
        name = m[1]!; isHat = true; rest = m[2]!;
      } else if ((m = /^profile\s+("(?:[^"\\]|\\.)*"|\S+)(.*)$/s.exec(header))) {
        name = m[1]!; rest = m[2]!;
        const att = /^\s+("(?:[^"\\]|\\.)*"|[/@][^\s(]*)/.exec(rest);
        if (att && !/^\s+flags\s*=/.test(rest)) attachment = unquote(att[1]!);
      } else if (!parent && (m = /^("(?:[^"\\]|\\.)*"|[/@:][^\s(]*)(.*)$/s.exec(header))) {
        name = m[1]!; rest = m[2]!; attachment = unquote(name);
      }
      if (name === undefined) {
        stack.push({ kind: 'transparent' });
        return;
      }
      name = unquote(name);
      if (isHat && !parent) diag(offset, 'warning', 'web/policy-hat-outside-profile', `hat '${name}' outside any profile is ignored`);
      const flags = /(?:flags\s*=\s*)?\(([^)]*)\)\s*$/.exec(rest)?.[1] ?? /flags\s*=\s*(\S+)\s*$/.exec(rest)?.[1] ?? '';
      const words = flags.split(/[\s,]+/).filter(Boolean);
      const own = MODES.find((mode) => words.includes(mode));
      const tree: MutableTree = {
        name: parent ? `${parent.name}//${name}` : name,
        baseName: name,
        isHat: isHat && Boolean(parent),
        mode: own ?? 'enforce',
        explicitMode: own !== undefined,
        ...(attachment !== undefined ? { attachment } : {}),
        changeProfileRules: [],
        children: [],
      };
      if (parent) parent.children.push(tree);
      else top.push(tree);
      stack.push({ kind: 'profile', tree });
    };

    let i = 0;
    const n = text.length;
    while (i < n) {
      const c = text[i]!;
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
        const atStart = buf.trim() === '';
        if (atStart && /^#include\s/.test(text.slice(i, i + 9))) {
          if (bufStart < 0) bufStart = i;
          buf += c;
          i++;
          continue;
        }
        while (i < n && text[i] !== '\n') i++;
        continue;
      }
      if (c === '\n') {
        const s = buf.trim();
        if (/^#?include\s/.test(s) || /^@\{[^}]*\}\s*\+?=/.test(s)) {
          const at = bufStart;
          statement(flush(), at);
        } else buf += c;
        i++;
        continue;
      }
      if (c === '{') {
        const prev = i === 0 ? '\n' : text[i - 1]!;
        const next = i + 1 < n ? text[i + 1]! : '\n';
        if (aareDepth === 0 && /\s/.test(prev) && (/\s/.test(next) || next === '}')) {
          const at = bufStart < 0 ? i : bufStart;
          open(flush(), at);
          i++;
          continue;
        }
        aareDepth++;
        if (bufStart < 0) bufStart = i;
        buf += c;
        i++;
        continue;
      }
      if (c === '}') {
        if (aareDepth > 0) {
          aareDepth--;
          buf += c;
          i++;
          continue;
        }
        if (buf.trim() !== '') statement(flush(), bufStart);
        if (stack.length > depthAtStart) stack.pop();
        else diag(i, 'error', 'web/policy-unmatched-brace', "'}' without an open block");
        flush();
        i++;
        continue;
      }
      if (c === '(') parenDepth++;
      else if (c === ')' && parenDepth > 0) parenDepth--;
      if (c === ',' && aareDepth === 0 && parenDepth === 0) {
        const at = bufStart;
        statement(flush(), at);
        i++;
        continue;
      }
      if (bufStart < 0 && !/\s/.test(c)) bufStart = i;
      buf += c;
      i++;
    }
    if (buf.trim() !== '') statement(flush(), bufStart);
    while (stack.length > depthAtStart) {
      stack.pop();
      diag(n, 'error', 'web/policy-unclosed-block', 'block not closed before the end of the file');
    }
  };

  const r = options.fs.read(file);
  if ('error' in r) {
    diagnostics.push({ file, line: 1, col: 1, severity: 'error', code: 'web/policy-unreadable', message: `cannot read ${file}: ${r.error}` });
    return { trees: [], diagnostics };
  }
  scanFile(file, r.text, [], [file]);
  return { trees: top.map(freeze), diagnostics };
}

function unquote(s: string): string {
  return s.startsWith('"') && s.endsWith('"') && s.length >= 2 ? s.slice(1, -1).replace(/\\(.)/g, '$1') : s;
}

function freeze(t: MutableTree): ProfileTreeWithAttachment {
  return Object.freeze({
    name: t.name,
    baseName: t.baseName,
    isHat: t.isHat,
    mode: t.mode,
    ...(t.attachment !== undefined ? { attachment: t.attachment } : {}),
    changeProfileRules: Object.freeze([...t.changeProfileRules]),
    children: Object.freeze(t.children.map(freeze)),
  });
}

/** Find a profile (or nested profile/hat) by its full name. */
export function findProfile(trees: readonly ProfileTree[], name: string): ProfileTree | undefined {
  for (const t of trees) {
    if (t.name === name) return t;
    if (name.startsWith(`${t.name}//`)) {
      const inner = findProfile(t.children, name);
      if (inner) return inner;
    }
  }
  return undefined;
}
