// Finding a profile, hat or child by its label: the one lookup the CLI, the server, the confinement
// backends and the request map share. Generic over the shape so projections of the resolved policy
// (web's ProfileTree) find exactly what the resolved policy would.

interface Named<T> {
  readonly name: string;
  readonly attachment?: string;
  readonly children: readonly T[];
}

/**
 * The profile a label names: `apache2`, `apache2//DEFAULT_URI`, `a//child//hat`. A top-level profile
 * may also be named by its attachment (`/usr/sbin/apache2//DEFAULT_URI`), as `aa-exec` and change_hat
 * users often write it. Names that themselves hold `//` (`/usr/bin/a///usr/bin/b`) are matched whole.
 */
export function findProfile<T extends Named<T>>(profiles: readonly T[], label: string): T | undefined {
  const byName = findByName(profiles, label);
  if (byName) return byName;
  for (const profile of profiles) {
    const attachment = profile.attachment;
    if (attachment === undefined) continue;
    if (label === attachment) return profile;
    if (label.startsWith(`${attachment}//`)) {
      const found = findByName(profile.children, profile.name + label.slice(attachment.length));
      if (found) return found;
    }
  }
  return undefined;
}

function findByName<T extends Named<T>>(profiles: readonly T[], label: string): T | undefined {
  for (const profile of profiles) {
    if (profile.name === label) return profile;
    if (label.startsWith(`${profile.name}//`)) {
      const found = findByName(profile.children, label);
      if (found) return found;
    }
  }
  return undefined;
}

/** Every profile, hat and child, outermost first (depth-first, in source order). */
export function allProfiles<T extends Named<T>>(profiles: readonly T[]): T[] {
  const out: T[] = [];
  const walk = (list: readonly T[]) => { for (const p of list) { out.push(p); walk(p.children); } };
  walk(profiles);
  return out;
}
