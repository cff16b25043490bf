// Helpers to visit the AST without re-implementing the recursion everywhere.
import type { Policy, Profile, Rule, Statement } from './types.js';

const RULE_KINDS = new Set<string>([
  'FileRule', 'LinkRule', 'CapabilityRule', 'NetworkRule', 'UnixRule', 'DbusRule', 'SignalRule', 'PtraceRule',
  'MountRule', 'RemountRule', 'UmountRule', 'PivotRootRule', 'ChangeProfileRule', 'RlimitRule', 'UserNsRule',
  'IoUringRule', 'MqueueRule', 'AllRule', 'UnknownRule',
]);

export function isRule(statement: Statement): statement is Rule {
  return RULE_KINDS.has(statement.kind);
}

/** Statements directly in a body, looking through conditional branches and qualifier blocks (not into profiles). */
export function* flattenBody(body: readonly Statement[]): Generator<Statement> {
  const stack: Statement[] = [...body].reverse();
  while (stack.length) {
    const s = stack.pop()!;
    if (s.kind === 'Conditional') {
      for (let b = s.branches.length - 1; b >= 0; b--) for (let i = s.branches[b]!.body.length - 1; i >= 0; i--) stack.push(s.branches[b]!.body[i]!);
    } else if (s.kind === 'QualifierBlock') {
      yield s;
      for (let i = s.body.length - 1; i >= 0; i--) stack.push(s.body[i]!);
    } else yield s;
  }
}

/** Every profile, hat and child profile in the file, outermost first, with its parent chain. */
export function* walkProfiles(policy: Policy): Generator<{ profile: Profile; parents: readonly Profile[] }> {
  const stack: { body: readonly Statement[]; parents: readonly Profile[] }[] = [{ body: policy.items, parents: [] }];
  while (stack.length) {
    const { body, parents } = stack.shift()!;
    for (const s of flattenBody(body)) {
      if (s.kind === 'Profile') {
        yield { profile: s, parents };
        stack.push({ body: s.body, parents: [...parents, s] });
      }
    }
  }
}

/** Top-level profiles of the file (including those inside top-level conditionals). */
export function topLevelProfiles(policy: Policy): Profile[] {
  return [...flattenBody(policy.items)].filter((s): s is Profile => s.kind === 'Profile');
}

/** Hats and child profiles directly inside a profile. */
export function childProfiles(profile: Profile): Profile[] {
  return [...flattenBody(profile.body)].filter((s): s is Profile => s.kind === 'Profile');
}

/** Rules directly in a profile body (through conditionals and qualifier blocks, not into hats). */
export function rulesOf(body: readonly Statement[]): Rule[] {
  return [...flattenBody(body)].filter(isRule);
}
