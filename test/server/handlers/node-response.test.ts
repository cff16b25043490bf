// The worker's Response must be indistinguishable from undici's through the public API: each case builds
// both from the same arguments and compares everything a handler (or the server) can observe.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DeferredBodyResponse, takePendingBody } from '../../../src/server/handlers/node-response.js';

const RealResponse = globalThis.Response;
type Args = [body?: unknown, init?: unknown];

interface Observed {
  readonly error?: string;
  readonly status?: number;
  readonly statusText?: string;
  readonly ok?: boolean;
  readonly type?: string;
  readonly url?: string;
  readonly redirected?: boolean;
  readonly headers?: [string, string][];
  readonly hasBody?: boolean;
  readonly bodyUsedBefore?: boolean;
  readonly cloneText?: string;
  readonly text?: string;
  readonly bodyUsedAfter?: boolean;
  readonly secondRead?: string;
  readonly isResponse?: boolean;
}

const describeError = (error: unknown): string => `${(error as Error).constructor.name}: ${(error as Error).message}`;

/** Everything observable about a Response built from args, in a fixed order of use. */
async function observe(make: (...args: Args) => Response, args: Args, order: 'clone-first' | 'text-first'): Promise<Observed> {
  let response: Response;
  try {
    response = make(...args);
  } catch (error) {
    return { error: describeError(error) };
  }
  const head = {
    status: response.status, statusText: response.statusText, ok: response.ok, type: response.type, url: response.url,
    redirected: response.redirected, headers: [...response.headers], isResponse: response instanceof RealResponse,
  };
  if (order === 'text-first') {
    const text = await response.text();
    return { ...head, text, bodyUsedAfter: response.bodyUsed, hasBody: response.body !== null, secondRead: await response.text().then((t) => `ok ${t}`, describeError) };
  }
  const bodyUsedBefore = response.bodyUsed;
  const hasBody = response.body !== null;
  const cloneText = await response.clone().text();
  const text = await response.text();
  return { ...head, bodyUsedBefore, hasBody, cloneText, text, bodyUsedAfter: response.bodyUsed, secondRead: await response.text().then((t) => `ok ${t}`, describeError) };
}

async function assertSame(args: Args): Promise<void> {
  for (const order of ['clone-first', 'text-first'] as const) {
    const real = await observe((b, i) => new RealResponse(b as never, i as never), args, order);
    const deferred = await observe((b, i) => new DeferredBodyResponse(b as never, i as never), args, order);
    assert.deepEqual(deferred, real, `${order} ${JSON.stringify(args, (_k, v: unknown) => v instanceof Uint8Array ? `bytes(${[...v].join(',')})` : v)}`);
  }
}

const body = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constant('\ud800 lone surrogate'),
  fc.uint8Array({ maxLength: 64 }),
  fc.constant(null),
  fc.constant(undefined),
  fc.constant(''),
);
const status = fc.oneof(fc.constantFrom(200, 201, 204, 205, 304, 101, 199, 404, 599, 600, 0), fc.integer({ min: 100, max: 700 }), fc.constant('202'), fc.constant(undefined));
const statusText = fc.oneof(fc.constant(undefined), fc.constantFrom('OK', 'Not Found', 'bad\nline', ''), fc.string({ maxLength: 8 }));
const headers = fc.oneof(
  fc.constant(undefined),
  fc.constant({ 'content-type': 'application/json' }),
  fc.constant({ 'Content-Type': 'text/html', 'x-a': '1' }),
  fc.constant([['set-cookie', 'a=1'], ['set-cookie', 'b=2']]),
  fc.constant({ 'bad header': 'x' }),
  fc.dictionary(fc.constantFrom('x-a', 'content-type', 'content-length', 'x-b'), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
);
const init = fc.oneof(fc.constant(undefined), fc.record({ status, statusText, headers }, { requiredKeys: [] }));

describe('worker Response (deferred body)', () => {
  it('is observably the same as undici Response for string, byte and empty bodies', async () => {
    await fc.assert(fc.asyncProperty(body, init, async (b, i) => { await assertSame([b, i]); }), { numRuns: 400 });
  });

  it('is the same for the constructor errors, in undici order', async () => {
    for (const args of [
      ['x', { status: 204 }], ['x', { status: 304 }], ['x', { status: 101 }], ['x', { status: 600 }],
      ['x', { status: 204, statusText: 'bad\n' }], ['x', { status: 204, headers: { 'bad name': '1' } }],
      ['x', 5], [new Uint8Array([1, 2]), { status: 205 }], [null, { status: 204 }],
    ] as Args[]) await assertSame(args);
  });

  it('takes other body kinds the ordinary way', async () => {
    const stream = () => new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('streamed')); c.close(); } });
    for (const make of [() => stream(), () => new Blob(['blob']), () => new URLSearchParams('a=1&b=2'), () => new Uint16Array([65, 66]), () => new ArrayBuffer(3)]) {
      const real = await observe((_b, i) => new RealResponse(make() as never, i as never), [undefined, undefined], 'text-first');
      const deferred = await observe((_b, i) => new DeferredBodyResponse(make() as never, i as never), [undefined, undefined], 'text-first');
      assert.deepEqual(deferred, real);
    }
  });

  it('keeps a copy of the bytes, as undici does', async () => {
    const bytes = new Uint8Array([104, 105]);
    const response = new DeferredBodyResponse(bytes);
    bytes[0] = 0;
    assert.deepEqual(takePendingBody(response), new Uint8Array([104, 105]));
  });

  it('hands its pending body to the server once, which then leaves the response consumed', async () => {
    const response = new DeferredBodyResponse('hello', { headers: { 'x-a': '1' } });
    assert.equal(takePendingBody(response), 'hello');
    assert.equal(response.bodyUsed, true);
    await assert.rejects(response.text(), TypeError);
    assert.throws(() => response.clone(), TypeError);
    assert.equal(takePendingBody(new RealResponse('plain')), undefined);
    const used = new DeferredBodyResponse('read by the handler');
    assert.equal(await used.text(), 'read by the handler');
    assert.equal(takePendingBody(used), undefined, 'a body the handler already streamed is not pending');
  });

  it('is a Response to every check a handler might make, and its statics are undici\'s', async () => {
    const response = new DeferredBodyResponse('x');
    assert.ok(response instanceof RealResponse);
    assert.ok(new RealResponse('fetched') instanceof DeferredBodyResponse, 'instanceof the global Response holds for every Response');
    assert.ok(!(new Request('http://localhost/') instanceof DeferredBodyResponse));
    assert.equal(Object.prototype.toString.call(response), '[object Response]');
    assert.equal(DeferredBodyResponse.name, 'Response');
    const json = DeferredBodyResponse.json({ a: 1 });
    assert.equal(await json.text(), '{"a":1}');
    assert.equal(DeferredBodyResponse.redirect('http://localhost/x', 302).headers.get('location'), 'http://localhost/x');
    class Custom extends DeferredBodyResponse { readonly extra = 'yes'; }
    const custom = new Custom('sub');
    assert.equal(custom.extra, 'yes');
    assert.equal(await custom.text(), 'sub');
  });
});
