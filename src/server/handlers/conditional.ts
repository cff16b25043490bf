// HTTP validators, conditional requests and byte ranges (RFC 9110 §8.8, §13, §14), as pure functions
// over header values so they can be tested without a socket.

export interface Validators {
  /** Strong entity tag, quoted: "size-mtime". */
  readonly etag: string;
  /** Modification time in whole seconds since the epoch (HTTP dates have no fractions). */
  readonly lastModifiedSeconds: number;
}

export function validatorsFor(size: number, mtimeMs: number): Validators {
  const seconds = Math.floor(mtimeMs / 1000);
  return { etag: `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`, lastModifiedSeconds: seconds };
}

export function httpDate(seconds: number): string {
  return new Date(seconds * 1000).toUTCString();
}

/** Entity tags of an If-Match / If-None-Match value; '*' is returned as ['*']. Unparsable → []. */
export function parseEntityTags(value: string): readonly string[] {
  const trimmed = value.trim();
  if (trimmed === '*') return ['*'];
  const tags: string[] = [];
  const pattern = /\s*((?:W\/)?"[^"]*")\s*(?:,|$)/y;
  let match: RegExpExecArray | null;
  while (pattern.lastIndex < trimmed.length && (match = pattern.exec(trimmed)) !== null) tags.push(match[1]!);
  return tags;
}

const opaque = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag);

export function weakMatch(header: string, etag: string): boolean {
  return parseEntityTags(header).some((tag) => tag === '*' || opaque(tag) === opaque(etag));
}

export function strongMatch(header: string, etag: string): boolean {
  return parseEntityTags(header).some((tag) => tag === '*' || (!tag.startsWith('W/') && tag === etag));
}

function parseHttpDateSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

export type Precondition = 'proceed' | 'not-modified' | 'precondition-failed';

type HeaderValue = string | string[] | undefined;
const one = (value: HeaderValue): string | undefined => (Array.isArray(value) ? value.join(', ') : value);

/** Evaluate the preconditions in RFC 9110 §13.2.2's order, for a GET or HEAD of a file. */
export function evaluatePreconditions(
  headers: { readonly [name: string]: HeaderValue },
  validators: Validators,
): Precondition {
  const ifMatch = one(headers['if-match']);
  if (ifMatch !== undefined) {
    if (!strongMatch(ifMatch, validators.etag)) return 'precondition-failed';
  } else {
    const since = parseHttpDateSeconds(one(headers['if-unmodified-since']));
    if (since !== undefined && validators.lastModifiedSeconds > since) return 'precondition-failed';
  }
  const ifNoneMatch = one(headers['if-none-match']);
  if (ifNoneMatch !== undefined) return weakMatch(ifNoneMatch, validators.etag) ? 'not-modified' : 'proceed';
  const modifiedSince = parseHttpDateSeconds(one(headers['if-modified-since']));
  if (modifiedSince !== undefined && validators.lastModifiedSeconds <= modifiedSince) return 'not-modified';
  return 'proceed';
}

/** Does If-Range (when present) allow the Range to apply? A date must equal Last-Modified exactly. */
export function ifRangeAllows(value: string | undefined, validators: Validators): boolean {
  if (value === undefined) return true;
  const trimmed = value.trim();
  if (trimmed.startsWith('"') || trimmed.startsWith('W/')) return trimmed === validators.etag;
  const seconds = parseHttpDateSeconds(trimmed);
  return seconds !== undefined && seconds === validators.lastModifiedSeconds;
}

export interface ByteRange {
  readonly start: number;
  /** Inclusive. */
  readonly end: number;
}

export type RangeRequest =
  | { readonly kind: 'full' }
  | { readonly kind: 'unsatisfiable' }
  | { readonly kind: 'partial'; readonly ranges: readonly ByteRange[] };

/** More ranges than this and the Range header is ignored (a cheap guard against amplification). */
export const MAX_RANGES = 16;

function parsePosition(digits: string): number {
  return digits.length > 15 ? Number.MAX_SAFE_INTEGER : Number(digits);
}

/**
 * Parse a Range header against a representation of `size` bytes. Anything that is not a valid
 * bytes range set is ignored (the full representation is sent), as RFC 9110 §14.2 allows.
 */
export function parseRange(value: string | undefined, size: number): RangeRequest {
  if (value === undefined) return { kind: 'full' };
  const match = /^\s*bytes\s*=\s*(.*)$/i.exec(value);
  if (!match) return { kind: 'full' };
  const specs = match[1]!.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length === 0 || specs.length > MAX_RANGES) return { kind: 'full' };
  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    const parts = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
    if (!parts || (parts[1] === '' && parts[2] === '')) return { kind: 'full' };
    if (parts[1] === '') {
      const suffix = parsePosition(parts[2]!);
      if (suffix > 0 && size > 0) ranges.push({ start: Math.max(0, size - suffix), end: size - 1 });
      continue;
    }
    const start = parsePosition(parts[1]!);
    const last = parts[2] === '' ? undefined : parsePosition(parts[2]!);
    if (last !== undefined && last < start) return { kind: 'full' };
    if (start >= size) continue;
    ranges.push({ start, end: Math.min(last ?? size - 1, size - 1) });
  }
  return ranges.length === 0 ? { kind: 'unsatisfiable' } : { kind: 'partial', ranges };
}
