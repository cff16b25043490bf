// Property tests: random multi-tenant policies, with and without a planted leak. Leak-free policies give
// no flow; each planted leak is found with a witness of the right kind inside the right tenant's area;
// every file witness is one decide() allows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decide } from '../../src/policy/eval/index.js';
import { isolation, type AccessKind } from '../../src/isolate/index.js';
import { areaContains, tenantsFromFlags } from '../../src/web/index.js';
import { compileText } from '../policy/eval/support.js';

const BIT: Record<AccessKind, string> = { read: 'r', write: 'a', create: 'w', link: 'l', lock: 'k', 'map-exec': 'm', exec: 'x' };

/** Rules that never reach another tenant: the hat's own tree, system files, its own temp directory. */
const safeRule = (site: string) => fc.constantFrom(
  `/srv/www/${site}/** rwk,`, `/srv/www/${site}/cgi-bin/* rix,`, '/usr/lib/** mr,', '/etc/ssl/** r,',
  `/tmp/${site}/** rw,`, `owner /var/lib/php/sessions/${site}/** rw,`, '/dev/null rw,', 'deny /srv/www/** w,',
  '/usr/bin/* rix,', 'signal receive,', 'unix (receive) type=dgram,', 'signal send peer=web,',
);

type Leak =
  | { kind: 'glob'; from: number; to: number; perms: string }
  | { kind: 'shared'; from: number; to: number }
  | { kind: 'px'; from: number; to: number }
  | { kind: 'change_profile'; from: number; to: number };

const leakArb = (sites: number): fc.Arbitrary<Leak> => fc.tuple(fc.integer({ min: 0, max: sites - 1 }), fc.integer({ min: 1, max: sites - 1 })).chain(([from, offset]) => {
  const to = (from + offset) % sites;
  return fc.oneof(
    fc.constantFrom('r', 'w', 'l', 'k', 'm', 'ix').map((perms): Leak => ({ kind: 'glob', from, to, perms })),
    fc.constant<Leak>({ kind: 'shared', from, to }),
    fc.constant<Leak>({ kind: 'px', from, to }),
    fc.constant<Leak>({ kind: 'change_profile', from, to }),
  );
});

const scenario = fc.integer({ min: 2, max: 4 }).chain((sites) => fc.record({
  sites: fc.constant(sites),
  rules: fc.tuple(...Array.from({ length: sites }, (_, i) => fc.array(safeRule(`t${i}`), { maxLength: 5 }))),
  leak: fc.option(leakArb(sites), { nil: undefined }),
}));

function build(s: { sites: number; rules: string[][]; leak: Leak | undefined }): string {
  const extra = Array.from({ length: s.sites }, () => [] as string[]);
  let before = '';
  const leak = s.leak;
  if (leak?.kind === 'glob') extra[leak.from]!.push(`/srv/www/*/data/** ${leak.perms},`);
  if (leak?.kind === 'shared') { extra[leak.from]!.push('/var/cache/shared/** w,'); extra[leak.to]!.push('/var/cache/shared/** r,'); }
  if (leak?.kind === 'px') { extra[leak.from]!.push('/usr/local/bin/helper Px,'); before = 'profile helper /usr/local/bin/helper {\n  /srv/www/** r,\n}\n'; }
  if (leak?.kind === 'change_profile') extra[leak.from]!.push(`change_profile -> web//t${leak.to},`);
  // A safe `deny /srv/www/** w` in the leaking hat would cancel a planted `w` leak: leave it out there.
  const rulesOf = (rules: string[], i: number) => (leak?.kind === 'glob' && i === leak.from ? rules.filter((r) => !r.startsWith('deny ')) : rules);
  const hats = s.rules.map((rules, i) => `  ^t${i} {\n${[...rulesOf(rules, i), ...extra[i]!].map((r) => `    ${r}\n`).join('')}  }\n`).join('');
  return `${before}profile web {\n  /usr/lib/** mr,\n${hats}}\n`;
}

const GLOB_KIND: Record<string, AccessKind> = { r: 'read', w: 'create', l: 'link', k: 'lock', m: 'map-exec', ix: 'exec' };

test('planted leaks are found with a correct witness; leak-free policies give none', () => {
  fc.assert(fc.property(scenario, (s) => {
    const compiled = compileText(build(s));
    const model = tenantsFromFlags(Array.from({ length: s.sites }, (_, i) => `t${i}=/srv/www/t${i}`));
    const result = isolation(compiled, model, { profile: 'web' });
    assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error'), []);
    // Every file witness is allowed by decide() and lies in the target's area.
    for (const flow of result.flows) {
      if ((['read', 'write', 'create', 'lock', 'map-exec', 'exec'] as string[]).includes(flow.kind)) {
        assert.equal(decide(compiled, flow.label, { class: 'file', path: flow.witness, permissions: BIT[flow.kind as AccessKind], owner: flow.ownerOnly }).allowed, true, flow.summary);
        const target = model.tenants.find((t) => t.name === flow.to)!;
        assert.ok(target.areas.some((a) => areaContains(a, flow.witness.replace(/\/$/, ''))), flow.summary);
      }
      if (flow.kind === 'shared-path') {
        assert.equal(decide(compiled, flow.label, { class: 'file', path: flow.witness, permissions: 'w' }).allowed, true);
        assert.equal(decide(compiled, flow.reader!, { class: 'file', path: flow.witness, permissions: 'r' }).allowed, true);
      }
    }
    const leak = s.leak;
    if (!leak) { assert.deepEqual(result.flows, [], JSON.stringify(result.flows)); return; }
    const from = `t${leak.from}`;
    const to = `t${leak.to}`;
    const between = result.flows.filter((f) => f.from === from && f.to === to);
    switch (leak.kind) {
      case 'glob': {
        const flow = between.find((f) => f.kind === GLOB_KIND[leak.perms]);
        assert.ok(flow, `${leak.perms}: ${JSON.stringify(result.flows)}`);
        // `**` matches at least one character (guarded), so the shortest path is one name below data/.
        assert.equal(flow.witness, `/srv/www/${to}/data/a`);
        break;
      }
      case 'shared':
        assert.equal(between.find((f) => f.kind === 'shared-path')?.witness, '/var/cache/shared/a');
        break;
      case 'px':
        assert.ok(between.some((f) => f.kind === 'transition' && f.witness === `/srv/www/${to}` && f.via!.some((v) => v.startsWith('helper'))), JSON.stringify(result.flows));
        break;
      case 'change_profile':
        assert.equal(between.find((f) => f.kind === 'change_profile')?.witness, `web//${to}`);
        break;
    }
    // Nothing flows between tenants the leak does not involve.
    for (const f of result.flows) {
      if (leak.kind === 'px' || leak.kind === 'glob') assert.equal(f.from, from, f.summary);
      else { assert.equal(f.from, from, f.summary); assert.equal(f.to, to, f.summary); }
    }
  }), { numRuns: 60 });
});
