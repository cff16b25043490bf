// Public surface of the FastCGI client and the PHP-FPM launcher.
export * from './records.js';
export { FastCgiClient, FastCgiError, parseFastCgiAddress, type FastCgiAddress, type FastCgiClientOptions, type FastCgiExchange } from './client.js';
