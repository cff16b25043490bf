// Public surface of server: hatter serve's configuration, routing, request-head parser and processes.
export type { Handler, HandlerConfig, HandlerContext, CreateHandler, HandlerType } from './handler.js';
export { HANDLER_TYPES } from './handler.js';
export {
  parseServeConfig, parseListenAddress, formatListenAddress, nearestName, BACKEND_CHOICES, DEFAULT_POOL, DEFAULT_FRONT, DEFAULT_LISTEN, DEFAULT_ADMIN,
  DEFAULT_PHP_FPM, MAX_PHP_FPM_START_TIMEOUT_MS, type PhpFpmSettings,
  type ServeConfig, type SiteConfig, type LocationConfig, type LocationMatch, type PoolSettings, type FrontSettings, type ListenAddress, type BackendChoice, type FrontMode,
} from './config.js';
export { parseRequestHead, type RequestHead, type HeadVerdict, type HeadLimits } from './http-head.js';
export { Router, chooserFromHats, configuredHats, normalizeUriPath, prefixMatches, type Route, type HatChooser } from './routing.js';
export { loadPolicyHats, hatChooser, type PolicyHats } from './policy-hats.js';
export { Supervisor, ServeError, type SupervisorOptions, type SupervisorOutput } from './supervisor.js';
export { Pool, type PoolWorker, type WorkerState } from './pool.js';
export {
  demoConfigPath, loadConfigFile, prepareServe, selectBackend, startServer, applyOverrides, concreteDemoPolicy, detectDemoHost, withoutPhpFpmLocations,
  type DemoHost, type ServeOverrides, type PreparedServe, type RunningServer,
} from './serve.js';
export { loadApacheServeConfig } from './apache.js';
export { sitesNeedingPhpFpm } from './fastcgi/index.js';
export { tenantsFromServeConfig } from './tenants.js';
