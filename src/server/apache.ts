// `hatter serve --apache FILE`: the same server model built from an Apache configuration through web's
// reader: each <VirtualHost> becomes a site (ServerName, ServerAlias, DocumentRoot, AADefaultHatName)
// that keeps its sections, so routing merges <Directory>, <Files> and <Location> (wildcards, regexes)
// exactly as `hatter which-hat` does. Handlers are static files from the DocumentRoot; the policy is
// Debian's apache2 profile when present.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostFromServerName, nodeFileSystem, readApacheConfig, type ApacheConfig, type ApacheServer } from '../web/index.js';
import type { Diagnostic } from '../policy/index.js';
import { DEFAULT_ADMIN, DEFAULT_FRONT, DEFAULT_LISTEN, DEFAULT_PHP_FPM, DEFAULT_POOL, type ServeConfig, type SiteConfig } from './config.js';

export const APACHE_POLICY = '/etc/apparmor.d/usr.sbin.apache2';

function siteOf(server: ApacheServer, main: ApacheServer, fallbackRoot: string | undefined, diagnostics: Diagnostic[]): SiteConfig | undefined {
  const documentRoot = server.documentRoot ?? fallbackRoot;
  // A vhost without ServerName inherits the main server's, as in httpd.
  const name = server.serverName ?? main.serverName;
  const serverName = name ? hostFromServerName(name).toLowerCase() : undefined;
  if (!serverName || !documentRoot) {
    diagnostics.push({ ...server.location, severity: 'warning', code: 'serve-apache/incomplete-vhost', message: `this virtual host has no ${serverName ? 'DocumentRoot' : 'ServerName'}; hatter serve skips it` });
    return undefined;
  }
  return {
    serverName,
    aliases: server.serverAliases.map((a) => a.toLowerCase()),
    documentRoot,
    ...(server.defaultHatName !== undefined ? { defaultHat: server.defaultHatName } : {}),
    handler: { type: 'static', root: documentRoot },
    locations: [],
    // Routing merges these sections (and the aliases) with web's request map, as which-hat does.
    apache: { main, vhost: server.isMain ? { ...server, serverName } : server },
  };
}

/**
 * The sites of an Apache configuration: every <VirtualHost> with a ServerName (its own or the main
 * server's) and a DocumentRoot, in file order; without any, the main server. Pure.
 */
export function apacheSites(config: ApacheConfig, diagnostics: Diagnostic[]): SiteConfig[] {
  const sites: SiteConfig[] = [];
  for (const vhost of config.vhosts) {
    const site = siteOf(vhost, config.main, config.main.documentRoot, diagnostics);
    if (site) sites.push(site);
  }
  if (sites.length === 0) {
    const main = siteOf({ ...config.main, serverName: config.main.serverName ?? 'localhost' }, config.main, undefined, diagnostics);
    if (main) sites.push(main);
  }
  return sites;
}

export async function loadApacheServeConfig(file: string): Promise<{ config?: ServeConfig; diagnostics: readonly Diagnostic[] }> {
  const read = readApacheConfig(file, { fs: nodeFileSystem() });
  const diagnostics: Diagnostic[] = [...read.diagnostics];
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  const sites = apacheSites(read.config, diagnostics);
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
      phpFpm: DEFAULT_PHP_FPM,
      sites,
    },
    diagnostics,
  };
}
