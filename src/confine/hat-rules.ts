// The rules of one hat as the backends need them: file rules with variables expanded, network, signal
// and unix rules, each with where it came from.
//
// A projection of the loaded policy (loadPolicy: includes, variables, conditionals, aliases, and the
// checker, so a policy apparmor_parser would reject is never translated for Landlock either).
import { posix } from 'node:path';
import { allProfiles, findProfile, hatLabel, loadPolicy, type Diagnostic, type FileReader, type ResolvedProfile, type SourceLocation } from '../policy/index.js';
import { nodeFileReader } from '../policy-node/index.js';

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

/**
 * The rules of `profile//hat` (or of the profile itself when hat is null) from a policy file, resolved
 * with the shared resolver (includes, variables, conditionals). Never throws: problems are diagnostics.
 */
export function readHatRules(file: string, profile: string, hat: string | null, options: { reader?: FileReader; includeDirs?: readonly string[] } = {}): { rules?: HatRules; diagnostics: Diagnostic[] } {
  const label = hatLabel(profile, hat);
  const loaded = loadPolicy(file, options.reader ?? nodeFileReader(), {
    workingDirectory: posix.dirname(file.startsWith('/') ? file : posix.resolve(file)),
    ...(options.includeDirs ? { includePaths: options.includeDirs } : {}),
  });
  if (loaded.unreadable) return { diagnostics: [{ file, line: 1, col: 1, severity: 'error', code: 'confine/policy-unreadable', message: `cannot read policy ${file}` }] };
  const diagnostics = [...loaded.diagnostics];
  const found = findProfile(loaded.resolved.profiles, label);
  if (!found) {
    const known = allProfiles(loaded.resolved.profiles).map((p) => p.name);
    diagnostics.push({ file, line: 1, col: 1, severity: 'error', code: 'confine/hat-not-found', message: `${label} is not defined in ${file}`, ...(known.length ? { hint: `defined: ${known.slice(0, 12).join(', ')}` } : {}) });
    return { diagnostics };
  }
  return { rules: hatRulesOf(found), diagnostics };
}

/** The backends' view of one resolved profile or hat. */
export function hatRulesOf(found: ResolvedProfile): HatRules {
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
  return { label: found.name, files: fileRules, others };
}
