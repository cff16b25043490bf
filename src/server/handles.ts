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
