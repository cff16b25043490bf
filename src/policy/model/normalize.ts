// A canonical, position-free view of the AST, for "same meaning?" comparisons (the formatter's safety
// net, round-trip checks). It drops spans, CST links, raw rule text and spelling-only details
// (`#include` vs `include`), writes words as their raw text, and sorts the lists whose order AppArmor
// ignores (capabilities, access words, flags, condition values, permission letters). Built as one
// string without intermediate objects, so it stays cheap on very large files.
import type { Policy } from './types.js';

const DROPPED = new Set(['span', 'syntax', 'text', 'hashInclude', 'keywords']);
const UNORDERED = new Set(['capabilities', 'access', 'flags', 'identities', 'values', 'xattrs', 'permissionWords']);

/** The canonical form as a JSON string: equal strings mean equal meaning (as far as the AST tells). */
export function canonicalPolicyText(policy: Policy): string {
  return serialize(policy, '', 0);
}

/** The canonical form as plain data (for assertions and debugging). */
export function normalizePolicy(policy: Policy): unknown {
  return JSON.parse(canonicalPolicyText(policy)) as unknown;
}

function permissionUnits(word: string): string {
  return (word.match(/[PpCc]?[IiUu]?[Xx]|[^Xx]/g) ?? [word]).sort().join('');
}

function serialize(value: unknown, key: string, depth: number): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object' || depth > 4000) {
    if (typeof value === 'string' && key === 'permissions') return JSON.stringify(permissionUnits(value));
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    const items = value.map((v) => serialize(v, key, depth + 1));
    if (key === 'permissionWords') for (let i = 0; i < items.length; i++) items[i] = JSON.stringify(permissionUnits(JSON.parse(items[i]!) as string));
    if (UNORDERED.has(key)) items.sort();
    return `[${items.join(',')}]`;
  }
  const object = value as Record<string, unknown>;
  // Words compare by their source spelling.
  if (typeof object.raw === 'string' && 'quoted' in object && 'value' in object) return JSON.stringify(object.raw);
  const parts: string[] = [];
  for (const k of Object.keys(object).sort()) {
    if (DROPPED.has(k) || object[k] === undefined) continue;
    parts.push(`${JSON.stringify(k)}:${serialize(object[k], k, depth + 1)}`);
  }
  return `{${parts.join(',')}}`;
}
