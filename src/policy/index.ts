// The AppArmor policy language: pure functions over text and data (no I/O except a FileReader).
export * from './diagnostic.js';
export * from './syntax/index.js';
export * from './model/index.js';
export * from './format/index.js';
export * from './resolve/index.js';
export * from './check/index.js';
export * from './aare/index.js';
export * from './eval/index.js';
