// Cross-check with Debian's python3-libapparmor (3.0.8): on every line it accepts, hatter agrees on
// the event type, operation, profile, name and masks. Lines it rejects (class=, newer fields) are counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatAalogparse, parseLine } from '../../src/logs/index.js';
import { corpus } from '../support/corpora.js';
import { repoRoot } from '../support/repo.js';
import { parseWithLibAppArmor } from '../support/libapparmor.js';

type ReferenceRecord = { event: string; operation: string | null; profile: string | null; name: string | null; requested: string | null; denied: string | null };

function reference(lines: string[]): ReferenceRecord[] | string {
  return parseWithLibAppArmor<ReferenceRecord>(lines, "{'event': event, 'operation': r.operation, 'profile': r.profile, 'name': r.name, 'requested': r.requested_mask, 'denied': r.denied_mask}");
}

const probe = reference(['type=AVC msg=audit(1.000:1): apparmor="DENIED" operation="open" profile="p" name="/x"']);
const skip = typeof probe === 'string' ? probe : false;

function inputs(): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  const logTests = corpus('log-tests');
  if (logTests.dir) {
    for (const f of readdirSync(logTests.dir).filter((f) => f.endsWith('.in')).sort()) out.push({ name: f, text: readFileSync(join(logTests.dir, f), 'utf8') });
  }
  const samples = join(repoRoot, '..', 'shared', 'tools', 'aa-vm', 'examples', 'sample-audit');
  if (existsSync(samples)) {
    for (const f of readdirSync(samples).filter((f) => f.endsWith('.log')).sort()) {
      readFileSync(join(samples, f), 'utf8').split('\n').filter(Boolean).forEach((line, i) => out.push({ name: `${f}:${i + 1}`, text: line }));
    }
  }
  return out;
}

test('on every line python3-libapparmor accepts, hatter agrees on type, operation, profile, name and masks', { skip }, (t) => {
  const cases = inputs();
  const ref = reference(cases.map((c) => c.text));
  assert.ok(typeof ref !== 'string');
  let accepted = 0;
  const disagreements: string[] = [];
  cases.forEach((c, i) => {
    const r = ref[i]!;
    if (r.event === 'INVALID') return;
    accepted++;
    // the same view the upstream suite prints, which is what the reference's fields mean
    const view = formatAalogparse(c.text, c.name);
    const field = (label: string) => new RegExp(`^${label}: (.*)$`, 'm').exec(view)?.[1] ?? null;
    const mine = {
      event: /Event type: AA_RECORD_(\w+)/.exec(view)![1]!,
      operation: field('Operation'),
      profile: field('Profile'),
      name: field('Name'),
      requested: field('Mask'),
      denied: field('Denied Mask'),
    };
    if (JSON.stringify(mine) !== JSON.stringify(r)) disagreements.push(`${c.name}: hatter ${JSON.stringify(mine)} reference ${JSON.stringify(r)}`);
    // and the event view reads the same line (unless it spans several lines, as a few test inputs do)
    if (!c.text.trim().includes('\n')) {
      const parsed = parseLine(c.text.trim());
      if (parsed.kind === 'event' && r.profile !== null) assert.equal(parsed.event.label?.text, r.profile, c.name);
    }
  });
  t.diagnostic(`python3-libapparmor accepted ${accepted} of ${cases.length} lines; hatter agrees on ${accepted - disagreements.length}`);
  assert.deepEqual(disagreements, []);
});
