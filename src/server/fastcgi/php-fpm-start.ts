// Starting the PHP-FPM masters of `phpFpm: true` sites, each confined like its site's workers. Kept out
// of the supervisor: how a master is confined differs per backend, and the supervisor only needs the
// masters' addresses and a way to stop them.
import type { SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { nodeRuntimeNeeds, socketNeed, type ConfinementBackend, type ConfinementRequest, type PreparedConfinement } from '../../confine/index.js';
import type { ServeConfig } from '../config.js';
import type { Router } from '../routing.js';
import { ServeError } from '../serve-error.js';
import { phpFpmRoutes, startPhpFpmSites, type PhpFpmSites } from './php-fpm-sites.js';
import { DEFAULT_PHP_FPM_BINARY, type PhpFpmOptions } from './php-fpm.js';

export interface PhpFpmStart {
  readonly backend: ConfinementBackend;
  readonly output: { info(line: string): void; warn(line: string): void };
  /** Prepare the policy's hat (null: the parent profile) with these runtime needs (diagnostics printed). */
  confine(hat: string | null, runtime: ConfinementRequest['runtime']): Promise<PreparedConfinement | undefined>;
}

/** Start one master per site that needs one, under `root`; throws ServeError when one does not start. */
export async function startSitesPhpFpm(config: ServeConfig, router: Router, root: string, start: PhpFpmStart): Promise<PhpFpmSites> {
  const routes = phpFpmRoutes(config, (index, uri) => router.routeUri(index, uri));
  let sites: PhpFpmSites;
  try {
    sites = await startPhpFpmSites(config, root, (site, runDir) => phpFpmConfinement(start, routes.get(site), site, runDir));
  } catch (error) {
    throw new ServeError('serve/php-fpm-failed', `cannot start PHP-FPM: ${(error as Error).message}`);
  }
  for (const [site, master] of sites.masters) start.output.info(`hatter serve: PHP-FPM for ${site} at ${master.address} (listening after ${(master.readyMs / 1000).toFixed(1)} s)`);
  return sites;
}

/**
 * How a site's PHP-FPM master runs. AppArmor: the master runs in the parent profile and FPM moves each
 * child into the hat itself (`apparmor_hat`, as mod_apparmor's users configure it); a supervisor
 * already in the parent profile starts it directly, any other (root loading the policy itself with
 * --load-policy, unconfined) through the launcher into the parent profile, since an unconfined
 * master's children cannot change_hat; either way its label is verified like a worker's.
 * Landlock: the master is started through the backend with the hat's ruleset plus what FPM needs to
 * run (its binary and libraries, /etc/php, its run directory), so the master and every child it forks
 * are confined; the supervisor verifies it like a worker. none: a plain spawn.
 */
export async function phpFpmConfinement(start: PhpFpmStart, route: { label: string; hat: string | null; others: string[] } | undefined, site: string, runDir: string): Promise<Partial<PhpFpmOptions>> {
  if (!route) return {};
  if (route.others.length) {
    start.output.warn(`warning: ${site}: PHP locations route to ${[route.label, ...route.others].join(', ')}; its one PHP-FPM master runs in ${route.label}`);
  }
  const backend = start.backend;
  // A root master switches its children to the pool's user and signals them (hatter runs it with -R).
  const capabilities = process.getuid?.() === 0 ? ['setuid', 'setgid', 'chown', 'kill'] : [];
  // With `none` on an AppArmor host, an unconfined master's children could not change_hat at all.
  if (backend.name === 'apparmor') {
    const parent = await start.confine(null, { read: [], write: [], exec: [], capabilities });
    if (!parent) throw new ServeError('serve/php-fpm-failed', `cannot confine the PHP-FPM master of ${site} to the parent profile`);
    // The launcher would need `change_profile -> PROFILE` to re-enter the profile it already runs in.
    const inParent = parent.summary['supervisor'] === parent.label;
    return {
      ...(route.hat === null ? {} : { apparmorHat: route.hat }),
      ...(inParent ? {} : { spawnMaster: (command: string, args: readonly string[], options: SpawnOptions) => backend.spawn(parent, command, args, options) }),
      verifyMaster: (pid) => backend.verify(parent, pid),
    };
  }
  if (backend.observes) {
    // serve --learn: the master and its children run under the recorder, their events labelled with the hat.
    const observed = await start.confine(route.hat, { read: [], write: [], exec: [] });
    if (!observed) throw new ServeError('serve/php-fpm-failed', `cannot record the PHP-FPM master of ${site} as ${route.label}`);
    start.output.info(`hatter serve: PHP-FPM for ${site} is recorded as ${route.label}`);
    return { spawnMaster: (command, args, options) => backend.spawn(observed, command, args, options) };
  }
  if (backend.name !== 'landlock') return {};
  // The ruleset is built from paths that exist now: the run directory must be there first.
  mkdirSync(runDir, { recursive: true });
  const needs = nodeRuntimeNeeds(process.env, DEFAULT_PHP_FPM_BINARY);
  const system = ['/etc/php', '/usr/share/php', '/etc/localtime', '/usr/share/zoneinfo', '/etc/passwd', '/etc/group', '/etc/nsswitch.conf', '/dev/urandom'].filter((path) => existsSync(path));
  const prepared = await start.confine(route.hat, { read: [...needs.read, ...system], write: [runDir, '/dev/null'], exec: needs.exec, capabilities, sockets: [socketNeed('unix', 'stream')] });
  if (!prepared) throw new ServeError('serve/php-fpm-failed', `cannot confine the PHP-FPM master of ${site} to ${route.label}`);
  start.output.info(`hatter serve: PHP-FPM for ${site} runs confined to ${route.label} (${backend.name})`);
  return {
    spawnMaster: (command, args, options) => backend.spawn(prepared, command, args, options),
    verifyMaster: (pid) => backend.verify(prepared, pid),
  };
}
