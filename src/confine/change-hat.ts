// The exact bytes hatter writes to /proc/<tid>/attr/{apparmor/,}current for change_hat and
// change_profile (hats-and-web.md §9). Kept byte-compatible with libapparmor so a kernel sees the
// same commands from hatter as from mod_apparmor or PHP-FPM. Refusals mirror libapparmor's checks.

/** libapparmor's PATH_MAX bound on one hat name. */
export const MAX_HAT_NAME = 4096;
/** The kernel accepts at most this many names in one vector. */
export const MAX_HAT_VECTOR = 16;

export type ChangeHatRefusal = { readonly errno: 'EINVAL' | 'EPROTO'; readonly reason: string };

/** The token as the kernel reads it: 16 lowercase, zero-padded hex digits. */
export function formatToken(token: bigint): string {
  return BigInt.asUintN(64, token).toString(16).padStart(16, '0');
}

/** `changehat <token>^h1\0h2\0…hN\0` (aa_change_hatv), or the return form `changehat <token>^\0` for null. */
export function changeHatVectorCommand(token: bigint, hats: readonly string[] | null): Buffer | ChangeHatRefusal {
  if (hats === null) {
    if (token === 0n) return { errno: 'EINVAL', reason: 'returning from a hat needs a non-zero token' };
    return Buffer.from(`changehat ${formatToken(token)}^\0`, 'utf8');
  }
  if (hats.length === 0) return { errno: 'EINVAL', reason: 'an empty hat vector' };
  if (hats.length > MAX_HAT_VECTOR) return { errno: 'EINVAL', reason: `more than ${MAX_HAT_VECTOR} hat names` };
  for (const hat of hats) {
    if (hat.length === 0 || hat.includes('\0')) return { errno: 'EINVAL', reason: 'a hat name is empty or contains NUL' };
    if (Buffer.byteLength(hat) > MAX_HAT_NAME) return { errno: 'EPROTO', reason: `a hat name is longer than ${MAX_HAT_NAME} bytes` };
  }
  return Buffer.from(`changehat ${formatToken(token)}^${hats.map((h) => `${h}\0`).join('')}`, 'utf8');
}

/** `changehat <token>^hat` (aa_change_hat with one name; no trailing NUL), or `changehat <token>^` to return. */
export function changeHatCommand(token: bigint, hat: string | null): Buffer | ChangeHatRefusal {
  if (hat === null) {
    if (token === 0n) return { errno: 'EINVAL', reason: 'returning from a hat needs a non-zero token' };
    return Buffer.from(`changehat ${formatToken(token)}^`, 'utf8');
  }
  if (Buffer.byteLength(hat) > MAX_HAT_NAME) return { errno: 'EPROTO', reason: `the hat name is longer than ${MAX_HAT_NAME} bytes` };
  return Buffer.from(`changehat ${formatToken(token)}^${hat}`, 'utf8');
}

/** `changeprofile <label>` (aa_change_profile: one-way, what PHP-FPM's apparmor_hat does). */
export function changeProfileCommand(label: string): Buffer {
  return Buffer.from(`changeprofile ${label}`, 'utf8');
}

/** A fresh random token; never 0 (the kernel accepts 0 for entering, but nobody can return from it). */
export function randomToken(random: (bytes: number) => Buffer): bigint {
  for (;;) {
    const token = random(8).readBigUInt64BE();
    if (token !== 0n) return token;
  }
}
