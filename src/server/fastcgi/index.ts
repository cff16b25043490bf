// Public surface of the FastCGI client and the PHP-FPM launcher.
export * from './records.js';
export { FastCgiClient, FastCgiError, parseFastCgiAddress, type FastCgiAddress, type FastCgiClientOptions, type FastCgiExchange, type FastCgiSink, type FastCgiCall } from './client.js';
export {
  startPhpFpm, killMasterAndChildren, phpFpmConfig, phpFpmPaths, appArmorActive, poolName, PhpFpmError, DEFAULT_PHP_FPM_BINARY,
  type PhpFpmOptions, type PhpFpmMaster, type PhpFpmPaths,
} from './php-fpm.js';
export { wantsPhpFpm, fpmChildrenFor, fpmConnectionsPerWorker, siteFpmChildren, sitesNeedingPhpFpm, withPhpFpmAddresses, startPhpFpmSites, phpFpmRoutes, type PhpFpmSites } from './php-fpm-sites.js';
export { startSitesPhpFpm, phpFpmConfinement, type PhpFpmStart } from './php-fpm-start.js';
export { createPhpFpmRoot, sweepStalePhpFpm, PHP_FPM_ROOT_PREFIX, type StaleRoot } from './stale-masters.js';
