// The policy toolkit's Node edge: what reads the real file system on the policy's behalf.
export { nodeFileReader } from './file-reader.js';
