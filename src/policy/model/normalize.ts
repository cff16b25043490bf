// A canonical, position-free view of the AST, for "same meaning?" comparisons (formatter tests,
// round-trip checks). It drops spans, CST links, raw rule text and spelling-only details (`#include`
// vs `include`), writes words as their raw text, and sorts the lists whose order AppArmor ignores
// (capabilities, access words, flags, condition values, permission letters).
import type { Policy } from './types.js';

const DROPPED = new Set(['span', 'syntax', 'text', 'hashInclude', 'keywords']);
const UNORDERED = new Set(['capabilities', 'access', 'flags', 'identities', 'values', 'xattrs']);

export function normalizePolicy(policy: Policy): unknown {
  return normalize(policy, '', 0);
}

function permissionUnits(word: string): string {
  return (word.match(/[PpCc]?[IiUu]?[Xx]|[^Xx]/g) ?? [word]).sort().join('');
}

function normalize(value: unknown, key: string, depth: number): unknown {
  if (depth > 4000 || value === null || typeof value !== 'object') {
    if (typeof value === 'string' && (key === 'permissions')) return permissionUnits(value);
    return value;
  }
  if (Array.isArray(value)) {
    const items = value.map((v) => normalize(v, key, depth + 1));
    if (key === 'permissionWords') return items.map((w) => permissionUnits(String(w))).sort();
    if (UNORDERED.has(key)) return items.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0));
    return items;
  }
  const object = value as Record<string, unknown>;
  // Words compare by their source spelling.
  if (typeof object.raw === 'string' && 'quoted' in object && 'value' in object) return object.raw;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(object).sort()) {
    if (DROPPED.has(k)) continue;
    out[k] = normalize(object[k], k, depth + 1);
  }
  return out;
}
