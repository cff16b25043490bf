// `which-hat --report`: for each server and each AAHatName section, where requests can land; configured
// names the policy lacks; hats no request can reach. In the current vector order, or 2.8.95's.
import type { ApacheConfig, ApacheSection, ApacheServer } from './apache-config.js';
import { DEFAULT_URI_HAT, UNTRUSTED_INPUT_HAT, type HatOrder } from './hat-vector.js';
import type { ProfileTree } from './hat-resolver.js';
import { effectiveServerName, type MapOptions } from './request-map.js';

export interface ServerHatReport {
  /** 'main' or the <VirtualHost> position (file:line). */
  readonly vhost: string;
  readonly serverName: string;
  readonly defaultHatName?: string;
  /** Where requests that no AAHatName covers can land (labels, `parent (…)`, or a learning hat). */
  readonly defaultLanding: readonly string[];
  readonly sections: readonly { readonly section: string; readonly hatName: string; readonly at: string; readonly landing: readonly string[] }[];
}

export interface MissingHatName {
  readonly name: string;
  readonly directive: string;
  readonly at: string;
  readonly note?: string;
}

export interface ApacheHatReport {
  readonly servers: readonly ServerHatReport[];
  readonly missing: readonly MissingHatName[];
  readonly deadHats: readonly string[];
}

function allSections(sections: readonly ApacheSection[]): ApacheSection[] {
  return sections.flatMap((s) => [s, ...allSections(s.nested)]);
}

export function reportApacheHats(config: ApacheConfig, profile: ProfileTree, options: MapOptions & { readonly order?: HatOrder } = {}): ApacheHatReport {
  const order = options.order ?? 'current';
  const hats = new Map(profile.children.filter((c) => c.isHat).map((c) => [c.baseName, c]));
  const nonHats = new Set(profile.children.filter((c) => !c.isHat).map((c) => c.baseName));
  const complain = profile.mode === 'complain';
  const parent = `parent (${profile.name})`;
  const reachable = new Set<string>([UNTRUSTED_INPUT_HAT]);

  const uriHats = (prefix: string): string[] => {
    const out: string[] = [];
    for (const [name, hat] of hats) {
      if (name.startsWith(prefix)) {
        reachable.add(name);
        out.push(`${hat.name} (for matching URIs)`);
      }
    }
    return out;
  };
  const lastResort = (): string[] => {
    if (!hats.has(DEFAULT_URI_HAT)) return [parent];
    reachable.add(DEFAULT_URI_HAT);
    return [hats.get(DEFAULT_URI_HAT)!.name];
  };

  const defaultLanding = (server: ApacheServer): string[] => {
    const serverName = effectiveServerName(config, server, options);
    const first = server.defaultHatName ?? serverName;
    if (order === '2.8.95') {
      // URI, then the default-or-ServerName, then DEFAULT_URI; complain mode stops at the URI.
      if (complain) return [...uriHats('/'), `${profile.name}//null-<URI> (learning, for other URIs)`];
      const out = uriHats('/');
      if (hats.has(first)) {
        reachable.add(first);
        return [...out, hats.get(first)!.name];
      }
      if (nonHats.has(first)) return [...out, `${parent}: '${first}' is a child profile, not a hat`];
      return [...out, ...lastResort()];
    }
    if (hats.has(first)) {
      reachable.add(first);
      return [hats.get(first)!.name];
    }
    if (complain) return [`${profile.name}//null-${first} (learning)`];
    if (nonHats.has(first)) return [`${parent}: '${first}' is a child profile, not a hat`];
    return [...uriHats(`${serverName}-/`), ...uriHats('/'), ...lastResort()];
  };

  const servers: ServerHatReport[] = [];
  const missing: MissingHatName[] = [];
  const mainSections = allSections(config.main.sections).filter((s) => s.hatName !== undefined);
  const noteFor = (name: string): string | undefined => (nonHats.has(name) ? 'a child profile, not a hat: change_hat refuses it (EPERM)' : undefined);
  for (const s of mainSections) {
    if (!hats.has(s.hatName!)) missing.push({ name: s.hatName!, directive: s.hatDirective ?? 'AAHatName', at: `${s.location.file}:${s.location.line}`, ...(noteFor(s.hatName!) ? { note: noteFor(s.hatName!)! } : {}) });
  }
  for (const server of [config.main, ...config.vhosts]) {
    const land = defaultLanding(server);
    const own = allSections(server.sections).filter((s) => s.hatName !== undefined);
    const applicable = server.isMain ? own : [...mainSections, ...own];
    if (!server.isMain) {
      for (const s of own) {
        if (!hats.has(s.hatName!)) missing.push({ name: s.hatName!, directive: s.hatDirective ?? 'AAHatName', at: `${s.location.file}:${s.location.line}`, ...(noteFor(s.hatName!) ? { note: noteFor(s.hatName!)! } : {}) });
      }
    }
    if (server.defaultHatName !== undefined && !hats.has(server.defaultHatName)) {
      const at = server.defaultHatLocation ? `${server.defaultHatLocation.file}:${server.defaultHatLocation.line}` : `${server.location.file}:${server.location.line}`;
      missing.push({ name: server.defaultHatName, directive: server.defaultHatDirective ?? 'AADefaultHatName', at, ...(noteFor(server.defaultHatName) ? { note: noteFor(server.defaultHatName)! } : {}) });
    }
    servers.push({
      vhost: server.isMain ? 'main' : `${server.location.file}:${server.location.line}`,
      serverName: effectiveServerName(config, server, options),
      ...(server.defaultHatName !== undefined ? { defaultHatName: server.defaultHatName } : {}),
      defaultLanding: land,
      sections: applicable.map((s) => {
        const name = s.hatName!;
        let landing: string[];
        if (hats.has(name)) {
          reachable.add(name);
          landing = [hats.get(name)!.name];
        } else if (complain) landing = [`${profile.name}//null-${name} (learning)`];
        else if (nonHats.has(name)) landing = [`${parent}: '${name}' is a child profile, not a hat`];
        else landing = land;
        return { section: `<${s.kind} ${s.pattern}>`, hatName: name, at: `${s.location.file}:${s.location.line}`, landing };
      }),
    });
  }
  const deadHats = [...hats.values()].filter((h) => !reachable.has(h.baseName)).map((h) => h.name);
  return { servers, missing, deadHats };
}
