// Which profile an exec'd program runs under, as the kernel would choose it from the loaded policy: the
// recorder attributes what a handler's helper does to the helper's own profile (a `Px`/`Cx` target),
// not to the hat that ran it. The x rule is found with decide(), so rule precedence, deny rules, owner
// and priorities are the policy evaluator's, never a string match on the rule text.
import { compilePattern, matches, type Automaton } from '../policy/aare/index.js';
import { decide, type CompiledPolicy, type CompiledProfile } from '../policy/eval/index.js';
import { parseLabel } from '../policy/label/index.js';

/** The label an exec of `binary` by a process labelled `label` leads to; undefined: it stays in `label`. */
export type ExecTransitions = (label: string, binary: string) => string | undefined;

/** The label of a process AppArmor does not confine (a `ux` exec): the kernel logs nothing for it. */
export const UNCONFINED_LABEL = 'unconfined';

/**
 * Exec transitions of a compiled policy. `px` and `cx` go to their `-> target` or to the profile that
 * attaches to the binary (top-level for px, a child of the current profile for cx; the first that
 * matches, where the kernel would prefer the longest match); `ux` leaves
 * confinement; `ix`, a missing rule or a denied exec stays (in complain mode the kernel logs the exec and
 * keeps the profile). A px/cx whose target is not in the policy falls back as the rule says (`pix` →
 * stays, `pux` → unconfined); without a fallback the exec would fail, and the process keeps its label.
 */
export function policyTransitions(policy: CompiledPolicy): ExecTransitions {
  const cache = new Map<string, string | undefined>();
  return (label, binary) => {
    const key = `${label}\0${binary}`;
    if (cache.has(key)) return cache.get(key);
    const target = transitionOf(policy, label, binary);
    if (cache.size >= 10_000) cache.clear();
    cache.set(key, target);
    return target;
  };
}

function transitionOf(policy: CompiledPolicy, label: string, binary: string): string | undefined {
  if (!policy.profiles.has(label)) return undefined;
  const decision = decide(policy, label, { class: 'file', path: binary, permissions: 'x', owner: false });
  const exec = decision.exec;
  if (!decision.allowed || !exec) return undefined;
  const { transition, fallback } = exec.mode;
  if (transition === 'unconfined') return UNCONFINED_LABEL;
  if (transition !== 'profile' && transition !== 'child') return undefined;
  let target: string | undefined;
  if (transition === 'child') {
    // `cx -> name` names a child of the current profile (apparmor_parser prefixes the profile's full name).
    target = exec.target !== undefined ? (policy.profiles.has(`${label}//${exec.target}`) ? `${label}//${exec.target}` : undefined) : attachedProfile(policy, binary, label);
  } else {
    target = exec.target !== undefined ? (policy.profiles.has(exec.target) ? exec.target : undefined) : attachedProfile(policy, binary, undefined);
  }
  if (target !== undefined) return target;
  return fallback === 'unconfined' ? UNCONFINED_LABEL : undefined;
}

const attachments = new WeakMap<CompiledProfile, Automaton | null>();

/**
 * The profile that attaches to `binary`: a top-level profile (under: undefined) or a child of `under`,
 * by its attachment or, when its name is a path, by its name.
 */
function attachedProfile(policy: CompiledPolicy, binary: string, under: string | undefined): string | undefined {
  const depth = under === undefined ? 1 : parseLabel(under).path.length + 1;
  for (const profile of policy.profiles.values()) {
    const path = parseLabel(profile.label).path;
    if (path.length !== depth || (under !== undefined && !profile.label.startsWith(`${under}//`))) continue;
    let automaton = attachments.get(profile);
    if (automaton === undefined) {
      const name = path[path.length - 1]!;
      const pattern = profile.attachment ?? (name.startsWith('/') ? name : undefined);
      const compiled = pattern === undefined ? undefined : compilePattern(pattern, { kind: 'path' });
      automaton = compiled?.ok ? compiled.automaton : null;
      attachments.set(profile, automaton);
    }
    if (automaton !== null && matches(automaton, binary)) return profile.label;
  }
  return undefined;
}
