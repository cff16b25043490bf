// Public surface of web/: Apache and PHP-FPM configuration semantics, the mod_apparmor hat vector and a
// kernel-like change_hat resolver.
export * from './hat-vector.js';
export * from './hat-resolver.js';
export * from './policy-trees.js';
export * from './file-system.js';
export { nodeFileSystem } from './node-file-system.js';
export * from './apache-config.js';
export * from './request-map.js';
export * from './fpm-config.js';
export * from './hat-report.js';
export * from './which-hat.js';
export * from './tenants.js';
