// --profile GLOB: `*` matches within one path element (not `/`), `**` across them, `?` one character.
// A glob that names a profile also selects its hats and children (`apache2` matches `apache2//site`).

export type LabelMatcher = (label: string) => boolean;

export function labelGlob(glob: string): LabelMatcher {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        source += '.*';
        i++;
      } else {
        source += '[^/]*';
      }
    } else if (c === '?') {
      source += '[^/]';
    } else {
      source += c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
    }
  }
  const pattern = new RegExp(`^(?:${source})(?://.*)?$`, 's');
  return (label) => pattern.test(label);
}
