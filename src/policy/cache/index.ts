// The compile cache's pure parts: where entries are kept (an interface; the disk store is the CLI's)
// and how data and automata are encoded. A folder of its own so that the CLI's warm path loads this
// and not the whole policy toolkit.
export * from './blob-store.js';
export { decodeData, encodeData } from './codec.js';
