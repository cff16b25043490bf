// The Response class Node handlers see inside a worker. In Node 20, `new Response('text')` costs about
// 19 µs, almost all of it in building the body's ReadableStream (undici makes one eagerly, and Node 20
// makes every web stream transferable, which is slow); `new Response(null, init)` costs 1 µs. A hello-world
// request costs the worker ~40 µs in all, so the stream alone was a third of it, for a stream that the
// server never reads: it sends the string itself (see completeBody in node.ts).
//
// DeferredBodyResponse is a real Response (a subclass, so every internal slot, `instanceof`, statics and
// brand checks are undici's own). For a string or Uint8Array body it is built with a null body and the
// body is kept aside; the first use of any body member (body, bodyUsed, text(), clone(), ...) installs
// exactly the body undici would have built, taken from a Response constructed with the same source.
// Everything the constructor checks or adds (status range, statusText, headers, null-body statuses,
// the default Content-Type) happens in the constructor, in undici's order, so errors and headers are the
// same. Other bodies (streams, Blobs, forms, ...) take the ordinary path.
//
// Worker processes install it as the global Response before any handler module loads
// (installDeferredBodyResponse); the server takes the pending body with takePendingBody.

/** undici's Response, whatever the global name points at later. */
export const RealResponse = globalThis.Response;

/** undici's slot for a Response's inner state ({ status, headersList, body, ... }). */
const stateSymbol: symbol | undefined = Object.getOwnPropertySymbols(new RealResponse(null))
  .find((symbol) => symbol.description === 'state');

/** Statuses that must not have a body (undici's nullBodyStatus). */
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

type Source = string | Uint8Array;
type InnerBody = { stream: ReadableStream<Uint8Array> } | null;

function innerOf(response: Response): { body: InnerBody } {
  return (response as unknown as Record<symbol, { body: InnerBody }>)[stateSymbol!]!;
}

/** Set by the class below (only it can reach its private fields). */
let installPendingBody: (response: Response) => void = () => {};

export class DeferredBodyResponse extends RealResponse {
  /** The body not yet turned into a stream; undefined once installed (or for other bodies). */
  #pending: Source | undefined;
  /** The server sent the pending body itself: a later look at the body finds it consumed. */
  #sent = false;

  constructor(body?: ConstructorParameters<typeof Response>[0], init?: ResponseInit) {
    const deferrable = stateSymbol !== undefined && (typeof body === 'string' || (body instanceof Uint8Array && body.buffer instanceof ArrayBuffer));
    if (!deferrable) {
      super(body, init);
      return;
    }
    // extractBody copies the bytes at construction; a string is kept as is (lone surrogates become U+FFFD
    // both in undici's USVString conversion and in Node's UTF-8 encoding when the server sends it).
    const source: Source = typeof body === 'string' ? body : new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
    super(null, init);
    if (NULL_BODY_STATUS.has(this.status)) {
      throw new TypeError(`Response constructor: Invalid response status code ${this.status}`);
    }
    if (typeof source === 'string' && !this.headers.has('content-type')) this.headers.append('content-type', 'text/plain;charset=UTF-8');
    this.#pending = source;
  }

  /** Give this response the body undici would have given it at construction. */
  #install(): void {
    const source = this.#pending;
    if (source === undefined) return;
    this.#pending = undefined;
    const body = innerOf(new RealResponse(source)).body;
    innerOf(this).body = body;
    // Sent by the server without reading the stream: consumed, as a read would leave it.
    if (this.#sent && body) body.stream.cancel().catch(() => {});
  }

  /**
   * The body as the handler gave it, for the server to send without a stream; afterwards the response
   * reads as consumed. Undefined when there is none pending (other body kinds, or already used).
   */
  static takePendingBody(response: Response): Source | undefined {
    if (!(#pending in response)) return undefined;
    const source = response.#pending;
    if (source !== undefined) response.#sent = true;
    return source;
  }


  static {
    installPendingBody = (response) => { if (#pending in response) response.#install(); };
  }

  /**
   * Once installed as the global Response, `x instanceof Response` must still hold for every Response
   * (fetch() results, Response.json(), ...), as it did before.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof RealResponse;
  }
}

// Every member that looks at the body installs a pending one first, then runs undici's own code. (Set on
// the prototype rather than written as overrides: the DOM typings declare these as plain properties.)
for (const name of ['body', 'bodyUsed', 'clone', 'arrayBuffer', 'blob', 'bytes', 'formData', 'json', 'text']) {
  const real = Object.getOwnPropertyDescriptor(RealResponse.prototype, name);
  if (real === undefined) continue; // bytes() is newer than Node 20's undici
  if (real.get !== undefined) {
    const get = real.get;
    Object.defineProperty(DeferredBodyResponse.prototype, name, {
      get(this: Response) { installPendingBody(this); return get.call(this); }, configurable: true, enumerable: real.enumerable,
    });
  } else if (typeof real.value === 'function') {
    const method = real.value as (this: Response, ...args: unknown[]) => unknown;
    Object.defineProperty(DeferredBodyResponse.prototype, name, {
      value: { [name](this: Response, ...args: unknown[]) { installPendingBody(this); return method.apply(this, args); } }[name],
      writable: true, configurable: true, enumerable: real.enumerable,
    });
  }
}
Object.defineProperty(DeferredBodyResponse, 'name', { value: 'Response' });

export const takePendingBody = DeferredBodyResponse.takePendingBody;

/** Make `Response` in this process the deferred-body one (worker processes only). */
export function installDeferredBodyResponse(): void {
  if (stateSymbol === undefined) return; // an undici we do not know: keep the plain Response
  Object.defineProperty(globalThis, 'Response', { value: DeferredBodyResponse, writable: true, configurable: true, enumerable: false });
}
