// Plain data (objects, arrays, strings, numbers, booleans, null, Sets, Maps) and the automata inside
// it as bytes, for the compile cache: JSON for the data, the compact typed-array layout for automata
// (aare/serialize.ts). Anything else (class instances, functions, symbols) is refused rather than
// approximated, so a decoded value is always an exact copy of the encoded one, up to object identity
// (an automaton used twice is decoded once and shared again).
import { deserializeAutomaton, serializeAutomaton, type Automaton } from '../aare/index.js';

const MAGIC = 0x54414448; // 'HDAT'
const FORMAT = 1;

function isAutomaton(value: object): value is Automaton {
  return (value as Automaton).transitions instanceof Int32Array && (value as Automaton).classOf instanceof Uint8Array;
}

class Unsupported extends Error {}

/**
 * The bytes of `value`, or undefined when it holds something this codec does not represent exactly
 * (the caller then simply does not cache it).
 */
export function encodeData(value: unknown): Uint8Array | undefined {
  const automata: Automaton[] = [];
  const automatonIds = new Map<Automaton, number>();
  const encode = (v: unknown): unknown => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0) ? v : { $num: Object.is(v, -0) ? '-0' : String(v) };
    if (typeof v !== 'object') throw new Unsupported(typeof v);
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (let i = 0; i < v.length; i++) {
        if (!(i in v) || v[i] === undefined) throw new Unsupported('array hole');
        out.push(encode(v[i]));
      }
      return out;
    }
    if (v instanceof Set) return { $set: [...v].map(encode) };
    if (v instanceof Map) return { $map: [...v].map(([k, x]) => [encode(k), encode(x)]) };
    if (isAutomaton(v)) {
      let id = automatonIds.get(v);
      if (id === undefined) { id = automata.length; automata.push(v); automatonIds.set(v, id); }
      return { $dfa: id };
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new Unsupported('class instance');
    if (Object.getOwnPropertySymbols(v).length) throw new Unsupported('symbol key');
    const out: Record<string, unknown> = {};
    let escaped = false;
    for (const key of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[key];
      if (x === undefined) continue; // an absent optional field; JSON has no other meaning for it
      if (key.startsWith('$')) escaped = true;
      setOwn(out, key, encode(x));
    }
    // Our own tags start with `$`: an object with such keys is wrapped so it cannot pass for one.
    return escaped ? { $obj: Object.entries(out) } : out;
  };
  let json: Uint8Array;
  try {
    json = new TextEncoder().encode(JSON.stringify(encode(value)));
  } catch (error) {
    if (error instanceof Unsupported || error instanceof RangeError) return undefined; // RangeError: too deep
    throw error;
  }
  const parts = automata.map(serializeAutomaton);
  const padded = (n: number) => (n + 3) & ~3;
  const size = 16 + padded(json.length) + parts.reduce((n, p) => n + 4 + p.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, FORMAT, true);
  view.setUint32(8, json.length, true);
  view.setUint32(12, parts.length, true);
  out.set(json, 16);
  let at = 16 + padded(json.length);
  for (const part of parts) {
    view.setUint32(at, part.length, true);
    out.set(part, at + 4);
    at += 4 + part.length;
  }
  return out;
}

/** The value encoded by encodeData, or undefined when the bytes are not a well-formed encoding. */
export function decodeData(bytes: Uint8Array): unknown {
  if (bytes.length < 16) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== FORMAT) return undefined;
  const jsonLength = view.getUint32(8, true);
  const count = view.getUint32(12, true);
  let at = 16 + ((jsonLength + 3) & ~3);
  if (at > bytes.length) return undefined;
  const automata: Automaton[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.length) return undefined;
    const length = view.getUint32(at, true);
    if (at + 4 + length > bytes.length) return undefined;
    const automaton = deserializeAutomaton(bytes.subarray(at + 4, at + 4 + length));
    if (!automaton) return undefined;
    automata.push(automaton);
    at += 4 + length;
  }
  if (at !== bytes.length) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + jsonLength)));
  } catch {
    return undefined;
  }
  // In place: JSON.parse made fresh objects, so only tagged values need replacing (no copying).
  const decode = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i] as unknown;
        if (x !== null && typeof x === 'object') { const y = decode(x); if (y !== x) v[i] = y; }
      }
      return v;
    }
    const object = v as Record<string, unknown>;
    let count = 0;
    let tag: string | undefined;
    for (const key in object) {
      if (count++ === 0 && key.charCodeAt(0) === 36 /* $ */) tag = key;
      const x = object[key];
      if (tag === undefined && x !== null && typeof x === 'object') {
        const y = decode(x);
        if (y !== x) setOwn(object, key, y);
      }
    }
    if (tag === undefined) return object;
    if (count !== 1) throw new Malformed();
    const inner = object[tag];
    switch (tag) {
      case '$num': if (typeof inner === 'string') return Number(inner); break;
      case '$set': if (Array.isArray(inner)) return new Set(decode(inner) as unknown[]); break;
      case '$map': if (Array.isArray(inner) && inner.every((e) => Array.isArray(e) && e.length === 2)) return new Map(decode(inner) as [unknown, unknown][]); break;
      case '$dfa': if (typeof inner === 'number' && automata[inner]) return automata[inner]; break;
      case '$obj': if (Array.isArray(inner) && inner.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string')) {
        const out: Record<string, unknown> = {};
        for (const [key, x] of decode(inner) as [string, unknown][]) setOwn(out, key, x);
        return out;
      } break;
    }
    throw new Malformed();
  };
  try {
    return decode(parsed);
  } catch (error) {
    if (error instanceof Malformed || error instanceof RangeError) return undefined;
    throw error;
  }
}

class Malformed extends Error {}

/** Set an own property (defined, not assigned, for `__proto__`: it stays a key and never becomes the prototype). */
function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
}
