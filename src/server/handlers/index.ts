// Public surface of the request handlers that run inside hatter serve's confined workers.
import type { CreateHandler, Handler, HandlerConfig } from '../handler.js';
import { CgiHandler } from './cgi.js';
import { FastCgiHandler } from './fastcgi.js';
import { NodeHandler } from './node.js';
import { StaticHandler } from './static.js';

export { CgiHandler, DEFAULT_CGI_TIMEOUT_MS, type CgiHandlerOptions } from './cgi.js';
export { FastCgiHandler, DEFAULT_FASTCGI_TIMEOUT_MS, type FastCgiHandlerOptions } from './fastcgi.js';
export { NodeHandler, fetchHandlerOf, toWebRequest, sendWebResponse, type FetchHandler, type NodeHandlerOptions } from './node.js';
export { StaticHandler, type StaticHandlerOptions } from './static.js';
export { contentTypeFor } from './mime.js';
export { installDeferredBodyResponse } from './node-response.js';
export { cgiEnvironment, type CgiRequest, type CgiScript } from './cgi-environment.js';
export { parseCgiHead, CgiHeadReader, CgiResponseError, type CgiResponseHead } from './cgi-response.js';
export { nodeResponseWriter, safeReason } from './response-writer.js';
export { evaluatePreconditions, parseRange, validatorsFor, type ByteRange, type RangeRequest } from './conditional.js';

/** Build the handler a location's configuration names; relative paths resolve against `configDir`. */
export const createHandler: CreateHandler = (config: HandlerConfig, configDir: string): Handler => {
  switch (config.type) {
    case 'static': return new StaticHandler(config, configDir);
    case 'node': return new NodeHandler(config, configDir);
    case 'cgi': return new CgiHandler(config, configDir);
    case 'fastcgi': return new FastCgiHandler(config, configDir);
  }
};
