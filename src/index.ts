// hatter's library API. Each area's index.ts is its only public surface.
export * from './policy/index.js';
export * from './policy-node/index.js';
export * as logs from './logs-node/index.js';
export * as web from './web/index.js';
export * as confine from './confine/index.js';
export * as server from './server/index.js';
