// Applying fixes: text edits on the decoded source (offsets from the lossless syntax tree), checked to
// leave a file that still parses as well as before. Pure: the CLI reads and writes the files.
import { parsePolicy, printTree } from '../policy/index.js';
import type { TextEdit } from './model.js';

export type FileEditResult =
  | { readonly ok: true; readonly text: string; readonly applied: number }
  | { readonly ok: false; readonly reason: string };

/** Apply edits of one file (duplicates collapse; overlapping edits are refused). */
export function applyEdits(text: string, edits: readonly TextEdit[], fileName = 'policy'): FileEditResult {
  const unique = new Map<string, TextEdit>();
  for (const e of edits) unique.set(`${e.offset}\0${e.length}\0${e.replacement}`, e);
  const sorted = [...unique.values()].sort((a, b) => b.offset - a.offset || b.length - a.length);
  let end = Infinity;
  for (const e of sorted) {
    if (e.offset < 0 || e.offset + e.length > text.length) return { ok: false, reason: `an edit at offset ${e.offset} lies outside the file` };
    if (e.offset + e.length > end) return { ok: false, reason: `two fixes overlap at offset ${e.offset}` };
    end = e.offset;
  }
  let out = text;
  for (const e of sorted) out = out.slice(0, e.offset) + e.replacement + out.slice(e.offset + e.length);
  const before = parsePolicy(text, fileName).diagnostics.filter((d) => d.severity === 'error').length;
  const parsed = parsePolicy(out, fileName);
  if (printTree(parsed.root) !== out) return { ok: false, reason: 'the fixed text does not parse back losslessly' };
  const after = parsed.diagnostics.filter((d) => d.severity === 'error').length;
  if (after > before) return { ok: false, reason: `the fixed text has syntax errors: ${parsed.diagnostics.find((d) => d.severity === 'error')!.message}` };
  return { ok: true, text: out, applied: sorted.length };
}
