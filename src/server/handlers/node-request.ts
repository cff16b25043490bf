// The Request a Node handler receives, built lazily. Constructing a real undici Request (URL record,
// header list, body stream, signal) costs more than everything else a small request needs, and most
// handlers read only the method, the URL and perhaps a header. So the handler gets an object that
// inherits from Request.prototype (`instanceof Request` holds) and answers method, url, headers,
// signal and, for GET/HEAD, body/bodyUsed itself; any other member (clone, text, formData, the body of
// a POST, and undici's internal slots that fetch() and `new Request(request)` read) builds the real
// Request once and delegates to it, so behaviour is the real Request's.
import type { IncomingMessage } from 'node:http';

export interface LazyRequestParts {
  /** The serialized URL, as the Request constructor would give it. */
  readonly url: string;
  /** The header pairs come from its rawHeaders, on first need. */
  readonly req: IncomingMessage;
  /** Where request.signal comes from (read on access: the server creates it lazily). */
  readonly signalSource: { readonly signal: AbortSignal };
  /** The request body as a web stream; undefined for GET and HEAD. */
  readonly body: ((req: IncomingMessage) => ReadableStream<Uint8Array>) | undefined;
}

export class LazyRequest {
  readonly #parts: LazyRequestParts;
  #headers: Headers | undefined;
  #real: Request | undefined;

  constructor(parts: LazyRequestParts) {
    this.#parts = parts;
  }

  get method(): string { return this.#parts.req.method ?? 'GET'; }
  get url(): string { return this.#parts.url; }
  get signal(): AbortSignal { return this.#parts.signalSource.signal; }

  get headers(): Headers {
    this.#headers ??= this.#real !== undefined ? this.#real.headers : new Headers(headerPairs(this.#parts.req));
    return this.#headers;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.#parts.body === undefined ? null : LazyRequest.realOf(this).body;
  }

  get bodyUsed(): boolean {
    return this.#real !== undefined ? this.#real.bodyUsed : false;
  }

  /** The real Request behind a lazy one, built on first need (with the headers as they are now). */
  static realOf(request: LazyRequest): Request {
    if (request.#real !== undefined) return request.#real;
    const parts = request.#parts;
    const init: RequestInit & { duplex?: 'half' } = { method: parts.req.method ?? 'GET', headers: request.#headers ?? headerPairs(parts.req) };
    if (parts.body !== undefined) {
      init.body = parts.body(parts.req);
      init.duplex = 'half';
    }
    const real = new Request(parts.url, init);
    // Handing the signal to the constructor makes undici follow it with a new controller, a listener
    // and a finalization registry entry: the handler sees the very same signal through an own getter.
    const source = parts.signalSource;
    Object.defineProperty(real, 'signal', { get: () => source.signal, enumerable: false, configurable: true });
    request.#real = real;
    if (request.#headers === undefined) request.#headers = real.headers;
    return real;
  }
}

Object.setPrototypeOf(LazyRequest.prototype, Request.prototype);

// Every other Request member delegates to the real Request, so nothing reaches a Request.prototype
// accessor with a `this` it would reject.
for (const name of Object.getOwnPropertyNames(Request.prototype)) {
  if (name === 'constructor' || Object.prototype.hasOwnProperty.call(LazyRequest.prototype, name)) continue;
  const descriptor = Object.getOwnPropertyDescriptor(Request.prototype, name)!;
  if (typeof descriptor.value === 'function') {
    const method = descriptor.value as (...args: unknown[]) => unknown;
    Object.defineProperty(LazyRequest.prototype, name, {
      value: function (this: LazyRequest, ...args: unknown[]) { return method.apply(LazyRequest.realOf(this), args); },
      writable: true, configurable: true, enumerable: descriptor.enumerable,
    });
  } else if (descriptor.get !== undefined) {
    const get = descriptor.get;
    Object.defineProperty(LazyRequest.prototype, name, {
      get(this: LazyRequest) { return get.call(LazyRequest.realOf(this)); },
      configurable: true, enumerable: descriptor.enumerable,
    });
  }
}
// undici's internal slots (state, headers, signal, dispatcher), read by fetch() and new Request(r).
for (const symbol of Object.getOwnPropertySymbols(new Request('http://localhost/'))) {
  Object.defineProperty(LazyRequest.prototype, symbol, {
    get(this: LazyRequest) { return (LazyRequest.realOf(this) as unknown as Record<symbol, unknown>)[symbol]; },
    configurable: true,
  });
}

/** Header pairs of an IncomingMessage, without HTTP/2-style pseudo headers. */
export function headerPairs(req: IncomingMessage): [string, string][] {
  const pairs: [string, string][] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.startsWith(':')) continue;
    pairs.push([name, raw[i + 1]!]);
  }
  return pairs;
}
