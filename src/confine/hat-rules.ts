// The rules of one hat as the backends need them: file rules with variables expanded, network, signal
// and unix rules, each with where it came from.
//
// Read with the shared resolver (resolvePolicy: includes, variables, conditionals, aliases).
import { posix } from 'node:path';
import type { Diagnostic, SourceLocation } from '../policy/diagnostic.js';
import { resolvePolicy, type FileReader, type ResolvedProfile } from '../policy/resolve/index.js';
import { nodeFileReader } from '../policy/resolve/node-file-reader.js';

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
  /** The words after the keyword (and qualifiers), e.g. ['inet', 'stream']; for capability: the names (none = all). */
  readonly words: readonly string[];
  /** `key=value` conditions (network `ip=`/`port=`, unix `type=`/`addr=`, `peer.label` ...), when any. */
  readonly conditions?: Readonly<Record<string, readonly string[]>>;
  /** The access words alone (network/unix: create, bind, ...); empty or absent: the class default (all). */
  readonly access?: readonly string[];
  readonly source: SourceLocation;
  readonly text: string;
}

export interface HatRules {
  readonly label: string;
  readonly files: readonly HatFileRule[];
  readonly others: readonly HatOtherRule[];
}

function permsText(permissions: ReadonlySet<string>, exec?: { text?: string }): string {
  const order = ['r', 'w', 'a', 'l', 'k', 'm'];
  const letters = order.filter((p) => permissions.has(p)).join('');
  return permissions.has('x') ? `${letters}${exec?.text ?? 'ix'}` : letters;
}

function findProfile(profiles: readonly ResolvedProfile[], label: string): ResolvedProfile | undefined {
  for (const profile of profiles) {
    if (profile.name === label || (profile.attachment === label && !label.includes('//'))) return profile;
    if (label.startsWith(`${profile.name}//`)) {
      const found = findProfile(profile.children, label);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * The rules of `profile//hat` (or of the profile itself when hat is null) from a policy file, resolved
 * with the shared resolver (includes, variables, conditionals). Never throws: problems are diagnostics.
 */
export function readHatRules(file: string, profile: string, hat: string | null, options: { reader?: FileReader; includeDirs?: readonly string[] } = {}): { rules?: HatRules; diagnostics: Diagnostic[] } {
  const label = hat === null ? profile : `${profile}//${hat}`;
  const { policy, diagnostics: resolved, unreadable } = resolvePolicy(file, {
    reader: options.reader ?? nodeFileReader(),
    workingDirectory: posix.dirname(file.startsWith('/') ? file : posix.resolve(file)),
    ...(options.includeDirs ? { includePaths: options.includeDirs } : {}),
  });
  if (unreadable) return { diagnostics: [{ file, line: 1, col: 1, severity: 'error', code: 'confine/policy-unreadable', message: `cannot read policy ${file}` }] };
  const diagnostics = [...resolved];
  let found = findProfile(policy.profiles, label);
  if (!found && hat !== null) {
    const parent = policy.profiles.find((p) => p.attachment === profile);
    if (parent) found = parent.children.find((child) => child.localName === hat);
  }
  if (!found) {
    const known: string[] = [];
    const walk = (list: readonly ResolvedProfile[]) => { for (const p of list) { known.push(p.name); walk(p.children); } };
    walk(policy.profiles);
    diagnostics.push({ file, line: 1, col: 1, severity: 'error', code: 'confine/hat-not-found', message: `${label} is not defined in ${file}`, ...(known.length ? { hint: `defined: ${known.slice(0, 12).join(', ')}` } : {}) });
    return { diagnostics };
  }
  const fileRules: HatFileRule[] = [];
  const others: HatOtherRule[] = [];
  for (const rule of found.rules) {
    const source: SourceLocation = { file: rule.source.file, line: rule.source.line, col: rule.source.col };
    const deny = rule.prefix.decision !== 'allow';
    const owner = rule.prefix.owner === 'owner';
    if (rule.class === 'file') {
      fileRules.push({ pattern: rule.pattern, perms: permsText(rule.permissions, rule.exec), deny, owner, source, text: `${rule.pattern} ${permsText(rule.permissions)}` });
    } else if (rule.class === 'link') {
      fileRules.push({ pattern: rule.pattern, perms: 'l', deny, owner, source, text: `link ${rule.pattern} -> ${rule.target}` });
    } else if (rule.class === 'all') {
      others.push({ kind: 'file-all', deny, words: [], source, text: 'all' });
    } else if (rule.class === 'network' || rule.class === 'unix' || rule.class === 'signal' || rule.class === 'ptrace' || rule.class === 'dbus' || rule.class === 'mount') {
      const conditions = Object.keys(rule.conditions).length ? { conditions: rule.conditions } : {};
      others.push({ kind: rule.class, deny, words: [...rule.access, ...rule.words], access: rule.access, ...conditions, source, text: rule.class });
    } else if (rule.class === 'capability') {
      others.push({ kind: 'capability', deny, words: rule.names, source, text: `capability${rule.names.length ? ` ${rule.names.join(' ')}` : ''}` });
    } else {
      others.push({ kind: rule.class, deny, words: [], source, text: rule.class });
    }
  }
  return { rules: { label: found.name, files: fileRules, others }, diagnostics };
}
