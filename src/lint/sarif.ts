// SARIF 2.1.0 (OASIS) for code-scanning systems: one run, the rule set as tool.driver.rules (with the
// docs/lint.md anchor as helpUri), one result per finding at its file, line and column; the include
// chain as related locations; suppressed findings carry an in-source suppression with its reason.
import { LINT_RULES, ruleAnchor } from './catalog.js';
import type { LintFinding } from './model.js';
import type { Suppression } from './suppress.js';

export interface SarifOptions {
  /** Base of helpUri (docs/lint.md as an absolute URI); each rule appends `#lint-<name>`. */
  readonly helpBase: string;
  readonly toolVersion: string;
  /** Turns a finding's file into an artifact URI (relative to the repository root, or file:///…). */
  readonly uriOf: (file: string) => string;
}

const LEVEL = { error: 'error', warning: 'warning', info: 'note' } as const;

function physical(uriOf: SarifOptions['uriOf'], file: string, line: number, col: number) {
  return { physicalLocation: { artifactLocation: { uri: uriOf(file) }, region: { startLine: Math.max(1, line), startColumn: Math.max(1, col) } } };
}

function result(f: LintFinding, options: SarifOptions, suppression?: Suppression) {
  const ruleIndex = LINT_RULES.findIndex((r) => r.code === f.code);
  return {
    ruleId: f.code,
    ...(ruleIndex >= 0 ? { ruleIndex } : {}),
    level: LEVEL[f.severity],
    message: { text: f.hint ? `${f.message}. Fix: ${f.hint}` : f.message },
    locations: [physical(options.uriOf, f.file, f.line, f.col)],
    ...(f.includeChain?.length ? {
      relatedLocations: f.includeChain.map((via, id) => ({ id, ...physical(options.uriOf, via.file, via.line, via.col), message: { text: 'included from here' } })),
    } : {}),
    ...(suppression ? { suppressions: [{ kind: 'inSource', justification: suppression.reason }] } : {}),
    ...(f.fix ? { properties: { fixable: true, fix: f.fix.description } } : {}),
  };
}

export function toSarif(findings: readonly LintFinding[], suppressed: readonly { finding: LintFinding; by: Suppression }[], options: SarifOptions): object {
  return {
    $schema: 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'hatter lint',
          version: options.toolVersion,
          informationUri: options.helpBase,
          rules: LINT_RULES.map((r) => ({
            id: r.code,
            name: ruleAnchor(r.code).replace(/^lint-/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()).replace(/^./, (c) => c.toUpperCase()),
            shortDescription: { text: r.title },
            helpUri: `${options.helpBase}#${ruleAnchor(r.code)}`,
            defaultConfiguration: { level: LEVEL[r.severity] },
            properties: { fixable: r.fixable, needsWebConfiguration: r.needsWeb },
          })),
        },
      },
      columnKind: 'utf16CodeUnits',
      results: [...findings.map((f) => result(f, options)), ...suppressed.map((s) => result(s.finding, options, s.by))],
    }],
  };
}
