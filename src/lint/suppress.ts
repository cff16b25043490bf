// Inline suppression: `# hatter-lint: allow lint/shared-tmp — reason` on the finding's line or the line
// before. The reason is required (a suppression is a decision someone must be able to read later); a
// comment without one, or naming no known rule, is itself a finding and suppresses nothing.
import type { ParsedFile } from '../policy/index.js';
import { LINT_RULE_BY_CODE } from './catalog.js';
import type { LintFinding } from './model.js';

export interface Suppression {
  readonly file: string;
  readonly line: number;
  readonly codes: readonly string[];
  readonly reason: string;
}

const MARKER = /#\s*hatter-lint:\s*allow\b(.*)$/;
const CODE = /^lint\/[a-z0-9-]+/;

/** Suppressions of one file, and the findings about malformed ones. */
export function readSuppressions(file: ParsedFile): { suppressions: Suppression[]; findings: LintFinding[] } {
  const suppressions: Suppression[] = [];
  const findings: LintFinding[] = [];
  const lines = file.text.split('\n');
  lines.forEach((text, index) => {
    const m = MARKER.exec(text);
    if (!m) return;
    let rest = m[1]!.trim();
    const codes: string[] = [];
    for (;;) {
      const c = CODE.exec(rest);
      if (!c) break;
      codes.push(c[0]);
      rest = rest.slice(c[0].length).replace(/^\s*,?\s*/, '');
    }
    const reason = rest.replace(/^(—|–|--|-|:)\s*/, '').trim();
    const line = index + 1;
    const col = text.indexOf('#') + 1;
    const unknown = codes.filter((c) => !LINT_RULE_BY_CODE.has(c));
    if (codes.length === 0 || unknown.length > 0) {
      findings.push({ file: file.display, line, col, severity: 'warning', code: 'lint/suppression-without-reason', message: codes.length === 0 ? 'hatter-lint suppression names no rule: it suppresses nothing' : `hatter-lint suppression names unknown rule ${unknown.join(', ')}: it suppresses nothing`, hint: 'write # hatter-lint: allow lint/CODE — why this is safe here' });
      return;
    }
    if (reason === '') {
      findings.push({ file: file.display, line, col, severity: 'warning', code: 'lint/suppression-without-reason', message: `suppression of ${codes.join(', ')} gives no reason: it suppresses nothing`, hint: `write # hatter-lint: allow ${codes.join(', ')} — why this is safe here` });
      return;
    }
    suppressions.push({ file: file.display, line, codes, reason });
  });
  return { suppressions, findings };
}

/** Is the finding suppressed by a comment on its line or the line before (in the file it points at)? */
export function suppressedBy(finding: LintFinding, suppressions: readonly Suppression[]): Suppression | undefined {
  return suppressions.find((s) => s.file === finding.file && (s.line === finding.line || s.line === finding.line - 1) && s.codes.includes(finding.code));
}
