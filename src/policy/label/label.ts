// Labels: the names the kernel, change_hat and the tools give a confinement context. One type, one
// parser and one printer for every layer (the log reader, the confinement backends, serve, the CLI):
//   apache2                      a profile
//   apache2//www.example.com     a hat (or child) of apache2; a//child//hat nests further
//   apache2//null-/usr/bin/x     a learning label (complain mode made it up: null-…)
//   :ns:apache2                  a profile in policy namespace ns (the kernel also writes :ns://apache2)
//   a//&b                        a stack: confined by a and by b at once
// A profile name may itself hold `//` (a child named by path, `/usr/bin/a///usr/bin/b`): it splits
// where the kernel's separator is, `//` followed by the next name.

export interface Label {
  /** The label as written (or as printed, for labels built here). */
  readonly text: string;
  /** Profile, then hats/children: `apache2//www.example.com` → ['apache2', 'www.example.com']. For a stack, of the first member. */
  readonly path: readonly string[];
  /** Policy namespace (`:ns:`), when the label names one. */
  readonly namespace?: string;
  /** Every member of a stack `a//&b`, including the first; absent when not stacked. */
  readonly stack?: readonly Label[];
  /** True for complain-mode learning labels (any path element starting `null-`). */
  readonly learning: boolean;
}

const STACK = '//&';

/** Parse any label text; never throws (every string is some label). */
export function parseLabel(text: string): Label {
  const members = text.includes(STACK) ? text.split(STACK) : undefined;
  if (members && members.length > 1) {
    const stack = members.map(single);
    const first = stack[0]!;
    return {
      text,
      path: first.path,
      ...(first.namespace !== undefined ? { namespace: first.namespace } : {}),
      stack,
      learning: stack.some((s) => s.learning),
    };
  }
  return single(text);
}

function single(text: string): Label {
  let rest = text;
  let namespace: string | undefined;
  if (rest.startsWith(':')) {
    const close = rest.indexOf(':', 1);
    if (close > 0) {
      namespace = rest.slice(1, close);
      rest = rest.slice(close + 1);
      if (rest.startsWith('//')) rest = rest.slice(2);
    }
  }
  const path = rest === '' ? [] : rest.split('//');
  const learning = path.some((p) => p.startsWith('null-'));
  return namespace !== undefined ? { text, path, namespace, learning } : { text, path, learning };
}

/** The canonical text of a label: `:ns:` (when namespaced), the path joined by `//`, stack members by `//&`. */
export function printLabel(label: Pick<Label, 'path' | 'namespace' | 'stack'>): string {
  if (label.stack && label.stack.length > 1) return label.stack.map(printLabel).join(STACK);
  const path = label.path.join('//');
  return label.namespace !== undefined ? `:${label.namespace}:${path}` : path;
}

/** The label of a profile's hat (or of the profile itself when `hat` is null). */
export function makeLabel(profile: string, ...hats: readonly (string | null | undefined)[]): Label {
  const path = [profile, ...hats.filter((h): h is string => h !== null && h !== undefined)];
  const label = { path, learning: path.some((p) => p.startsWith('null-')) };
  return { ...label, text: printLabel(label) };
}

/** `profile//hat` (or `profile` when hat is null) as text: the everyday form of makeLabel. */
export function hatLabel(profile: string, hat: string | null): string {
  return makeLabel(profile, hat).text;
}

/** The hat/child part of a label's path, `//`-joined (`a//b//c` → 'b//c'), or undefined for a profile. */
export function hatOf(label: Label): string | undefined {
  return label.path.length > 1 ? label.path.slice(1).join('//') : undefined;
}

/**
 * A label that names a profile or one hat of it, as a command line or a confinement request takes
 * (`apache2`, `apache2//site`, `:ns:apache2`): no stack, no deeper nesting, no empty part.
 */
export function profileAndHat(label: Label): { readonly profile: string; readonly hat: string | null } | undefined {
  if (label.stack) return undefined;
  const [first, hat, ...deeper] = label.path;
  if (!first || hat === '' || deeper.length) return undefined;
  return { profile: printLabel({ path: [first], ...(label.namespace !== undefined ? { namespace: label.namespace } : {}) }), hat: hat ?? null };
}
