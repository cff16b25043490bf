// The FastCGI handler against a scripted FastCGI server (no PHP needed): how FPM's answers are framed
// for the client, and that a broken answer ends the request with 502 instead of escaping.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeEndRequest, encodeRecord, RecordDecoder, RecordType } from '../../../src/server/fastcgi/index.js';
import { FastCgiHandler } from '../../../src/server/handlers/index.js';
import { send, serveHandler, type Harness } from './harness.js';

/** What the scripted server answers for each script name (as the records' STDOUT pieces). */
const ANSWERS: Record<string, readonly string[]> = {
  '/pieces.php': ['Content-Type: text/plain\r\n', '\r\nab', 'cd', 'ef'],
  '/bad-head.php': ['Content-Type text/plain\r\n\r\nbody'],
  '/no-head.php': ['Content-Type: text/plain\r\n'],
  '/big.php': ['Content-Type: text/plain\r\n\r\n', 'x'.repeat(60_000), 'y'.repeat(60_000)],
};

describe('FastCGI handler (scripted FastCGI server)', () => {
  let dir: string;
  let harness: Harness;
  const peers = new Set<Socket>();
  const server = createServer((socket) => {
    peers.add(socket);
    socket.on('close', () => peers.delete(socket));
    socket.on('error', () => {});
    const decoder = new RecordDecoder();
    let script = '';
    socket.on('data', (chunk: Buffer) => {
      for (const record of decoder.push(chunk)) {
        if (record.type === RecordType.Params && record.content.length > 0) {
          script = /SCRIPT_NAME(\/[a-z-]+\.php)/.exec(record.content.toString('latin1'))?.[1] ?? '';
        }
        if (record.type !== RecordType.Stdin || record.content.length > 0) continue;
        // Each piece in its own write, a little apart: the handler sees them in separate reads.
        const pieces = ANSWERS[script] ?? [];
        let i = 0;
        const next = () => {
          if (i < pieces.length) { socket.write(encodeRecord(RecordType.Stdout, 1, Buffer.from(pieces[i++]!))); setTimeout(next, 5); return; }
          socket.write(encodeEndRequest(1, { appStatus: 0, protocolStatus: 0 }));
        };
        next();
      }
    });
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hatter-fastcgi-handler-'));
    for (const name of Object.keys(ANSWERS)) writeFileSync(join(dir, name.slice(1)), '<?php');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    harness = await serveHandler(new FastCgiHandler({ address: `127.0.0.1:${port}`, connections: 1, root: dir, timeoutMs: 3000 }, dir), { documentRoot: dir });
  });
  after(async () => {
    await harness?.close();
    for (const peer of peers) peer.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a body that arrived in several records whole, with Content-Length', async () => {
    const reply = await send(harness.port, 'GET', '/pieces.php');
    assert.equal(reply.status, 200);
    assert.equal(reply.text, 'abcdef');
    assert.equal(reply.headers['content-length'], '6');
  });

  it('streams a body over 64 KiB chunked, complete and in order', async () => {
    const reply = await send(harness.port, 'GET', '/big.php');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['transfer-encoding'], 'chunked');
    assert.equal(reply.text, 'x'.repeat(60_000) + 'y'.repeat(60_000));
  });

  it('answers 502 for a malformed head or one that never ends, and keeps serving', async () => {
    assert.equal((await send(harness.port, 'GET', '/bad-head.php')).status, 502);
    assert.equal((await send(harness.port, 'GET', '/no-head.php')).status, 502);
    assert.equal((await send(harness.port, 'GET', '/pieces.php')).text, 'abcdef');
  });
});
