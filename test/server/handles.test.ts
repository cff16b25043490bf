// isClientConnection: what may travel beside handoff/handback. A connection accepted on our listener
// passes even after its client closed it (a worker handing back such a connection forged nothing);
// a connection the peer opened elsewhere, or a listener of its own, does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { closeHandle, detachSocket, isClientConnection, localAddressOf } from '../../src/server/handles.js';

const handleOf = (socket: Socket | object): unknown => (socket as { _handle: unknown })._handle;

test('accepted connections pass, closed or not; foreign connections and listeners do not', async () => {
  const accepted: Socket[] = [];
  const ours = createServer((socket) => { socket.on('error', () => {}); accepted.push(socket); });
  await new Promise<void>((r) => ours.listen(0, '127.0.0.1', r));
  const other = createServer((socket) => socket.on('error', () => {}));
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  try {
    const listening = [localAddressOf(handleOf(ours))!];
    assert.equal(listening[0]!.port, (ours.address() as { port: number }).port);
    const client = connect((ours.address() as { port: number }).port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    while (accepted.length === 0) await new Promise((r) => setTimeout(r, 5));
    // As a worker holds it when it hands a connection back: a raw handle no longer read by a socket.
    const handle = detachSocket(accepted[0]!)!.handle;
    assert.equal(isClientConnection(handle, listening), true);
    client.destroy();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(isClientConnection(handle, listening), true, 'still ours after the client closed it');
    const outbound = connect((other.address() as { port: number }).port, '127.0.0.1');
    await new Promise((r) => outbound.once('connect', r));
    assert.equal(isClientConnection(handleOf(outbound), listening), false, 'a connection the peer opened');
    outbound.destroy();
    assert.equal(isClientConnection(handleOf(other), listening), false, 'another listener');
    assert.equal(isClientConnection({ constructor: { name: 'TCP' } }, listening), false, 'a fake');
    assert.equal(isClientConnection(null, listening), false);
    assert.equal(isClientConnection(handle, [{ address: '0.0.0.0', port: listening[0]!.port }]), true, 'a wildcard listener');
    closeHandle(handle);
  } finally {
    for (const socket of accepted) socket.destroy();
    ours.close();
    other.close();
  }
});
