// `hatter mode`: a profile's, hat's or child profile's mode is one word in its `flags=(...)`. The edit
// goes through the lossless syntax tree, so only that flag list changes and every other byte of the
// file (comments, spacing, other profiles) stays as it was. Pure: text in, text out.
import { posix } from 'node:path';
import { allProfiles, findProfile, loadPolicy, type Diagnostic, type FileReader, type ResolvedProfile } from '../policy/index.js';
import { parsePolicy, SyntaxNode, SyntaxToken, collectTokens } from '../policy/syntax/index.js';
import { keepAuthorship, type FilePlan } from './plan.js';

export type ModeChange = 'complain' | 'enforce' | 'audit' | 'disable';
export const MODE_CHANGES: readonly ModeChange[] = ['complain', 'enforce', 'audit', 'disable'];

/** The flags that are a profile mode: exactly one applies (enforce when none is written). */
const MODE_FLAGS = ['enforce', 'complain', 'kill', 'unconfined', 'prompt', 'default_allow'];

/** The flags a mode change leaves: complain/enforce replace the mode flag, audit adds `audit`. */
export function changedFlags(flags: readonly string[], change: Exclude<ModeChange, 'disable'>): string[] {
  if (change === 'audit') return flags.includes('audit') ? [...flags] : [...flags, 'audit'];
  const rest = flags.filter((f) => !MODE_FLAGS.includes(f));
  return change === 'complain' ? ['complain', ...rest] : rest;
}

function diag(file: string, code: string, message: string, hint?: string): Diagnostic {
  return { file, line: 1, col: 1, severity: 'error', code, message, ...(hint ? { hint } : {}) };
}

/** Every Profile node of a tree, outermost first. */
function profileNodes(node: SyntaxNode, out: SyntaxNode[] = []): SyntaxNode[] {
  for (const child of node.childNodes()) {
    if (child.kind === 'Profile') out.push(child);
    profileNodes(child, out);
  }
  return out;
}

/** The flag words of a Flags node's list, in order (conditions like `x=y` kept as written). */
function flagWords(flags: SyntaxNode): string[] {
  const list = flags.childNodes().find((c) => c.kind === 'List');
  if (!list) return [];
  const words: string[] = [];
  for (const c of list.children()) {
    if (c instanceof SyntaxToken && (c.kind === 'Word' || c.kind === 'QuotedString')) words.push(c.text);
    else if (c instanceof SyntaxNode && c.kind === 'Condition') words.push(c.text().trim());
  }
  return words;
}

/**
 * Change the mode of the Profile node that starts at `offset` (a resolved profile's source offset) in
 * `text`. Returns the new text (identical but for the flags) or a diagnostic.
 */
export function setModeAt(text: string, file: string, offset: number, change: Exclude<ModeChange, 'disable'>): { text: string; changed: boolean } | { diagnostic: Diagnostic } {
  const parsed = parsePolicy(text, file);
  const root = new SyntaxNode(parsed.root);
  // The innermost profile whose text starts at the offset (leading trivia aside) or contains it.
  const candidates = profileNodes(root).filter((p) => p.offset <= offset && offset < p.end);
  const profile = candidates.find((p) => p.trimmedRange().start === offset) ?? candidates[candidates.length - 1];
  if (!profile) return { diagnostic: diag(file, 'mode/not-found', `no profile starts at offset ${offset} of ${file}`) };
  const flags = profile.childNodes().find((c) => c.kind === 'Flags');
  const before = flags ? flagWords(flags) : [];
  const after = changedFlags(before, change);
  if (after.join('\u0000') === before.join('\u0000')) return { text, changed: false };
  if (flags) {
    const range = flags.trimmedRange();
    if (after.length === 0) {
      // Drop ` flags=(...)` with the blanks in front of it.
      let start = range.start;
      while (start > 0 && (text[start - 1] === ' ' || text[start - 1] === '\t')) start--;
      return { text: text.slice(0, start) + text.slice(range.end), changed: true };
    }
    const written = text.slice(range.start, range.end);
    const separator = /,\s/.test(written) ? ', ' : before.length >= 2 && !written.includes(',') ? ' ' : ',';
    const keyword = /^flags\s*=\s*/.exec(written)?.[0] ?? '';
    return { text: `${text.slice(0, range.start)}${keyword}(${after.join(separator)})${text.slice(range.end)}`, changed: true };
  }
  // No flags yet: ` flags=(...)` goes right before the `{` of the body.
  const block = profile.childNodes().find((c) => c.kind === 'Block');
  if (!block) return { diagnostic: diag(file, 'mode/not-found', `the profile at offset ${offset} of ${file} has no body`) };
  const tokens: SyntaxToken[] = [];
  collectTokens(block, tokens);
  const brace = tokens.find((t) => t.kind === 'LBrace');
  if (!brace) return { diagnostic: diag(file, 'mode/not-found', `the profile at offset ${offset} of ${file} has no '{'`) };
  let insertAt = brace.offset;
  while (insertAt > 0 && (text[insertAt - 1] === ' ' || text[insertAt - 1] === '\t')) insertAt--;
  return { text: `${text.slice(0, insertAt)} flags=(${after.join(',')})${text.slice(insertAt)}`, changed: true };
}

export interface ModeTarget {
  readonly label: string;
  /** The top-level policy file that loads it (what apparmor_parser -r is given). */
  readonly entry: string;
  /** The file whose text holds the profile's head (an included hat file for Debian's apache2.d/). */
  readonly file: string;
  readonly offset: number;
  readonly isTopLevel: boolean;
}

/** Files directly in the policy directory that hold profiles (the ones apparmor.service loads). */
export function policyEntries(reader: FileReader, dir: string): string[] {
  const skip = /^(README|\..*|.*\.dpkg-.*|.*\.hatter-backup.*|.*~)$/;
  return (reader.listDirectory(dir) ?? []).filter((n) => !skip.test(n)).map((n) => posix.join(dir, n)).filter((p) => reader.kind(p) === 'file').sort();
}

/** Where each label is written: a top-level file that loads it and the file and offset of its head. */
export function findModeTargets(labels: readonly string[], reader: FileReader, dir: string): { targets: ModeTarget[]; diagnostics: Diagnostic[] } {
  const targets: ModeTarget[] = [];
  const diagnostics: Diagnostic[] = [];
  const pending = new Set(labels);
  for (const entry of policyEntries(reader, dir)) {
    if (pending.size === 0) break;
    const loaded = loadPolicy(entry, reader, { workingDirectory: dir, includePaths: [dir] });
    for (const label of [...pending]) {
      const profile: ResolvedProfile | undefined = findProfile(loaded.resolved.profiles, label);
      if (!profile) continue;
      pending.delete(label);
      targets.push({ label, entry, file: profile.source.file, offset: profile.source.offset, isTopLevel: !profile.name.includes('//') });
    }
  }
  for (const label of pending) {
    diagnostics.push(diag('<arguments>', 'mode/no-such-profile', `no profile, hat or child profile ${label} in ${dir}`, 'hatter status lists the loaded ones'));
  }
  return { targets, diagnostics };
}

/** All profile names of a directory, for suggestions. */
export function allLabels(reader: FileReader, dir: string): string[] {
  return policyEntries(reader, dir).flatMap((entry) => allProfiles(loadPolicy(entry, reader, { workingDirectory: dir, includePaths: [dir] }).resolved.profiles).map((p) => p.name));
}

/**
 * Plan a mode change for each target: the flag edit of its file, and for disable (top-level profiles
 * only) Debian's `disable/FILE -> ../FILE` link; enforce and complain remove that link.
 */
export function planModeChange(change: ModeChange, targets: readonly ModeTarget[], reader: FileReader, dir: string, read: (path: string) => string | undefined, link: (path: string) => string | undefined): { files: FilePlan[]; diagnostics: Diagnostic[] } {
  const files: FilePlan[] = [];
  const diagnostics: Diagnostic[] = [];
  const edited = new Map<string, { text: string; previous: string }>();
  // Within a file, the last profile first: an edit never moves the offset of one still to come.
  const ordered = [...targets].sort((a, b) => (a.file === b.file ? b.offset - a.offset : a.file < b.file ? -1 : 1));
  for (const target of ordered) {
    const disableLink = posix.join(dir, 'disable', posix.basename(target.entry));
    if (change === 'disable') {
      if (!target.isTopLevel || posix.dirname(target.entry) !== dir) {
        diagnostics.push(diag(target.file, 'mode/cannot-disable-hat', `${target.label} is a hat or child profile: only a whole policy file can be disabled`, 'put it in complain mode instead, or remove the hat'));
        continue;
      }
      if (link(disableLink) === undefined && reader.kind(disableLink) === undefined) files.push({ path: disableLink, action: 'symlink', target: `../${posix.basename(target.entry)}` });
      continue;
    }
    const current = edited.get(target.file)?.text ?? read(target.file);
    if (current === undefined) { diagnostics.push(diag(target.file, 'mode/unreadable', `cannot read ${target.file}`)); continue; }
    const result = setModeAt(current, target.file, target.offset, change);
    if ('diagnostic' in result) { diagnostics.push(result.diagnostic); continue; }
    if (result.changed) edited.set(target.file, { text: result.text, previous: edited.get(target.file)?.previous ?? current });
    if (target.isTopLevel && link(disableLink) !== undefined) files.push({ path: disableLink, action: 'delete' });
  }
  for (const [path, { text, previous }] of edited) files.unshift({ path, action: 'write', content: keepAuthorship(previous, text), previous });
  return { files, diagnostics };
}
