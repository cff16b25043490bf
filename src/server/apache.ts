// `hatter serve --apache FILE`: the same server model built from an Apache configuration through web's
// reader: each <VirtualHost> becomes a site (ServerName, ServerAlias, DocumentRoot, AADefaultHatName),
// each <Location>/<LocationMatch> (and each <Directory> under the DocumentRoot) with AAHatName a location.
// Handlers are static files from the DocumentRoot; the policy is Debian's apache2 profile when present.
import { existsSync } from 'node:fs';
import { dirname, relative, isAbsolute } from 'node:path';
import { hostFromServerName, nodeFileSystem, readApacheConfig, type ApacheServer } from '../web/index.js';
import type { Diagnostic } from '../policy/diagnostic.js';
import { DEFAULT_ADMIN, DEFAULT_FRONT, DEFAULT_LISTEN, DEFAULT_POOL, type LocationConfig, type ServeConfig, type SiteConfig } from './config.js';

export const APACHE_POLICY = '/etc/apparmor.d/usr.sbin.apache2';

function siteOf(server: ApacheServer, fallbackRoot: string | undefined, diagnostics: Diagnostic[]): SiteConfig | undefined {
  const documentRoot = server.documentRoot ?? fallbackRoot;
  const serverName = server.serverName ? hostFromServerName(server.serverName).toLowerCase() : undefined;
  if (!serverName || !documentRoot) {
    diagnostics.push({ ...server.location, severity: 'warning', code: 'serve-apache/incomplete-vhost', message: `this virtual host has no ${serverName ? 'DocumentRoot' : 'ServerName'}; hatter serve skips it` });
    return undefined;
  }
  const locations: LocationConfig[] = [];
  for (const section of [...server.sections].sort((a, b) => a.order - b.order)) {
    if (section.hatName === undefined) continue;
    if (section.kind === 'Location' || section.kind === 'LocationMatch') {
      locations.push(section.isRegex ? { match: { kind: 'regex', pattern: section.pattern }, hat: section.hatName } : { match: { kind: 'prefix', prefix: section.pattern }, hat: section.hatName });
    } else if (section.kind === 'Directory' && !section.isRegex && isAbsolute(section.pattern)) {
      const inside = relative(documentRoot, section.pattern);
      if (inside.startsWith('..') || isAbsolute(inside)) {
        diagnostics.push({ ...section.location, severity: 'warning', code: 'serve-apache/directory-outside-root', message: `<Directory ${section.pattern}> with AAHatName is outside DocumentRoot ${documentRoot}; hatter serve cannot map it to URIs` });
        continue;
      }
      locations.push({ match: { kind: 'prefix', prefix: `/${inside}`.replace(/\/$/, '') || '/' }, hat: section.hatName });
    } else {
      diagnostics.push({ ...section.location, severity: 'warning', code: 'serve-apache/unsupported-section', message: `<${section.kind}> with AAHatName is not mapped by hatter serve (only <Location>, <LocationMatch> and <Directory> under the DocumentRoot)` });
    }
  }
  return {
    serverName,
    aliases: server.serverAliases.map((a) => a.toLowerCase()),
    documentRoot,
    ...(server.defaultHatName !== undefined ? { defaultHat: server.defaultHatName } : {}),
    handler: { type: 'static', root: documentRoot },
    locations,
  };
}

export async function loadApacheServeConfig(file: string): Promise<{ config?: ServeConfig; diagnostics: readonly Diagnostic[] }> {
  const read = readApacheConfig(file, { fs: nodeFileSystem() });
  const diagnostics: Diagnostic[] = [...read.diagnostics];
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  const sites: SiteConfig[] = [];
  for (const vhost of read.config.vhosts) {
    const site = siteOf(vhost, read.config.main.documentRoot, diagnostics);
    if (site) sites.push(site);
  }
  if (sites.length === 0) {
    const main = siteOf({ ...read.config.main, serverName: read.config.main.serverName ?? 'localhost' }, undefined, diagnostics);
    if (main) sites.push(main);
  }
  if (sites.length === 0) {
    diagnostics.push({ file, line: 1, col: 1, severity: 'error', code: 'serve-apache/no-sites', message: 'no virtual host with a ServerName and DocumentRoot' });
    return { diagnostics };
  }
  const policyFile = existsSync(APACHE_POLICY) ? APACHE_POLICY : undefined;
  return {
    config: {
      source: file,
      configDir: dirname(file),
      listen: [DEFAULT_LISTEN],
      admin: DEFAULT_ADMIN,
      policy: { profile: 'apache2', ...(policyFile ? { file: policyFile } : {}) },
      backend: 'auto',
      hatOrder: 'current',
      front: DEFAULT_FRONT,
      pool: DEFAULT_POOL,
      accessLog: 'stdout',
      drainTimeoutMs: 10_000,
      sites,
    },
    diagnostics,
  };
}
