// The interactive review as a pure state machine and a renderer: the CLI feeds it single keys and prints
// what render() returns; tests drive it the same way. Nothing here touches a file: the answers it
// collects become edits only when the review finishes (Ctrl-C aborts with nothing applied).
import type { Alternative, Answer, ProposalGroup, Proposals } from './model.js';

export type ReviewKey = 'allow' | 'deny' | 'glob' | 'next' | 'inherit' | 'profile' | 'child' | 'ignore' | 'finish' | 'undo' | 'override' | 'abort';

/** The single keys, as aa-logprof's dialogue has them where it can. */
export const REVIEW_KEYS: Readonly<Record<string, ReviewKey>> = {
  a: 'allow', d: 'deny', g: 'glob', n: 'next', i: 'inherit', p: 'profile', c: 'child', s: 'ignore', f: 'finish', u: 'undo',
  o: 'override', q: 'abort', '\u0003': 'abort',
};

const GLOB_KINDS = new Set<Alternative['kind']>(['variable', 'glob', 'site-glob', 'abstraction']);

interface Step {
  readonly position: number;
  readonly selected: number;
  readonly previous: Answer | undefined;
}

export class Review {
  position = 0;
  status: 'reviewing' | 'finished' | 'aborted' = 'reviewing';
  /** A line for the person after the last key (why an answer was refused, what undo did). */
  message = '';
  private readonly selected: number[];
  private readonly given: (Answer | undefined)[];
  private readonly history: Step[] = [];

  constructor(readonly proposals: Proposals) {
    this.selected = proposals.groups.map((g) => Math.max(0, g.defaultIndex));
    this.given = proposals.groups.map(() => undefined);
    if (proposals.groups.length === 0) this.status = 'finished';
  }

  get group(): ProposalGroup | undefined {
    return this.proposals.groups[this.position];
  }

  /** The alternative the cursor is on in the current group. */
  get current(): number {
    return this.selected[this.position] ?? 0;
  }

  /** What has been answered so far (unanswered groups change nothing). */
  answers(): Answer[] {
    return this.given.filter((a): a is Answer => a !== undefined);
  }

  private answer(answer: Answer): void {
    this.history.push({ position: this.position, selected: this.current, previous: this.given[this.position] });
    this.given[this.position] = answer;
    this.position++;
    if (this.position >= this.proposals.groups.length) this.status = 'finished';
  }

  private acceptIndex(index: number, override = false): void {
    const group = this.group!;
    const alt = group.alternatives[index]!;
    this.selected[this.position] = index;
    if (alt.crossesTenant && !override) {
      this.message = `refused: ${alt.crossesTenant.message}. Press o to accept it anyway, n for another alternative.`;
      return;
    }
    this.answer({ group: group.id, action: 'accept', alternative: index, ...(override ? { override: true } : {}) });
  }

  private pick(kind: Alternative['kind']): void {
    const index = this.group!.alternatives.findIndex((a) => a.kind === kind);
    if (index < 0) { this.message = `no ${kind} alternative for this group`; return; }
    this.acceptIndex(index);
  }

  press(key: ReviewKey | number): void {
    if (this.status !== 'reviewing' && key !== 'undo') return;
    this.message = '';
    const group = this.group;
    if (typeof key === 'number') {
      if (group && key >= 0 && key < group.alternatives.length) this.selected[this.position] = key;
      return;
    }
    switch (key) {
      case 'abort': this.status = 'aborted'; return;
      case 'finish': this.status = 'finished'; return;
      case 'undo': {
        const step = this.history.pop();
        if (!step) { this.message = 'nothing to undo'; return; }
        this.position = step.position;
        this.selected[step.position] = step.selected;
        this.given[step.position] = step.previous;
        this.status = 'reviewing';
        this.message = `undone: back to ${this.group!.id}`;
        return;
      }
    }
    if (!group) return;
    const alts = group.alternatives;
    switch (key) {
      case 'allow': this.acceptIndex(this.current); return;
      case 'override': this.acceptIndex(this.current, true); return;
      case 'deny': this.pick('deny'); return;
      case 'inherit': this.pick('inherit'); return;
      case 'profile': this.pick('profile'); return;
      case 'child': this.pick('child'); return;
      case 'ignore': this.answer({ group: group.id, action: 'ignore' }); return;
      case 'next': this.selected[this.position] = (this.current + 1) % alts.length; return;
      case 'glob': {
        for (let step = 1; step <= alts.length; step++) {
          const index = (this.current + step) % alts.length;
          if (GLOB_KINDS.has(alts[index]!.kind)) { this.selected[this.position] = index; return; }
        }
        this.message = 'no glob for this group';
      }
    }
  }
}

function time(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** The screen for the current state: the group, its alternatives with what each grants beyond the events, the keys. */
export function renderReview(review: Review): string {
  const group = review.group;
  const total = review.proposals.groups.length;
  if (review.status === 'aborted') return 'learning aborted: nothing was changed\n';
  if (!group || review.status === 'finished') return `review finished: ${review.answers().filter((a) => a.action === 'accept').length} of ${total} groups accepted\n`;
  const lines = [`[${review.position + 1}/${total}] ${renderGroup(group, review.current).trimEnd()}`];
  lines.push('');
  lines.push('  (a)llow  (d)eny  (g)lob  (n)ext  (i)nherit  (p)rofile  (c)hild  (s)kip/ignore  (u)ndo  (f)inish  (q)uit without changes  1-9 pick');
  if (review.message) lines.push(`  ${review.message}`);
  return `${lines.join('\n')}\n`;
}

/** One group for people: profile (and site), what it is about, events and times, each alternative with what it grants beyond the events. */
export function renderGroup(group: ProposalGroup, current = group.defaultIndex): string {
  const events = group.needs.reduce((n, need) => n + need.count, 0);
  const first = Math.min(...group.needs.map((n) => n.first ?? Infinity));
  const last = Math.max(...group.needs.map((n) => n.last ?? -Infinity));
  const lines: string[] = [];
  lines.push(`${group.id}  ${group.profile}${group.tenant ? `  (site ${group.tenant})` : ''}`);
  lines.push(`  ${group.title}`);
  lines.push(`  ${events} event${events === 1 ? '' : 's'}${Number.isFinite(first) ? `, ${time(first)} to ${time(last)}` : ''}${group.needs[0]?.loggedLabel ? `, logged as ${group.needs[0].loggedLabel}` : ''}`);
  lines.push('');
  group.alternatives.forEach((alt, i) => {
    const mark = i === current ? '>' : ' ';
    const tag = i === group.defaultIndex ? ' (default)' : '';
    lines.push(`${mark} ${i + 1}. [${alt.kind}] ${alt.rules.join(', ')}${tag}`);
    if (alt.note) lines.push(`       ${alt.note}`);
    if (alt.beyond) lines.push(`       ${alt.beyond.message}`);
    if (alt.crossesTenant) lines.push(`       !! ${alt.crossesTenant.message}: needs an override (o)`);
  });
  return `${lines.join('\n')}\n`;
}
