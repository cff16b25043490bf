// The witness shortcuts and caches of propose (the tenant guard's per-pattern answers, the plain-path
// match, a pattern's shortest string reused for "what else it grants") against the straightforward
// automata questions: intersect / difference, minimized, then isEmpty. Same subjects on random samples,
// also when the second group asks what the first one's answer is cached for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { needsFromEvents, propose } from '../../src/learn/index.js';
import { TenantGuard } from '../../src/learn/tenant.js';
import { compilePattern, compileUnion, difference, intersect, isEmpty, literalPattern, type Automaton } from '../../src/policy/aare/index.js';
import { areaPatterns, tenantsFromFlags, type Tenant } from '../../src/web/index.js';
import { avc, eventsOf, policyOf } from './fixture.js';

const SITES = ['alice', 'bob', 'carol'] as const;
const TENANTS = tenantsFromFlags(['alice=/srv/www/alice', 'bob=/srv/www/bob', 'carol=/srv/www/alice/carol']).tenants;
const POLICY = policyOf({
  '/etc/apparmor.d/apache2': `profile apache2 /usr/sbin/apache2 flags=(complain) {\n${SITES.map((s) => `  ^${s} flags=(complain) {\n  }\n`).join('')}}\n`,
});

const segment = fc.constantFrom('srv', 'www', 'alice', 'bob', 'carol', 'img', 'a', 'index.php', 'x.jpg', '.htaccess', 'b c', 'q[1]', 'up-*', 'é');
/** Paths in, around and between the tenants' areas (and outside them). */
const path = fc.tuple(fc.constantFrom('', '/srv', '/srv/www', '/srv/www/alice', '/srv/www/bob', '/srv/www/alice/carol'), fc.array(segment, { minLength: 1, maxLength: 3 }))
  .map(([head, parts]) => `${head}/${parts.join('/')}`);

function compiled(pattern: string): Automaton {
  const result = compilePattern(pattern, { kind: 'path' });
  assert.ok(result.ok, pattern);
  return result.automaton;
}

/** The shortest path of `pattern` in another tenant's area, asked the plain way. */
function referenceCrossing(tenant: Tenant, pattern: string): string | undefined {
  const others = TENANTS.filter((t) => t !== tenant).flatMap((t) => t.areas.flatMap(areaPatterns));
  const own = tenant.areas.flatMap(areaPatterns);
  const otherUnion = compileUnion(others);
  const ownUnion = compileUnion(own);
  assert.ok(otherUnion.ok && ownUnion.ok);
  const result = isEmpty(intersect(compiled(pattern), difference(otherUnion.automaton, ownUnion.automaton)));
  return result.empty ? undefined : result.witness!.text;
}

test('the tenant guard answers as intersect + isEmpty, for plain paths and globs, cached or not', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...SITES), path, fc.constantFrom('', '/*', '/**', '*.jpg')), { minLength: 1, maxLength: 6 }), (asks) => {
    const guard = new TenantGuard(TENANTS);
    for (const round of [1, 2]) {
      for (const [site, p, suffix] of asks) {
        const pattern = `${literalPattern(p)}${suffix}`;
        const tenant = TENANTS.find((t) => t.name === site)!;
        const found = guard.crossing(`apache2//${site}`, pattern, 'r');
        assert.equal(found?.subject, referenceCrossing(tenant, pattern), `${site} ${pattern} (round ${round})`);
      }
    }
  }), { numRuns: 60 });
});

test('what an alternative grants beyond the events is the difference automaton\'s shortest string', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...SITES), path), { minLength: 1, maxLength: 6 }), (opens) => {
    const lines = opens.map(([site, p]) => avc(`operation="open" class="file" profile="apache2//${site}" name="${p}" pid=9 comm="apache2" requested_mask="r" denied_mask="r" fsuid=33 ouid=0`));
    const needs = needsFromEvents(eventsOf(lines), POLICY.compiled);
    const proposals = propose(needs, { policy: POLICY.compiled, tenants: TENANTS });
    for (const group of proposals.groups) {
      if (group.class !== 'file') continue;
      const eventPath = (group.needs[0] as { path: string }).path;
      for (const alt of group.alternatives) {
        if (alt.kind !== 'glob' && alt.kind !== 'site-glob') continue;
        const rule = alt.rules[0]!;
        const token = rule.slice(0, rule.lastIndexOf(' '));
        const pattern = token.startsWith('"') ? token.slice(1, -1).replace(/\\(["\\])/g, '$1') : token; // ruleToken's quoting undone
        const result = isEmpty(difference(compiled(pattern), compiled(literalPattern(eventPath))));
        assert.equal(alt.beyond?.subject, result.empty ? undefined : result.witness!.text, `${group.profile} ${rule} beyond ${eventPath}`);
      }
    }
  }), { numRuns: 60 });
});
