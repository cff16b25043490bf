// The AST as JSON for `hatter parse --json`: spans become file/line/col ranges, CST links are dropped.
import { LineIndex } from '../diagnostic/index.js';
import type { Policy } from './types.js';

export function policyToJson(policy: Policy, text: string): unknown {
  const index = new LineIndex(text);
  const convert = (value: unknown, depth: number): unknown => {
    if (depth > 2000 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => convert(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'span' && v && typeof v === 'object' && 'offset' in v) {
        const span = v as { file: string; offset: number; length: number };
        const start = index.location(span.offset);
        const end = index.location(span.offset + span.length);
        out.span = { file: span.file, line: start.line, col: start.col, endLine: end.line, endCol: end.col };
      } else out[key] = convert(v, depth + 1);
    }
    return out;
  };
  return convert(policy, 0);
}
