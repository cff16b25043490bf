// --profile GLOB: `*` matches within one path element (not `/`), `**` across them, `?` one character.
// A glob that names a profile also selects its hats and children (`apache2` matches `apache2//site`).
//
// Matching simulates the glob's automaton (one state per glob position) over the label, a set of
// states at a time: O(glob length × label length) for any glob. A backtracking matcher (or a regular
// expression built from the glob) is exponential in the number of `*` on labels that almost match.

export type LabelMatcher = (label: string) => boolean;

const enum Kind { Literal, AnyChar, Star, DoubleStar }

interface Step {
  readonly kind: Kind;
  /** The character of a Literal step. */
  readonly char: string;
}

/** The glob as steps; runs of stars collapse (`***` is `**`, as the old regex read it: `**` then `*`). */
function compile(glob: string): Step[] {
  const steps: Step[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      const double = glob[i + 1] === '*';
      if (double) i++;
      const kind = double ? Kind.DoubleStar : Kind.Star;
      const last = steps.at(-1);
      // `**` next to `*` or `**` matches what the `**` alone matches; `* *` is `*`.
      if (last && (last.kind === Kind.DoubleStar || last.kind === Kind.Star)) {
        if (kind === Kind.DoubleStar && last.kind === Kind.Star) steps[steps.length - 1] = { kind, char: '' };
        continue;
      }
      steps.push({ kind, char: '' });
    } else if (c === '?') {
      steps.push({ kind: Kind.AnyChar, char: '' });
    } else {
      steps.push({ kind: Kind.Literal, char: c });
    }
  }
  return steps;
}

/**
 * Whether `steps` match all of `text` from `from`, or (with `hatsToo`) a prefix of it that is followed
 * by `//` (the label's hats and children). One pass over the text with a boolean state set.
 */
function run(steps: readonly Step[], text: string, hatsToo: boolean): boolean {
  const n = steps.length;
  let current = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  // The states reachable without reading a character: a star may match nothing.
  const close = (set: Uint8Array): void => {
    for (let s = 0; s < n; s++) {
      if (set[s] && (steps[s]!.kind === Kind.Star || steps[s]!.kind === Kind.DoubleStar)) set[s + 1] = 1;
    }
  };
  current[0] = 1;
  close(current);
  for (let i = 0; i < text.length; i++) {
    if (current[n] && hatsToo && text.startsWith('//', i)) return true;
    const c = text[i]!;
    next.fill(0);
    let any = false;
    for (let s = 0; s < n; s++) {
      if (!current[s]) continue;
      const step = steps[s]!;
      switch (step.kind) {
        case Kind.Literal: if (step.char === c) { next[s + 1] = 1; any = true; } break;
        case Kind.AnyChar: if (c !== '/') { next[s + 1] = 1; any = true; } break;
        case Kind.Star: if (c !== '/') { next[s] = 1; any = true; } break;
        case Kind.DoubleStar: next[s] = 1; any = true; break;
      }
    }
    if (!any) return false;
    close(next);
    [current, next] = [next, current];
  }
  return current[n] === 1;
}

export function labelGlob(glob: string): LabelMatcher {
  const steps = compile(glob);
  return (label) => run(steps, label, true);
}
