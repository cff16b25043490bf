// ProfileTree[] from an AppArmor policy file: only what change_hat needs (profile and hat names, nesting,
// mode flags, attachments, change_profile targets). A projection of the one policy loader's result, so
// which-hat, serve and the kernel-like resolver see exactly the hats apparmor_parser would load.
import { posix } from 'node:path';
import { loadPolicy, type Diagnostic, type FileReader, type ResolvedChangeProfileRule, type ResolvedPolicy, type ResolvedProfile } from '../policy/index.js';
import type { ProfileTree } from './hat-resolver.js';

export { findProfile } from '../policy/index.js';

export interface PolicyTreeOptions {
  /** Where the policy and its includes are read from (nodeFileReader() for the real file system). */
  readonly reader: FileReader;
  /** Where `include <x>` looks; default /etc/apparmor.d. */
  readonly includeDirs?: readonly string[];
}

export interface PolicyTrees {
  readonly trees: readonly ProfileTree[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Profiles with their attachment, for choosing Apache's profile. */
export interface ProfileTreeWithAttachment extends ProfileTree {
  readonly attachment?: string;
  /** Targets of the profile's own `change_profile` rules (exec-conditional ones included), as written. */
  readonly changeProfileRules: readonly string[];
  readonly children: readonly ProfileTreeWithAttachment[];
}

/** Load a policy file (and what it includes) and project it to profile trees. Never throws. */
export function profileTreesFromPolicy(file: string, options: PolicyTreeOptions): { trees: ProfileTreeWithAttachment[]; diagnostics: Diagnostic[] } {
  const loaded = loadPolicy(file, options.reader, { workingDirectory: posix.dirname(posix.resolve('/', file)), includePaths: options.includeDirs ?? ['/etc/apparmor.d'] });
  if (loaded.unreadable) {
    return { trees: [], diagnostics: [{ file, line: 1, col: 1, severity: 'error', code: 'web/policy-unreadable', message: `cannot read ${file}` }] };
  }
  return { trees: profileTreesFromResolved(loaded.resolved), diagnostics: [...loaded.diagnostics] };
}

/** ProfileTrees from a policy already loaded (for callers that hold one). */
export function profileTreesFromResolved(policy: ResolvedPolicy): ProfileTreeWithAttachment[] {
  return policy.profiles.map(fromResolved);
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

