// A small unified diff (Myers' O((N+M)·D) line diff), for previews of file changes such as
// `hatter learn --dry-run`. Output matches `diff -u`'s shape, so `patch -p1` (from /) applies it.

const CONTEXT = 3;

type Op = { readonly kind: ' ' | '-' | '+'; readonly line: string };

/** Lines with their line breaks kept, so a missing final newline shows. */
function splitLines(text: string): string[] {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g);
  return lines ?? [];
}

/** The shortest edit script from `a` to `b` (Myers 1986, forward greedy with a trace per D). */
function editScript(a: readonly string[], b: readonly string[]): Op[] {
  // Common prefix and suffix first: learn's changes are a few insertions in long files.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA--; endB--; }
  const n = endA - start;
  const m = endB - start;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = max === 0;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[start + x] === b[start + y]) { x++; y++; }
      v[offset + k] = x;
      if (x >= n && y >= m) { found = true; break; }
    }
  }
  // Walk the trace back from (n, m).
  const middle: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0 && (x > 0 || y > 0); d--) {
    const vd = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!);
    const prevK = down ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) { middle.push({ kind: ' ', line: a[start + x - 1]! }); x--; y--; }
    if (d === 0) break;
    if (down) { middle.push({ kind: '+', line: b[start + y - 1]! }); y--; }
    else { middle.push({ kind: '-', line: a[start + x - 1]! }); x--; }
  }
  while (x > 0 && y > 0) { middle.push({ kind: ' ', line: a[start + x - 1]! }); x--; y--; }
  middle.reverse();
  return [
    ...a.slice(0, start).map((line) => ({ kind: ' ' as const, line })),
    ...middle,
    ...a.slice(endA).map((line) => ({ kind: ' ' as const, line })),
  ];
}

/** `--- a/FILE` / `+++ b/FILE` and hunks; empty when the texts are equal. `before` undefined: a new file. */
export function unifiedDiff(before: string | undefined, after: string, file: string): string {
  if (before === after) return '';
  const name = file.replace(/^\/+/, '');
  const ops = editScript(splitLines(before ?? ''), splitLines(after));
  const out = [`--- ${before === undefined ? '/dev/null' : `a/${name}`}\n`, `+++ b/${name}\n`];
  let i = 0;
  while (i < ops.length) {
    if (ops[i]!.kind === ' ') { i++; continue; }
    // A hunk: from CONTEXT lines before this change to CONTEXT lines after the last change within reach.
    let first = Math.max(0, i - CONTEXT);
    while (first < i && ops[first]!.kind !== ' ') first++;
    let last = i;
    for (let j = i; j < ops.length; j++) {
      if (ops[j]!.kind !== ' ') last = j;
      else if (j - last > 2 * CONTEXT) break;
    }
    const end = Math.min(ops.length, last + CONTEXT + 1);
    let oldStart = 1;
    let newStart = 1;
    for (let j = 0; j < first; j++) {
      if (ops[j]!.kind !== '+') oldStart++;
      if (ops[j]!.kind !== '-') newStart++;
    }
    const hunk = ops.slice(first, end);
    const oldCount = hunk.filter((o) => o.kind !== '+').length;
    const newCount = hunk.filter((o) => o.kind !== '-').length;
    out.push(`@@ -${oldCount ? oldStart : oldStart - 1},${oldCount} +${newCount ? newStart : newStart - 1},${newCount} @@\n`);
    for (const op of hunk) {
      out.push(op.line.endsWith('\n') ? `${op.kind}${op.line}` : `${op.kind}${op.line}\n\\ No newline at end of file\n`);
    }
    i = end;
  }
  return out.join('');
}
