// File permission strings (`rw`, `mrix`, `Px`, `rPUx`) parsed into a permission set and an exec mode,
// with apparmor_parser's rules (policy-language.md §5 "File perms", §6).

export type FilePermission = 'r' | 'w' | 'a' | 'l' | 'k' | 'm' | 'x';

/** How an exec transitions (policy-language.md §6). `deny` is the bare `x` of a deny rule. */
export type ExecTransition = 'inherit' | 'profile' | 'child' | 'unconfined' | 'deny';

export interface ExecMode {
  readonly transition: ExecTransition;
  /** What happens when a px/cx target does not exist: `pix` → inherit, `pux` → unconfined. */
  readonly fallback?: 'inherit' | 'unconfined';
  /** Safe (uppercase, environment scrubbed) or unsafe. Always false for inherit and deny. */
  readonly safe: boolean;
  /** The letters as written, e.g. `Pix`. */
  readonly text: string;
}

export interface ParsedFileMode {
  readonly permissions: ReadonlySet<FilePermission>;
  readonly exec?: ExecMode;
  /** Deprecated uppercase letters seen (`R`, `W`, …), for warnings. */
  readonly deprecated: readonly string[];
}

export interface ModeProblem {
  readonly code: string;
  readonly message: string;
}

const SIMPLE: Readonly<Record<string, FilePermission>> = { r: 'r', w: 'w', a: 'a', l: 'l', k: 'k', m: 'm' };
const DEPRECATED_UPPER: Readonly<Record<string, FilePermission>> = { R: 'r', W: 'w', L: 'l', M: 'm' };

/** True when `text` consists only of permission and exec letters (a mode token, §1). */
export function looksLikeMode(text: string): boolean {
  return /^[RrWwaLlMmkXxPpCcIiUu]+$/.test(text);
}

/**
 * Parse a file mode. `isDeny` changes the exec rules: deny rules take bare `x` and reject qualifiers.
 * `safety` is the leading `safe`/`unsafe` keyword, which forces the variant of p/c/u modes.
 */
export function parseFileMode(text: string, isDeny: boolean, safety?: 'safe' | 'unsafe'): ParsedFileMode | ModeProblem {
  const permissions = new Set<FilePermission>();
  const deprecated: string[] = [];
  let exec: ExecMode | undefined;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (SIMPLE[ch]) { permissions.add(SIMPLE[ch]!); i++; continue; }
    if (DEPRECATED_UPPER[ch]) { permissions.add(DEPRECATED_UPPER[ch]!); deprecated.push(ch); i++; continue; }
    // An exec group: [PpCc]?[IiUu]?[Xx], or a lone X (deprecated spelling of x).
    const match = /^([PpCc]?)([IiUu]?)([Xx])/.exec(text.slice(i));
    if (!match) {
      const letter = ch;
      if (/[PpCcIiUu]/.test(letter)) {
        return { code: 'resolve/exec-qualifier-without-x', message: `exec qualifier '${letter}' in '${text}' must be followed by 'x'` };
      }
      return { code: 'resolve/unknown-permission', message: `'${letter}' is not a file permission (in '${text}'); known letters are r w a l k m and exec modes like ix px cx ux` };
    }
    const [group, main, fallback, x] = match as unknown as [string, string, string, string];
    const previous = exec;
    if (x === 'X') deprecated.push('X');
    if (!main && !fallback) {
      if (!isDeny) {
        return { code: 'resolve/bare-exec', message: `'x' in '${text}' must be preceded by an exec qualifier (ix, px, cx, ux, pix, …) in allow rules` };
      }
      exec = { transition: 'deny', safe: false, text: group };
    } else {
      if (isDeny) {
        return { code: 'resolve/qualified-exec-in-deny', message: `in deny rules 'x' must not be preceded by an exec qualifier ('${group}' in '${text}'); write 'deny PATH x,'` };
      }
      const letter = main || fallback;
      const transition: ExecTransition = /[Pp]/.test(letter) ? 'profile' : /[Cc]/.test(letter) ? 'child' : /[Uu]/.test(letter) ? 'unconfined' : 'inherit';
      let safe = transition !== 'inherit' && letter === letter.toUpperCase();
      if (safety && transition !== 'inherit') safe = safety === 'safe';
      exec = {
        transition,
        ...(main && fallback ? { fallback: /[Ii]/.test(fallback) ? 'inherit' as const : 'unconfined' as const } : {}),
        safe,
        text: group,
      };
    }
    if (previous && !(exec && sameExec(previous, undefined, exec, undefined))) {
      return { code: 'resolve/multiple-exec-modes', message: `'${text}' gives conflicting exec modes (${previous.text} and ${group}); a rule can have only one` };
    }
    permissions.add('x');
    i += group.length;
  }
  if (permissions.has('w') && permissions.has('a')) {
    return { code: 'resolve/write-and-append', message: `'${text}': 'a' (append) and 'w' (write) are mutually exclusive; 'w' already allows appending` };
  }
  return { permissions, ...(exec ? { exec } : {}), deprecated };
}

/** Two exec modes conflict unless transition, fallback, safety and target all agree. */
export function sameExec(a: ExecMode, aTarget: string | undefined, b: ExecMode, bTarget: string | undefined): boolean {
  return a.transition === b.transition && a.fallback === b.fallback && a.safe === b.safe && (aTarget ?? '') === (bTarget ?? '');
}
