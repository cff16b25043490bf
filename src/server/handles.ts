// Taking a connection away from the process that reads it, so its handle can be sent to another
// process without losing a byte. Node's own `child.send(message, socket)` leaves the handle reading and
// drops whatever arrives before the peer acknowledges; we stop reading first and collect what the socket
// had already buffered. This reaches into net.Socket internals (`_handle`), as Node's cluster does.
import { Socket } from 'node:net';

export interface RawHandle {
  readStop(): number;
  readStart(): number;
  reading?: boolean;
  close(callback?: () => void): void;
}

interface SocketInternals {
  _handle: RawHandle | null;
}

/**
 * Stop reading, take the raw handle, and return it with the bytes read but not yet consumed.
 * The socket object is destroyed without closing the connection. undefined: already closed.
 */
export function detachSocket(socket: Socket): { handle: RawHandle; buffered: Buffer } | undefined {
  const internals = socket as unknown as SocketInternals;
  const handle = internals._handle;
  if (!handle || socket.destroyed) return undefined;
  socket.pause();
  handle.readStop();
  handle.reading = false;
  internals._handle = null;
  const chunks: Buffer[] = [];
  for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) chunks.push(chunk);
  socket.removeAllListeners('data');
  socket.removeAllListeners('timeout');
  socket.setTimeout(0);
  socket.on('error', () => {});
  socket.destroy();
  return { handle, buffered: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) };
}

/** A socket around a handle received over IPC, with `bytes` put back in front of what it reads next. */
export function adoptHandle(handle: unknown, bytes: Buffer): Socket {
  const socket = new Socket({ handle, readable: true, writable: true } as ConstructorParameters<typeof Socket>[0]);
  if (bytes.length > 0) socket.unshift(bytes);
  return socket;
}

/** Close a raw handle we hold but will not use (the peer never got it). */
export function closeHandle(handle: unknown): void {
  try { (handle as RawHandle).close(); } catch { /* already closed */ }
}

interface TcpInternals {
  getsockname(out: { address?: string; port?: number }): number;
}

/** Where a socket is bound locally (undefined: not a TCP socket, or unknown). */
export function localAddressOf(handle: unknown): { address: string; port: number } | undefined {
  if (typeof handle !== 'object' || handle === null || handle.constructor?.name !== 'TCP') return undefined;
  const local: { address?: string; port?: number } = {};
  try {
    if ((handle as TcpInternals).getsockname(local) !== 0) return undefined;
  } catch {
    return undefined;
  }
  return local.address !== undefined && local.port !== undefined ? { address: local.address, port: local.port } : undefined;
}

/**
 * Is `handle` a connection accepted on one of our listening sockets (`listening`: where they are
 * bound)? A peer may send anything beside a message (a listener, a UDP or UNIX socket, a connection it
 * opened itself): only a TCP socket whose local address and port are one of ours may travel on. (Not
 * whether it is still connected: a client may have closed it meanwhile, which is no forgery.)
 */
export function isClientConnection(handle: unknown, listening: readonly { address: string; port: number }[]): boolean {
  const local = localAddressOf(handle);
  if (!local) return false;
  return listening.some((ours) => ours.port === local.port && (ours.address === local.address || ours.address === '0.0.0.0' || ours.address === '::'));
}

/** Close whatever a peer sent beside a message that we refuse (a raw handle, net.Socket, net.Server, dgram socket). */
export function discardHandle(handle: unknown): void {
  if (typeof handle !== 'object' || handle === null) return;
  const any = handle as { destroy?: () => void; close?: (callback?: () => void) => void };
  try {
    if (typeof any.destroy === 'function') any.destroy();
    else if (typeof any.close === 'function') any.close();
  } catch { /* already closed */ }
}
