// limitRequestBody on a bare node:http server: it relies on how Node dumps an unread body, so this
// test says so directly if a Node release changes that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { limitRequestBody } from '../../src/server/body-limit.js';

function answer413(res: ServerResponse, text: string): void {
  res.writeHead(413, { connection: 'close', 'content-length': Buffer.byteLength(text) }).end(text);
}

async function withServer(readBody: boolean, run: (port: number, overs: () => number) => Promise<void>): Promise<void> {
  let overs = 0;
  const server = createServer((req, res) => {
    limitRequestBody(req, res, 4096, answer413, () => { overs++; });
    if (readBody) { req.on('data', () => {}); req.on('end', () => res.end('read\n')); }
    else res.end('ignored\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await run((server.address() as AddressInfo).port, () => overs);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** Send a chunked body of `chunks` × 1 KiB; resolve with what came back and whether the server cut us off first. */
function send(port: number, chunks: number): Promise<{ text: string; cut: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let sent = 0;
    let cut = false;
    socket.on('data', (d: Buffer) => { text += d.toString('latin1'); });
    socket.on('error', () => { cut = true; });
    socket.on('close', () => resolve({ text, cut: cut || sent < chunks }));
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = `400\r\n${'a'.repeat(1024)}\r\n`;
    const more = (): void => {
      while (sent < chunks && !socket.destroyed) {
        sent++;
        if (!socket.write(chunk)) { socket.once('drain', more); return; }
      }
      if (sent >= chunks && !socket.destroyed) { socket.write('0\r\n\r\n'); setTimeout(() => socket.end(), 500); }
    };
    setTimeout(more, 50);
    setTimeout(() => socket.destroy(), 8000).unref();
  });
}

test('a body the handler never reads is still counted: past the limit the connection is cut', async () => {
  await withServer(false, async (port, overs) => {
    const { text, cut } = await send(port, 20_000);
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.ok(cut, 'the server read 20 MiB of body it had no use for');
    assert.equal(overs(), 1);
  });
});

test('a body the handler reads: 413 with Connection: close once it passes the limit', async () => {
  await withServer(true, async (port, overs) => {
    const { text } = await send(port, 64);
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.match(text, /connection: close/i);
    assert.equal(overs(), 1);
  });
});

test('a body under the limit passes untouched', async () => {
  await withServer(true, async (port, overs) => {
    const { text } = await send(port, 3);
    assert.match(text, /^HTTP\/1\.1 200 [^]*read\n$/);
    assert.equal(overs(), 0);
  });
});
