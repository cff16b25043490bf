// Learning profiles that take a real profile's place in the kernel. In complain mode, a change_profile to
// a missing `P//HAT` (PHP-FPM's apparmor_hat) makes the kernel create the learning profile
// `P//null-P//HAT` as a child of P. The kernel names a profile by the part after its last `//`, so that
// child is, to the kernel, P's child `HAT`: when the learned policy later defines `^HAT`,
// `apparmor_parser -r` *replaces* the learning profile in place instead of loading the hat, the hat
// keeps the learning name, and `change_profile -> P//*` no longer matches the target (every pool worker
// is denied and exits 70). Seen on Debian's 6.1 kernel (test/kernel/learn.test.ts). Removing `P//HAT`
// first (securityfs `.remove`) removes the learning profile, and the reload then loads the real hat.

/**
 * The kernel names to remove before loading a policy that defines `defined`: for each loaded learning
 * profile (`A//…//null-…//NAME`, with more after its `null-` element), the name the kernel knows it by
 * (`A//…//NAME`: its parent's path, then its last element), when the policy defines that name.
 */
export function shadowingLearningProfiles(loaded: Iterable<string>, defined: Iterable<string>): { readonly remove: string; readonly learning: string }[] {
  const wanted = new Set(defined);
  const out: { remove: string; learning: string }[] = [];
  const seen = new Set<string>();
  for (const name of loaded) {
    const path = name.split('//');
    const first = path.findIndex((p) => p.startsWith('null-'));
    // a learning element followed by more elements: the rest of a change_profile target, not a child
    if (first <= 0 || first === path.length - 1) continue;
    // nested learning (an exec inside a learning profile) goes with its parent's removal
    if (path.slice(first + 1).some((p) => p.startsWith('null-'))) continue;
    const kernelName = [...path.slice(0, first), path[path.length - 1]!].join('//');
    if (!wanted.has(kernelName) || seen.has(kernelName)) continue;
    seen.add(kernelName);
    out.push({ remove: kernelName, learning: name });
  }
  return out;
}
