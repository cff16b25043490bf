// Public surface of lint/: the rule set over a loaded policy (and the web configuration), suppressions,
// fixes and SARIF.
//   const result = lintPolicy({ loaded: loadPolicy(file, reader), web: { tenants, apache: { config } } });
//   result.findings: LintFinding[] (diagnostics with code lint/…, optional fix), sorted
import { runRules, type LintInput } from './rules.js';
import { readSuppressions, suppressedBy, type Suppression } from './suppress.js';
import type { LintFinding } from './model.js';

export type { LintFinding, LintFix, LintRuleInfo, TextEdit } from './model.js';
export { LINT_RULES, LINT_RULE_BY_CODE, ruleAnchor } from './catalog.js';
export { createLintCache, runRules, webServerProfile, type LintCache, type ConfiguredHat, type LintInput, type LintWeb } from './rules.js';
export { readSuppressions, suppressedBy, type Suppression } from './suppress.js';
export { applyEdits, type FileEditResult } from './fix.js';
export { toSarif, type SarifOptions } from './sarif.js';

export interface LintResult {
  /** Findings left after suppression, sorted by file, line, column, code. */
  readonly findings: readonly LintFinding[];
  /** Findings a comment suppressed, with the comment. */
  readonly suppressed: readonly { readonly finding: LintFinding; readonly by: Suppression }[];
}

export function findingKey(f: LintFinding): string {
  return `${f.file}\0${f.line}\0${f.col}\0${f.code}\0${f.message}`;
}

export function compareFindings(a: LintFinding, b: LintFinding): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
}

export function lintPolicy(input: LintInput): LintResult {
  const raw = runRules(input);
  const suppressions: Suppression[] = [];
  for (const file of input.loaded.files.values()) {
    const read = readSuppressions(file);
    suppressions.push(...read.suppressions);
    raw.push(...read.findings);
  }
  const seen = new Set<string>();
  const findings: LintFinding[] = [];
  const suppressed: { finding: LintFinding; by: Suppression }[] = [];
  for (const f of raw) {
    const key = findingKey(f);
    if (seen.has(key)) continue;
    seen.add(key);
    const by = suppressedBy(f, suppressions);
    if (by) suppressed.push({ finding: f, by });
    else findings.push(f);
  }
  findings.sort(compareFindings);
  return { findings, suppressed };
}
