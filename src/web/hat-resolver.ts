// The kernel's change_hat decision (hats-and-web.md §8) and mod_apparmor's fail-open wrapper around it
// (§2 steps 2–5, §4 log lines, §7 edge behaviour). Pure functions over a ProfileTree.
import { DEFAULT_URI_HAT, UNTRUSTED_INPUT_HAT, type HatVectorInput } from './hat-vector.js';

export type ProfileMode = 'enforce' | 'complain' | 'kill' | 'unconfined' | 'default_allow' | 'prompt';

/** The shape of a policy that change_hat cares about: a profile, its hats and child profiles. */
export interface ProfileTree {
  readonly name: string;            // full hierarchical name, e.g. 'apache2//alice.localhost'
  readonly baseName: string;        // last component, e.g. 'alice.localhost'
  readonly isHat: boolean;
  readonly mode: ProfileMode;
  readonly children: readonly ProfileTree[];  // hats and child profiles
}

export type ChangeHatErrno = 'ENOENT' | 'ECHILD' | 'EPERM' | 'EPROTO';

export type HatResolution =
  | { readonly outcome: 'hat'; readonly label: string; readonly hat: string; readonly candidateIndex: number; readonly mode: ProfileMode }
  | { readonly outcome: 'learning'; readonly label: string; readonly hat: string }        // complain mode: `<parent>//null-<first>`
  | { readonly outcome: 'error'; readonly errno: ChangeHatErrno; readonly reason: string };

/** libapparmor refuses a name of PATH_MAX bytes or more (`strnlen(name, PATH_MAX) == PATH_MAX`). */
export const PATH_MAX = 4096;
/** The kernel truncates any write to a proc attr file to one page. */
export const ATTR_WRITE_MAX = 4096;
/** The kernel reads at most this many names from one changehat command. */
export const MAX_HAT_NAMES = 16;

const utf8 = new TextEncoder();
const byteLength = (s: string): number => utf8.encode(s).length;

/**
 * The names the kernel actually sees for `aa_change_hatv(candidates, token)`: libapparmor writes
 * `changehat <16hex>^n1\0n2\0…` in one write; the kernel keeps the first page and the first 16 names.
 * `truncated` means the write was cut (libapparmor then reports EPROTO for the short write, although the
 * kernel has already acted on what it read).
 */
export function kernelHatNames(candidates: readonly string[]): { names: string[]; truncated: boolean } {
  let room = ATTR_WRITE_MAX - 'changehat '.length - 16 - 1;
  const names: string[] = [];
  let truncated = false;
  for (const name of candidates) {
    const bytes = utf8.encode(name);
    if (bytes.length + 1 <= room) {
      names.push(name);
      room -= bytes.length + 1;
      continue;
    }
    truncated = true;
    // The kernel NUL-terminates what it got, so a cut name still counts as a (shorter) name.
    if (room > 0) names.push(new TextDecoder().decode(bytes.subarray(0, room)).replace(/\uFFFD$/, ''));
    break;
  }
  return { names: names.slice(0, MAX_HAT_NAMES), truncated };
}

/** What the kernel does for `changehat` with this vector, from the task's current profile (a hat → sibling lookup). */
export function resolveChangeHat(current: ProfileTree | 'unconfined', parent: ProfileTree | undefined, candidates: readonly string[]): HatResolution {
  if (current === 'unconfined' || current.mode === 'unconfined') {
    return { outcome: 'error', errno: 'EPERM', reason: 'unconfined can not change_hat' };
  }
  // libapparmor checks every name before writing anything.
  for (const name of candidates) {
    if (byteLength(name) >= PATH_MAX) {
      return { outcome: 'error', errno: 'EPROTO', reason: `hat name of ${byteLength(name)} bytes is not shorter than PATH_MAX (${PATH_MAX}); libapparmor refuses the whole vector` };
    }
  }
  if (candidates.length === 0) return { outcome: 'error', errno: 'ENOENT', reason: 'no hat names given' };
  let root: ProfileTree;
  if (current.isHat) {
    if (!parent) return { outcome: 'error', errno: 'EPERM', reason: `conflicting targets: '${current.name}' is a hat but no parent profile was given` };
    root = parent;
  } else {
    root = current;
  }
  const { names } = kernelHatNames(candidates);
  const complain = root.mode === 'complain';
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const child = root.children.find((c) => c.baseName === name);
    if (!child) {
      if (!complain) continue;
      // Complain mode: the first name "succeeds as if a hat" and the kernel builds a learning hat.
      if (current.mode !== 'complain') return { outcome: 'error', errno: 'ENOENT', reason: 'hat not found' };
      return { outcome: 'learning', label: `${current.name}//null-${name}`, hat: `null-${name}` };
    }
    if (!child.isHat) return { outcome: 'error', errno: 'EPERM', reason: `target not hat: '${child.name}' is a child profile, not a hat` };
    return { outcome: 'hat', label: child.name, hat: child.baseName, candidateIndex: i, mode: child.mode };
  }
  // The kernel decides between the two errors from the task's own profile (not the lookup root).
  if (current.children.length > 0) return { outcome: 'error', errno: 'ENOENT', reason: 'hat not found' };
  return { outcome: 'error', errno: 'ECHILD', reason: 'no hats defined' };
}

const ERRNO_TEXT: Record<ChangeHatErrno, string> = {
  ENOENT: '(2)No such file or directory',
  ECHILD: '(10)No child processes',
  EPERM: '(1)Operation not permitted',
  EPROTO: '(71)Protocol error',
};

/** An Apache error-log line as mod_apparmor would write it (without timestamp, pid and client). */
export function apacheLogLine(level: 'error' | 'warn' | 'notice', message: string, errno?: ChangeHatErrno): string {
  return `[apparmor:${level}] ${errno ? `${ERRNO_TEXT[errno]}: ` : ''}${message}`;
}

export interface HatSelection {
  readonly outcome: 'hat' | 'learning' | 'parent' | 'error';
  readonly hat: string | null;
  readonly label: string;
  readonly reason: string;
  /** Log lines mod_apparmor writes for this request (Apache error-log form, see apacheLogLine). */
  readonly warnings: readonly string[];
  /** The index in the vector of the name entered, when outcome is 'hat'. */
  readonly candidateIndex?: number;
  readonly errno?: ChangeHatErrno;
}

/**
 * mod_apparmor on top of the kernel: fail-open fallback to the parent, and the log lines it writes.
 * `context` (the vector's input) enables the AAHatName/AADefaultHatName sanity warnings of §2 step 5.
 * Outcomes: 'hat' and 'learning' as the kernel decided; 'parent' when the kernel refused and the request
 * runs in the policy profile itself; 'error' when Apache is unconfined and nothing confines the request.
 */
export function selectHat(policyProfile: ProfileTree | 'unconfined', candidates: readonly string[], context?: Partial<HatVectorInput>): HatSelection {
  const warnings: string[] = [];
  if (policyProfile === 'unconfined') {
    warnings.push(apacheLogLine('warn', 'aa_change_hatv call failed', 'EPERM'));
    return { outcome: 'error', hat: null, label: 'unconfined', errno: 'EPERM', reason: 'Apache runs unconfined: the kernel refuses change_hat (unconfined can not change_hat) and the request is served unconfined', warnings };
  }
  // Between requests the child sits in HANDLING_UNTRUSTED_INPUT; re-entering it fails after every request if missing.
  const idle = resolveChangeHat(policyProfile, undefined, [UNTRUSTED_INPUT_HAT]);
  if (idle.outcome === 'error') {
    warnings.push(apacheLogLine('error', `Failed to change_hat to '${UNTRUSTED_INPUT_HAT}'`));
  }
  const kernel = kernelHatNames(candidates);
  const result = resolveChangeHat(policyProfile, undefined, candidates);
  if (kernel.truncated && result.outcome !== 'error') {
    warnings.push(apacheLogLine('warn', 'aa_change_hatv call failed', 'EPROTO'));
  }
  if (result.outcome === 'learning') {
    return { outcome: 'learning', hat: result.hat, label: result.label, reason: `complain mode: '${candidates[0]}' is not a hat of ${policyProfile.name}, so the kernel enters the learning hat ${result.label} and ignores the later names`, warnings };
  }
  if (result.outcome === 'error') {
    warnings.push(apacheLogLine('warn', 'aa_change_hatv call failed', result.errno));
    const why = result.errno === 'ENOENT' || result.errno === 'ECHILD'
      ? `none of the ${candidates.length} names is a hat of ${policyProfile.name} (${result.errno}: ${result.reason})`
      : `${result.reason} (${result.errno})`;
    return { outcome: 'parent', hat: null, label: policyProfile.name, errno: result.errno, reason: `${why}; mod_apparmor fails open and the request runs in the parent profile ${policyProfile.name}`, warnings };
  }
  // Sanity check (logging only), as mod_apparmor does with aa_getcon after entering.
  if (result.mode === 'enforce' && context) {
    const hat = result.label.slice(result.label.indexOf('//') + 2);
    if (context.hatName !== undefined && hat !== context.hatName) {
      warnings.push(apacheLogLine('warn', `AAHatName '${context.hatName}' applies, but does not appear to be a hat in the apache apparmor policy`));
    } else if (context.hatName === undefined && context.defaultHatName !== undefined && hat !== context.defaultHatName && hat !== context.uri) {
      warnings.push(apacheLogLine('warn', `AADefaultHatName '${context.defaultHatName}' applies, but does not appear to be a hat in the apache apparmor policy`));
    }
  }
  const i = result.candidateIndex;
  const which = i === 0 ? 'the first candidate'
    : `candidate ${i + 1} of ${candidates.length}${candidates[i] === DEFAULT_URI_HAT ? ', the last resort' : ''}; ${i === 1 ? 'the first is not a hat' : `none of the ${i} before it is a hat`} of ${policyProfile.name}`;
  return { outcome: 'hat', hat: result.hat, label: result.label, candidateIndex: i, reason: `'${result.hat}' is a hat of ${policyProfile.name} (${which})`, warnings };
}
