// FastCGI 1.0 record framing and name-value pairs, pure and allocation-light. A record is an 8-byte
// header (version, type, request id, content length, padding length, reserved), the content, and
// padding; name-value pairs carry each length in 1 byte (< 128) or 4 bytes with the top bit set.

export const FCGI_VERSION_1 = 1;

export const RecordType = {
  BeginRequest: 1,
  AbortRequest: 2,
  EndRequest: 3,
  Params: 4,
  Stdin: 5,
  Stdout: 6,
  Stderr: 7,
  Data: 8,
  GetValues: 9,
  GetValuesResult: 10,
  UnknownType: 11,
} as const;
export type RecordTypeCode = (typeof RecordType)[keyof typeof RecordType];

export const Role = { Responder: 1, Authorizer: 2, Filter: 3 } as const;
export const FCGI_KEEP_CONN = 1;

export const ProtocolStatus = { RequestComplete: 0, CantMultiplexConnection: 1, Overloaded: 2, UnknownRole: 3 } as const;

export const HEADER_LENGTH = 8;
export const MAX_CONTENT_LENGTH = 0xffff;

export interface FastCgiRecord {
  readonly type: number;
  readonly requestId: number;
  readonly content: Buffer;
}

/** The peer broke the protocol; the connection cannot be trusted any further. */
export class FastCgiProtocolError extends Error {
  readonly code = 'fastcgi-protocol';
}

/** One record, padded to a multiple of 8 bytes. Content must be at most 65535 bytes. */
export function encodeRecord(type: number, requestId: number, content: Uint8Array = Buffer.alloc(0)): Buffer {
  if (content.length > MAX_CONTENT_LENGTH) throw new RangeError('FastCGI record content exceeds 65535 bytes');
  const record = Buffer.alloc(recordLength(content.length));
  writeRecordHeader(record, 0, type, requestId, content.length);
  record.set(content, HEADER_LENGTH);
  return record;
}

/** Padding that brings a record's content to a multiple of 8 bytes. */
function paddingFor(contentLength: number): number {
  return (8 - (contentLength % 8)) % 8;
}

/** Header, content and padding. */
function recordLength(contentLength: number): number {
  return HEADER_LENGTH + contentLength + paddingFor(contentLength);
}

/** A record header at `offset` (the padding bytes after the content are left as they are: zero in a Buffer.alloc). */
function writeRecordHeader(out: Buffer, offset: number, type: number, requestId: number, contentLength: number): void {
  out[offset] = FCGI_VERSION_1;
  out[offset + 1] = type;
  out.writeUInt16BE(requestId, offset + 2);
  out.writeUInt16BE(contentLength, offset + 4);
  out[offset + 6] = paddingFor(contentLength);
  out[offset + 7] = 0;
}

/** A stream's content split into records of at most 65535 bytes (nothing for an empty chunk). */
export function encodeStream(type: number, requestId: number, data: Uint8Array): Buffer[] {
  const records: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += MAX_CONTENT_LENGTH) {
    records.push(encodeRecord(type, requestId, data.subarray(offset, offset + MAX_CONTENT_LENGTH)));
  }
  return records;
}

export function encodeBeginRequest(requestId: number, role: number, keepConnection: boolean): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16BE(role, 0);
  body[2] = keepConnection ? FCGI_KEEP_CONN : 0;
  return encodeRecord(RecordType.BeginRequest, requestId, body);
}

export interface EndRequest {
  readonly appStatus: number;
  readonly protocolStatus: number;
}

export function decodeEndRequest(content: Buffer): EndRequest {
  if (content.length < 8) throw new FastCgiProtocolError('END_REQUEST body shorter than 8 bytes');
  return { appStatus: content.readUInt32BE(0), protocolStatus: content[4]! };
}

export function encodeEndRequest(requestId: number, end: EndRequest): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt32BE(end.appStatus >>> 0, 0);
  body[4] = end.protocolStatus;
  return encodeRecord(RecordType.EndRequest, requestId, body);
}

/**
 * Name-value pairs of text as one byte string (to be split into PARAMS records), written in one buffer:
 * ASCII as it is, anything else as UTF-8 (encodeUtf8Pairs). The FastCGI client sends byte strings
 * instead (encodeBytePairs).
 */
export function encodeNameValuePairs(pairs: Iterable<readonly [string, string]>): Buffer {
  const list = Array.isArray(pairs) ? pairs as readonly (readonly [string, string])[] : [...pairs];
  for (const [name, value] of list) if (NON_ASCII.test(name) || NON_ASCII.test(value)) return encodeUtf8Pairs(list);
  return encodeBytePairs(list);
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Name-value pairs of byte strings (each character one byte, U+0000 to U+00FF, as node:http and the
 * front's parser decode header values) written as those bytes: what a web server sends, byte for byte
 * as the client sent it. A character beyond U+00FF is a caller's bug (RangeError).
 */
export function encodeBytePairs(pairs: Iterable<readonly [string, string]>): Buffer {
  const list = Array.isArray(pairs) ? pairs as readonly (readonly [string, string])[] : [...pairs];
  let total = 0;
  for (let i = 0; i < list.length; i++) {
    const nameLength = list[i]![0].length;
    const valueLength = list[i]![1].length;
    total += (nameLength < 0x80 ? 1 : 4) + (valueLength < 0x80 ? 1 : 4) + nameLength + valueLength;
  }
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let i = 0; i < list.length; i++) {
    const [name, value] = list[i]!;
    offset = writePairLength(out, offset, name.length);
    offset = writePairLength(out, offset, value.length);
    offset = writeBytes(out, offset, name);
    offset = writeBytes(out, offset, value);
  }
  return out;
}

function writeBytes(out: Buffer, offset: number, text: string): number {
  for (let j = 0; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c > 0xff) throw new RangeError('FastCGI name or value is not a byte string (a character beyond U+00FF)');
    out[offset++] = c;
  }
  return offset;
}

function writePairLength(out: Buffer, offset: number, length: number): number {
  if (length > 0x7fffffff) throw new RangeError('FastCGI name or value longer than 2^31-1 bytes');
  if (length < 0x80) { out[offset] = length; return offset + 1; }
  return out.writeUInt32BE((length | 0x80000000) >>> 0, offset);
}

/** encodeNameValuePairs for names or values with characters beyond ASCII: their UTF-8 bytes. */
function encodeUtf8Pairs(pairs: readonly (readonly [string, string])[]): Buffer {
  const lengths: number[] = [];
  let total = 0;
  for (const [name, value] of pairs) {
    const nameLength = Buffer.byteLength(name, 'utf8');
    const valueLength = Buffer.byteLength(value, 'utf8');
    total += (nameLength < 0x80 ? 1 : 4) + (valueLength < 0x80 ? 1 : 4) + nameLength + valueLength;
    lengths.push(nameLength, valueLength);
  }
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  pairs.forEach(([name, value], i) => {
    offset = writePairLength(out, offset, lengths[2 * i]!);
    offset = writePairLength(out, offset, lengths[2 * i + 1]!);
    offset += out.write(name, offset, lengths[2 * i]!, 'utf8');
    offset += out.write(value, offset, lengths[2 * i + 1]!, 'utf8');
  });
  return out;
}

/**
 * The start of a request in one buffer, for one write: BEGIN_REQUEST (`begin`, already encoded), the
 * pairs as PARAMS records of at most 65535 bytes each, the empty PARAMS record and, for a request
 * without a body, the empty STDIN record.
 */
export function encodeRequestStart(begin: Buffer, requestId: number, params: Buffer, endStdin: boolean): Buffer {
  let total = begin.length + HEADER_LENGTH * (endStdin ? 2 : 1);
  for (let at = 0; at < params.length; at += MAX_CONTENT_LENGTH) total += recordLength(Math.min(MAX_CONTENT_LENGTH, params.length - at));
  // From the pool (Buffer.alloc makes a new zeroed ArrayBuffer per request): every byte is written below.
  const out = Buffer.allocUnsafe(total);
  begin.copy(out, 0);
  let offset = begin.length;
  for (let at = 0; at < params.length; at += MAX_CONTENT_LENGTH) {
    const length = Math.min(MAX_CONTENT_LENGTH, params.length - at);
    writeRecordHeader(out, offset, RecordType.Params, requestId, length);
    params.copy(out, offset + HEADER_LENGTH, at, at + length);
    const end = offset + recordLength(length);
    for (let pad = offset + HEADER_LENGTH + length; pad < end; pad++) out[pad] = 0;
    offset = end;
  }
  writeRecordHeader(out, offset, RecordType.Params, requestId, 0);
  if (endStdin) writeRecordHeader(out, offset + HEADER_LENGTH, RecordType.Stdin, requestId, 0);
  return out;
}

export function decodeNameValuePairs(data: Buffer): [string, string][] {
  const pairs: [string, string][] = [];
  let offset = 0;
  const readLength = (): number => {
    if (offset >= data.length) throw new FastCgiProtocolError('truncated name-value length');
    const first = data[offset]!;
    if (first < 0x80) {
      offset += 1;
      return first;
    }
    if (offset + 4 > data.length) throw new FastCgiProtocolError('truncated name-value length');
    const length = data.readUInt32BE(offset) & 0x7fffffff;
    offset += 4;
    return length;
  };
  while (offset < data.length) {
    const nameLength = readLength();
    const valueLength = readLength();
    if (offset + nameLength + valueLength > data.length) throw new FastCgiProtocolError('name-value pair overruns its data');
    const name = data.toString('utf8', offset, offset + nameLength);
    offset += nameLength;
    const value = data.toString('utf8', offset, offset + valueLength);
    offset += valueLength;
    pairs.push([name, value]);
  }
  return pairs;
}

/** Shared, never written: a Buffer.alloc(0) per decoder and per read made an ArrayBuffer each time. */
const NO_BYTES = Buffer.alloc(0);

/**
 * Incremental record decoder: feed bytes as they arrive, get whole records back. Throws
 * FastCgiProtocolError on a wrong version or an unknown record type; buffers at most one record.
 */
export class RecordDecoder {
  private buffer: Buffer = NO_BYTES;

  push(chunk: Buffer): FastCgiRecord[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const records: FastCgiRecord[] = [];
    let offset = 0;
    while (this.buffer.length - offset >= HEADER_LENGTH) {
      const version = this.buffer[offset]!;
      const type = this.buffer[offset + 1]!;
      if (version !== FCGI_VERSION_1) throw new FastCgiProtocolError(`unsupported FastCGI version ${version}`);
      if (type < RecordType.BeginRequest || type > RecordType.UnknownType) throw new FastCgiProtocolError(`unknown FastCGI record type ${type}`);
      const requestId = this.buffer.readUInt16BE(offset + 2);
      const contentLength = this.buffer.readUInt16BE(offset + 4);
      const padding = this.buffer[offset + 6]!;
      const total = HEADER_LENGTH + contentLength + padding;
      if (this.buffer.length - offset < total) break;
      const start = offset + HEADER_LENGTH;
      records.push({ type, requestId, content: this.buffer.subarray(start, start + contentLength) });
      offset += total;
    }
    this.buffer = offset === this.buffer.length ? NO_BYTES : this.buffer.subarray(offset);
    return records;
  }

  /** Bytes of an incomplete record still waiting for the rest. */
  get pending(): number {
    return this.buffer.length;
  }
}
