// Binding the listening sockets. The supervisor binds (so a busy port is reported before anything
// starts, and reloads and front restarts keep the same sockets) but does not listen: the front does,
// on the raw handle it receives. Creating a bound, unlistened handle needs Node's internal
// net._createServerHandle (as Node's cluster does); it is kept here, in one place.
import { lookup } from 'node:dns/promises';
import * as net from 'node:net';
import { constants } from 'node:os';
import { formatListenAddress, type ListenAddress } from './config.js';
import type { RawHandle } from './handles.js';
import { ServeError } from './serve-error.js';

/** The local port of a bound handle (undefined: unknown). */
export function portOf(handle: RawHandle): number | undefined {
  const out: { port?: number } = {};
  const error = (handle as unknown as { getsockname(out: object): number }).getsockname(out);
  return error ? undefined : out.port;
}

/** Bind (but do not listen: the front does) a TCP socket; a busy port is a ServeError. */
export async function bindAddress(address: ListenAddress): Promise<RawHandle> {
  let ip = address.host;
  let family = net.isIP(ip);
  if (family === 0) {
    try {
      const found = await lookup(ip);
      ip = found.address;
      family = found.family;
    } catch {
      throw new ServeError('serve/unresolvable-host', `cannot resolve listen host '${address.host}'`);
    }
  }
  // bind() succeeds on a port another server listens on (SO_REUSEADDR); only listen() fails. Probe
  // with a real listen first so a busy port is reported here, before anything starts.
  if (address.port !== 0) {
    const probe = net.createServer();
    const failure = await new Promise<string | null>((done) => {
      probe.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
      probe.listen({ host: ip, port: address.port, exclusive: true }, () => done(null));
    });
    if (failure) throw listenError(address, failure);
    await new Promise<void>((done) => probe.close(() => done()));
  }
  const createServerHandle = (net as unknown as { _createServerHandle(address: string, port: number, addressType: number, fd?: number, flags?: number): RawHandle | number })._createServerHandle;
  const handle = createServerHandle(ip, address.port, family);
  if (typeof handle === 'number') throw listenError(address, errnoName(handle));
  return handle;
}

export function listenError(address: ListenAddress, code: string): ServeError {
  const where = formatListenAddress(address);
  if (code === 'EADDRINUSE') return new ServeError('serve/address-in-use', `${where} is already in use (another server listens there); choose another with --listen HOST:PORT`);
  if (code === 'EACCES') return new ServeError('serve/address-denied', `not allowed to listen on ${where} (ports below 1024 need privileges)`);
  if (code === 'EADDRNOTAVAIL') return new ServeError('serve/address-unavailable', `${where}: no such local address`);
  return new ServeError('serve/bind-failed', `cannot listen on ${where}: ${code}`);
}

function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(constants.errno)) if (-value === errno) return name;
  return `errno ${errno}`;
}
