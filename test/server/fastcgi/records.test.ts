import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeEndRequest, decodeNameValuePairs, encodeBeginRequest, encodeBytePairs, encodeEndRequest, encodeNameValuePairs, encodeRecord,
  encodeRequestStart, encodeStream, FastCgiClient, FastCgiProtocolError, RecordDecoder, RecordType,
} from '../../../src/server/fastcgi/index.js';

/** Split bytes at the given cut points and feed them to a fresh decoder. */
function decodeInPieces(bytes: Buffer, cuts: readonly number[]) {
  const decoder = new RecordDecoder();
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const records = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    records.push(...decoder.push(bytes.subarray(from, point)));
    from = point;
  }
  return { records, pending: decoder.pending };
}

describe('FastCGI records', () => {
  it('encodes a known record byte for byte', () => {
    assert.deepEqual([...encodeRecord(RecordType.Stdout, 1, Buffer.from('abc'))],
      [1, 6, 0, 1, 0, 3, 5, 0, 0x61, 0x62, 0x63, 0, 0, 0, 0, 0]);
    assert.deepEqual([...encodeBeginRequest(1, 1, true)], [1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
    assert.deepEqual([...encodeNameValuePairs([['A', 'bc']])], [1, 2, 0x41, 0x62, 0x63]);
    const long = encodeNameValuePairs([['N', 'x'.repeat(200)]]);
    assert.deepEqual([...long.subarray(0, 5)], [1, 0x80, 0, 0, 200]);
  });

  it('round-trips records through the decoder however the bytes are split', () => {
    const record = fc.record({
      type: fc.integer({ min: 1, max: 11 }),
      requestId: fc.integer({ min: 0, max: 0xffff }),
      content: fc.uint8Array({ maxLength: 300 }),
    });
    fc.assert(fc.property(fc.array(record, { maxLength: 8 }), fc.array(fc.nat(4000), { maxLength: 12 }), (records, cuts) => {
      const bytes = Buffer.concat(records.map((r) => encodeRecord(r.type, r.requestId, r.content)));
      assert.equal(bytes.length % 8, 0, 'records are padded to 8 bytes');
      const { records: decoded, pending } = decodeInPieces(bytes, cuts);
      assert.equal(pending, 0);
      assert.deepEqual(decoded.map((r) => ({ type: r.type, requestId: r.requestId, content: new Uint8Array(r.content) })),
        records.map((r) => ({ type: r.type, requestId: r.requestId, content: new Uint8Array(r.content) })));
    }));
  });

  it('splits long streams into records of at most 65535 bytes', () => {
    const data = Buffer.alloc(150_000, 9);
    const records = encodeStream(RecordType.Stdin, 1, data);
    assert.equal(records.length, 3);
    const decoded = new RecordDecoder().push(Buffer.concat(records));
    assert.deepEqual(decoded.map((r) => r.content.length), [65535, 65535, 18930]);
    assert.deepEqual(encodeStream(RecordType.Stdin, 1, Buffer.alloc(0)), []);
  });

  it('round-trips name-value pairs of any length', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.string({ maxLength: 200 }), fc.oneof(fc.string({ maxLength: 20 }), fc.string({ minLength: 120, maxLength: 400 })))), (pairs) => {
      assert.deepEqual(decodeNameValuePairs(encodeNameValuePairs(pairs)), pairs);
    }));
  });

  it('round-trips name-value pairs beyond ASCII (UTF-8), also mixed with ASCII ones', () => {
    const text = fc.oneof(fc.string({ maxLength: 30 }), fc.fullUnicodeString({ maxLength: 30 }), fc.fullUnicodeString({ minLength: 100, maxLength: 200 }));
    fc.assert(fc.property(fc.array(fc.tuple(text, text), { maxLength: 10 }), (pairs) => {
      assert.deepEqual(decodeNameValuePairs(encodeNameValuePairs(pairs)), pairs);
    }));
    assert.deepEqual([...encodeNameValuePairs([['é', '€']])], [2, 3, 0xc3, 0xa9, 0xe2, 0x82, 0xac]);
  });

  it('writes byte-string pairs as their bytes (a header value as the client sent it), and refuses a character beyond U+00FF', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 300 })), { maxLength: 8 }), (raw) => {
      const pairs = raw.map(([n, v]) => [Buffer.from(n).toString('latin1'), Buffer.from(v).toString('latin1')] as const);
      const bytes = encodeBytePairs(pairs);
      // The same bytes as the UTF-8 encoder gives for the text those bytes spell, when they are UTF-8.
      let offset = 0;
      for (const [n, v] of raw) {
        for (const part of [n, v]) offset += part.length < 0x80 ? 1 : 4;
        assert.deepEqual(bytes.subarray(offset, offset + n.length), Buffer.from(n));
        offset += n.length;
        assert.deepEqual(bytes.subarray(offset, offset + v.length), Buffer.from(v));
        offset += v.length;
      }
      assert.equal(offset, bytes.length);
    }));
    assert.deepEqual([...encodeBytePairs([['X', 'caf\u00c3\u00a9']])], [1, 5, 0x58, 0x63, 0x61, 0x66, 0xc3, 0xa9]);
    assert.throws(() => encodeBytePairs([['X', '\u20ac']]), RangeError);
  });

  it('encodeRequestStart is BEGIN_REQUEST, the PARAMS records, the empty PARAMS and (without a body) the empty STDIN', () => {
    const begin = encodeBeginRequest(1, 1, true);
    fc.assert(fc.property(fc.integer({ min: 0, max: 140_000 }), fc.boolean(), (size, endStdin) => {
      const params = Buffer.alloc(size, 7);
      const bytes = encodeRequestStart(begin, 1, params, endStdin);
      const expected = Buffer.concat([begin, ...encodeStream(RecordType.Params, 1, params), encodeRecord(RecordType.Params, 1), ...(endStdin ? [encodeRecord(RecordType.Stdin, 1)] : [])]);
      assert.ok(bytes.equals(expected), `size ${size}`);
    }), { numRuns: 40 });
  });

  it('rejects truncated name-value data instead of reading past it', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        decodeNameValuePairs(Buffer.from(bytes));
      } catch (error) {
        assert.ok(error instanceof FastCgiProtocolError);
      }
    }));
  });

  it('round-trips END_REQUEST', () => {
    fc.assert(fc.property(fc.nat(), fc.integer({ min: 0, max: 3 }), (appStatus, protocolStatus) => {
      const [record] = new RecordDecoder().push(encodeEndRequest(1, { appStatus, protocolStatus }));
      assert.deepEqual(decodeEndRequest(record!.content), { appStatus, protocolStatus });
    }));
  });

  it('throws a protocol error on a wrong version or type, never anything else', () => {
    assert.throws(() => new RecordDecoder().push(Buffer.from([2, 6, 0, 1, 0, 0, 0, 0])), FastCgiProtocolError);
    assert.throws(() => new RecordDecoder().push(Buffer.from([1, 12, 0, 1, 0, 0, 0, 0])), FastCgiProtocolError);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        new RecordDecoder().push(Buffer.from(bytes));
      } catch (error) {
        assert.ok(error instanceof FastCgiProtocolError, String(error));
      }
    }));
  });
});

/** A FastCGI server that answers every connection with `reply(socket)`. */
async function fakeServer(reply: (socket: Socket) => void): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.on('error', () => {});
    reply(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, connections: () => connections };
}

async function collect(client: FastCgiClient, stdin?: AsyncIterable<Uint8Array>) {
  const exchange = await client.request([['SCRIPT_FILENAME', '/x.php']], stdin);
  const chunks: Buffer[] = [];
  for await (const chunk of exchange.stdout) chunks.push(chunk as Buffer);
  return { stdout: Buffer.concat(chunks).toString(), end: await exchange.end, stderr: exchange.stderr() };
}

describe('FastCGI client', () => {
  it('sends params and stdin, reads stdout, stderr and END_REQUEST, and keeps the connection', async () => {
    const { server, port, connections } = await fakeServer((socket) => {
      const decoder = new RecordDecoder();
      let params = Buffer.alloc(0);
      let stdin = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        for (const record of decoder.push(chunk)) {
          if (record.type === RecordType.BeginRequest) { params = Buffer.alloc(0); stdin = Buffer.alloc(0); }
          if (record.type === RecordType.Params) params = Buffer.concat([params, record.content]);
          if (record.type === RecordType.Stdin && record.content.length > 0) stdin = Buffer.concat([stdin, record.content]);
          if (record.type === RecordType.Stdin && record.content.length === 0) {
            const names = decodeNameValuePairs(params).map(([n, v]) => `${n}=${v}`).join(',');
            socket.write(Buffer.concat([
              encodeRecord(RecordType.Stderr, 1, Buffer.from('a warning')),
              ...encodeStream(RecordType.Stdout, 1, Buffer.from(`Content-Type: text/plain\r\n\r\n${names};${stdin.length}`)),
              encodeEndRequest(1, { appStatus: 7, protocolStatus: 0 }),
            ]));
          }
        }
      });
    });
    const client = new FastCgiClient({ host: '127.0.0.1', port }, { maxIdle: 1 });
    try {
      const first = await collect(client);
      assert.equal(first.stdout, 'Content-Type: text/plain\r\n\r\nSCRIPT_FILENAME=/x.php;0');
      assert.deepEqual(first.end, { appStatus: 7, protocolStatus: 0 });
      assert.equal(first.stderr, 'a warning');
      await collect(client);
      assert.equal(connections(), 1, 'the kept connection was reused');
      async function* body() { yield Buffer.alloc(70_000, 1); yield Buffer.from('tail'); }
      const posted = await collect(client, body());
      assert.match(posted.stdout, /;70004$/);
    } finally {
      await client.close();
      server.close();
    }
  });

  it('retries once on a fresh connection when a kept one was closed by the server', async () => {
    let served = 0;
    const { server, port, connections } = await fakeServer((socket) => {
      socket.once('data', () => {
        served++;
        socket.end(Buffer.concat([encodeRecord(RecordType.Stdout, 1, Buffer.from('X: y\n\nok')), encodeEndRequest(1, { appStatus: 0, protocolStatus: 0 })]));
      });
    });
    const client = new FastCgiClient({ host: '127.0.0.1', port }, { maxIdle: 1 });
    try {
      assert.match((await collect(client)).stdout, /ok$/);
      await new Promise((r) => setTimeout(r, 50));
      assert.match((await collect(client)).stdout, /ok$/);
      assert.equal(served, 2);
      assert.equal(connections(), 2);
    } finally {
      await client.close();
      server.close();
    }
  });

  it('fails cleanly, without hanging, on any garbage from the server', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (garbage) => {
      const { server, port } = await fakeServer((socket) => socket.end(Buffer.from(garbage)));
      const client = new FastCgiClient({ host: '127.0.0.1', port });
      try {
        const outcome = await Promise.race([
          collect(client).then(() => 'completed', (error: Error) => `failed: ${error.message}`),
          new Promise((r) => setTimeout(r, 3000, 'hung')),
        ]);
        // Random bytes can, rarely, be a valid response; what they may never do is hang or crash.
        assert.notEqual(outcome, 'hung');
      } finally {
        await client.close();
        server.close();
      }
    }), { numRuns: 40 });
  });

  it('with maxConnections, never holds more connections than that; the rest wait their turn and all complete', async () => {
    let open = 0;
    let mostOpen = 0;
    // Like an FPM child: one request at a time per connection, answered after a short delay.
    const { server, port, connections } = await fakeServer((socket) => {
      open++;
      mostOpen = Math.max(mostOpen, open);
      socket.once('close', () => { open--; });
      const decoder = new RecordDecoder();
      socket.on('data', (chunk: Buffer) => {
        for (const record of decoder.push(chunk)) {
          if (record.type !== RecordType.Stdin || record.content.length > 0) continue;
          setTimeout(() => socket.write(Buffer.concat([
            encodeRecord(RecordType.Stdout, 1, Buffer.from('X: y\n\nok')), encodeEndRequest(1, { appStatus: 0, protocolStatus: 0 }),
          ])), 5);
        }
      });
    });
    const client = new FastCgiClient({ host: '127.0.0.1', port }, { maxConnections: 2 });
    try {
      const results = await Promise.all(Array.from({ length: 12 }, () => collect(client)));
      assert.ok(results.every((r) => r.stdout === 'X: y\n\nok'));
      assert.equal(mostOpen, 2, 'never more than maxConnections at once');
      assert.equal(connections(), 2, 'both connections were kept and reused');
      assert.equal(client.queued, 0);
    } finally {
      await client.close();
      server.close();
    }
  });

  it('with maxConnections, a waiting request that is aborted leaves the queue and fails as aborted', async () => {
    const peers: Socket[] = [];
    const { server, port } = await fakeServer((socket) => { peers.push(socket); }); // never answers: the one connection stays busy
    const client = new FastCgiClient({ host: '127.0.0.1', port }, { maxConnections: 1, connectTimeoutMs: 2000 });
    try {
      const first = client.request([['A', 'b']]);
      // Ending the busy connection at the end fails the first exchange: expected, not a test failure.
      first.then((exchange) => { exchange.end.catch(() => {}); exchange.stdout.on('error', () => {}); }, () => {});
      const abort = new AbortController();
      const second = client.request([['A', 'b']], undefined, abort.signal);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(client.queued, 1);
      abort.abort();
      await assert.rejects(second, /aborted/);
      assert.equal(client.queued, 0);
    } finally {
      await client.close();
      // The busy connection is not the client's to drop: end it here, or it keeps the test process alive.
      for (const peer of peers) peer.destroy();
      server.close();
    }
  });

  it('start: a cancelled exchange closes its connection and frees its slot for the next one', async () => {
    let connection = 0;
    const { server, port } = await fakeServer((socket) => {
      if (++connection === 1) return; // the first connection never answers
      const decoder = new RecordDecoder();
      socket.on('data', (chunk: Buffer) => {
        for (const record of decoder.push(chunk)) {
          if (record.type !== RecordType.Stdin || record.content.length > 0) continue;
          socket.write(Buffer.concat([
            encodeRecord(RecordType.Stdout, 1, Buffer.from('X: y\n\n')), encodeRecord(RecordType.Stdout, 1, Buffer.from('ok')),
            encodeEndRequest(1, { appStatus: 0, protocolStatus: 0 }),
          ]));
        }
      });
    });
    const client = new FastCgiClient({ host: '127.0.0.1', port }, { maxConnections: 1 });
    const outcome = (resolve: (value: string) => void) => {
      const chunks: Buffer[] = [];
      return { stdout: (c: Buffer) => { chunks.push(c); }, end: () => resolve(Buffer.concat(chunks).toString()), error: (e: Error) => resolve(`error: ${e.message}`) };
    };
    try {
      let first!: ReturnType<FastCgiClient['start']>;
      const firstDone = new Promise<string>((resolve) => { first = client.start([['A', 'b']], undefined, outcome(resolve)); });
      const secondDone = new Promise<string>((resolve) => { client.start([['A', 'b']], undefined, outcome(resolve)); });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(client.queued, 1, 'the second waits for the only connection');
      first.cancel();
      assert.equal(await firstDone, 'error: request aborted');
      assert.equal(await secondDone, 'X: y\n\nok');
      assert.equal(connection, 2, 'the cancelled connection was not reused');
    } finally {
      await client.close();
      server.close();
    }
  });

  it('reports a refused connection as an error', async () => {
    const { server, port } = await fakeServer(() => {});
    server.close();
    await new Promise((r) => setTimeout(r, 20));
    const client = new FastCgiClient({ host: '127.0.0.1', port });
    await assert.rejects(client.request([]), /cannot connect/);
  });
});
