// The host side: sites (hat + vhost + pool as file plans), status, modes. Pure plans; the CLI writes.
export * from './plan.js';
export * from './host-files.js';
export * from './site.js';
export * from './validate.js';
export * from './mode.js';
export * from './status.js';
export * from './hatter-layout.js';
