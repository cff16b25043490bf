// Answers to edits: what a person (the review) or a script (`--answers FILE`) decided, turned into the
// PolicyEdits of the chosen alternatives. The answers file is JSON (docs/diagnostics.md lists its errors):
//   { "answers": [ { "group": "g3", "action": "accept", "alternative": 1 },
//                  { "group": "g4", "action": "ignore" },
//                  { "group": "g7", "action": "accept", "alternative": 2, "override": true } ] }
// (a bare array of answers is read as well). `alternative` defaults to the group's default; an alternative
// that reaches another tenant's area is refused unless `override` is true. Groups without an answer change nothing.
import type { Diagnostic } from '../policy/diagnostic/index.js';
import type { PolicyEdit } from './edit-model.js';
import type { Answer, ProposalGroup, Proposals } from './model.js';

const ORIGIN = '<answers>';

function problem(code: string, message: string, severity: Diagnostic['severity'] = 'error', hint?: string): Diagnostic {
  return { file: ORIGIN, line: 1, col: 1, severity, code, message, ...(hint ? { hint } : {}) };
}

/** Read an answers document (already JSON-parsed); malformed entries become diagnostics, never exceptions. */
export function parseAnswers(document: unknown, file = ORIGIN): { answers: Answer[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const list = Array.isArray(document) ? document : (document !== null && typeof document === 'object' && Array.isArray((document as { answers?: unknown }).answers)) ? (document as { answers: unknown[] }).answers : undefined;
  if (!list) return { answers: [], diagnostics: [{ ...problem('learn/bad-answers', 'the answers must be a JSON array, or an object with an "answers" array'), file }] };
  const answers: Answer[] = [];
  list.forEach((entry, i) => {
    const where = `answer ${i + 1}`;
    if (entry === null || typeof entry !== 'object') { diagnostics.push({ ...problem('learn/bad-answers', `${where} is not an object`), file }); return; }
    const { group, action, alternative, override } = entry as Record<string, unknown>;
    if (typeof group !== 'string') { diagnostics.push({ ...problem('learn/bad-answers', `${where} has no "group" string`), file }); return; }
    if (action === 'ignore') { answers.push({ group, action: 'ignore' }); return; }
    if (action !== 'accept') { diagnostics.push({ ...problem('learn/bad-answers', `${where}: "action" must be "accept" or "ignore"`), file }); return; }
    if (alternative !== undefined && (typeof alternative !== 'number' || !Number.isInteger(alternative) || alternative < 0)) {
      diagnostics.push({ ...problem('learn/bad-answers', `${where}: "alternative" must be a whole number ≥ 0`), file });
      return;
    }
    answers.push({ group, action: 'accept', ...(alternative !== undefined ? { alternative } : {}), ...(override === true ? { override: true } : {}) });
  });
  return { answers, diagnostics };
}

/** The answers `--apply` gives: every group's default (groups without a safe default are left alone). */
export function defaultAnswers(proposals: Proposals): Answer[] {
  return proposals.groups.filter((g) => g.defaultIndex >= 0).map((g) => ({ group: g.id, action: 'accept' as const, alternative: g.defaultIndex }));
}

/**
 * The PolicyEdits the answers make, in an order the editor can apply: new hats and profiles first (the
 * rules that follow may go into them), each edit once. A group whose profile is a missing hat brings its
 * stub along when the stub itself was not answered.
 */
export function applyAnswers(proposals: Proposals, answers: readonly Answer[]): { edits: PolicyEdit[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const byId = new Map(proposals.groups.map((g) => [g.id, g]));
  const chosen: { group: ProposalGroup; index: number }[] = [];
  const answered = new Set<string>();
  for (const answer of answers) {
    const group = byId.get(answer.group);
    if (!group) { diagnostics.push(problem('learn/unknown-group', `no proposal group '${answer.group}' (the groups are g1 to g${proposals.groups.length}; run with --json to list them)`)); continue; }
    if (answered.has(group.id)) { diagnostics.push(problem('learn/duplicate-answer', `group ${group.id} is answered twice; the first answer counts`, 'warning')); continue; }
    answered.add(group.id);
    if (answer.action === 'ignore') continue;
    const index = answer.alternative ?? group.defaultIndex;
    const alt = group.alternatives[index];
    if (index < 0 || !alt) { diagnostics.push(problem('learn/unknown-alternative', `group ${group.id} (${group.title}) has no alternative ${index} (0 to ${group.alternatives.length - 1})`)); continue; }
    if (alt.crossesTenant && !(answer.action === 'accept' && answer.override === true)) {
      diagnostics.push(problem('learn/crosses-tenant', `group ${group.id}: ${alt.rules.join(', ')} ${alt.crossesTenant.message}; refused`, 'error', 'answer with "override": true to accept it anyway'));
      continue;
    }
    chosen.push({ group, index });
  }
  // Stubs for missing hats that accepted rules go into.
  const stubFor = new Map(proposals.groups.filter((g) => g.class === 'change_hat' && g.automatic).map((g) => [g.profile, g]));
  for (const { group } of [...chosen]) {
    const stub = stubFor.get(group.profile);
    if (stub && !answered.has(stub.id) && stub.defaultIndex >= 0) { answered.add(stub.id); chosen.push({ group: stub, index: stub.defaultIndex }); }
  }
  const edits: PolicyEdit[] = [];
  const seen = new Set<string>();
  for (const { group, index } of chosen) {
    for (const edit of group.alternatives[index]!.edits) {
      const key = edit.kind === 'add-rule' ? `r\0${edit.profile}\0${edit.rule}` : `p\0${edit.parent}\0${edit.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      edits.push(edit);
    }
  }
  const created = edits.filter((e) => e.kind === 'create-profile');
  const depth = (e: PolicyEdit) => (e.kind === 'create-profile' ? e.parent.split('//').length : 0);
  created.sort((a, b) => depth(a) - depth(b));
  return { edits: [...created, ...edits.filter((e) => e.kind === 'add-rule')], diagnostics };
}
