// front.mode: strict: the front parses every request and proxies it to the pool over UNIX sockets.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, raw, RawConnection, serverStatus, sleep, startFromYaml, type TestServer } from './helpers.js';

const ECHO = `export default async function handler(request) {
  let bodyBytes = 0;
  if (request.body) for await (const chunk of request.body) bodyBytes += chunk.byteLength;
  return Response.json({ hat: process.env.HATTER_HAT, pid: process.pid, bodyBytes });
}
`;

let server: TestServer;
before(async () => {
  server = await startFromYaml(`listen: 127.0.0.1:0
backend: none
front: { mode: strict }
pool: { min: 1, max: 1 }
sites:
  - serverName: alpha.test
    documentRoot: pub
    locations:
      - prefix: /echo
        handler: { type: node, module: echo.mjs }
      - prefix: /admin-area
        hat: alpha-admin
        handler: { type: node, module: echo.mjs }
`, { 'echo.mjs': ECHO, 'pub/index.html': 'hello\n' });
});
after(async () => { await server.stop(); });

test('strict mode: every request on one connection goes to the pool of its own hat', async () => {
  const conn = new RawConnection(server.port);
  const hats: string[] = [];
  for (const path of ['/echo', '/admin-area/x', '/echo']) {
    conn.write(`GET ${path} HTTP/1.1\r\nHost: alpha.test\r\n\r\n`);
    const reply = await conn.response();
    assert.equal(reply.status, 200, reply.body);
    hats.push((JSON.parse(reply.body) as { hat: string }).hat);
  }
  assert.deepEqual(hats, ['alpha.test', 'alpha-admin', 'alpha.test']);
  assert.equal(conn.closed, false);
  conn.close();
  const upload = await json(server.port, 'alpha.test', '/echo', { method: 'POST', body: Buffer.alloc(100_000, 1) });
  assert.equal(upload.bodyBytes, 100_000);
});

test('strict mode: smuggling attempts are refused by the front', async () => {
  const reply = await raw(server.port, 'POST /echo HTTP/1.1\r\nHost: alpha.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 400 /);
  await sleep(1100);
  const before = (await serverStatus(server.adminPort)).pools.map((p: any) => [p.label, p.requests]);
  await raw(server.port, 'GET /echo HTTP/1.1\r\nHost: alpha.test\r\nHost: other\r\n\r\n');
  await sleep(1100);
  const after = (await serverStatus(server.adminPort)).pools.map((p: any) => [p.label, p.requests]);
  assert.deepEqual(after, before);
});
