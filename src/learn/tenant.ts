// Tenant safety: does a proposed pattern let one tenant's hat reach another tenant's area? Decided with
// AARE intersection (never string prefixes: `/srv/www/*` reaches /srv/www/bob without sharing a prefix
// with it), answered with the shortest path it would expose.
import { complement, compilePattern, compileUnion, DEFAULT_MAX_STATES, difference, isSubset, matches, type Automaton } from '../policy/aare/index.js';
import { areaPatterns, tenantOfHat, tenantOfPath, type Tenant } from '../web/index.js';
import type { Witness } from './model.js';

/**
 * A pattern that names one path, spelled as itself: printable ASCII without AARE metacharacters, variables or
 * doubled slashes. Its only string is the text, so the shortest string it shares with an area is the text.
 */
const PLAIN_PATH = /^\/[\x20-\x7e]*$/;
const NOT_PLAIN = /[*?[\]{}\\^,"@]|\/\//;

/** What a pattern's check against one tenant found (the witness without its permissions). */
type Crossing = { readonly subject: string; readonly tenant?: string; readonly message: (permissions: string) => string } | null;

export class TenantGuard {
  /**
   * Per tenant: every path outside other tenants' areas (other tenants' areas minus its own, complemented;
   * its own area may lie inside another's). A pattern crosses when it is not a subset of this: one product
   * search per pattern, with no intersection automaton built and minimized first.
   */
  private readonly foreign = new Map<Tenant, Automaton | undefined>();
  /** Per tenant and pattern: the check's answer (groups in one directory offer the same globs; exec alternatives share a path). */
  private readonly crossings = new Map<Tenant, Map<string, Crossing>>();

  constructor(readonly tenants: readonly Tenant[], private readonly automata: { get(pattern: string): Automaton | undefined } = { get: (p) => { const c = compilePattern(p, { kind: 'path' }); return c.ok ? c.automaton : undefined; } }) {}

  /** The tenant a profile/hat label belongs to: the first hat or child name in it that a tenant claims. */
  tenantOfProfile(label: string): Tenant | undefined {
    const names = label.split('//');
    for (let i = names.length - 1; i >= 1; i--) {
      const tenant = tenantOfHat(this.tenants, names[i]!);
      if (tenant) return tenant;
    }
    return undefined;
  }

  private outsideForeignAreas(tenant: Tenant): Automaton | undefined {
    if (this.foreign.has(tenant)) return this.foreign.get(tenant);
    const others = this.tenants.filter((t) => t !== tenant).flatMap((t) => t.areas.flatMap(areaPatterns));
    let automaton: Automaton | undefined;
    if (others.length > 0) {
      const otherUnion = compileUnion(others);
      const own = tenant.areas.flatMap(areaPatterns);
      const ownUnion = own.length ? compileUnion(own) : undefined;
      if (otherUnion.ok) automaton = complement(ownUnion?.ok ? difference(otherUnion.automaton, ownUnion.automaton) : otherUnion.automaton);
    }
    this.foreign.set(tenant, automaton);
    return automaton;
  }

  /**
   * The shortest path `pattern` matches inside another tenant's area, when the profile belongs to a tenant
   * and the pattern reaches one; a pattern too large to decide counts as crossing (fail closed).
   */
  crossing(profile: string, pattern: string, permissions: string): Witness | undefined {
    const tenant = this.tenantOfProfile(profile);
    if (!tenant) return undefined;
    const foreign = this.outsideForeignAreas(tenant);
    if (!foreign) return undefined;
    let known = this.crossings.get(tenant);
    if (!known) { known = new Map(); this.crossings.set(tenant, known); }
    let found = known.get(pattern);
    if (found === undefined) {
      found = this.check(tenant, foreign, pattern);
      if (known.size >= 20_000) known.clear();
      known.set(pattern, found);
    }
    if (found === null) return undefined;
    return { subject: found.subject, permissions, ...(found.tenant !== undefined ? { tenant: found.tenant } : {}), message: found.message(permissions) };
  }

  private check(tenant: Tenant, outside: Automaton, pattern: string): Crossing {
    try {
      let subject: string;
      if (PLAIN_PATH.test(pattern) && !NOT_PLAIN.test(pattern)) {
        if (matches(outside, pattern)) return null;
        subject = pattern;
      } else {
        const automaton = this.automata.get(pattern);
        if (!automaton) return { subject: pattern, message: () => `could not check ${pattern} against other tenants' areas` };
        // The shortest path in the pattern and in a foreign area, searched on the fly (as bounded as intersect()).
        const result = isSubset(automaton, outside, { maxStates: DEFAULT_MAX_STATES });
        if (result.subset) return null;
        subject = result.witness!.text;
      }
      const owner = tenantOfPath(this.tenants.filter((t) => t !== tenant), subject);
      return {
        subject, ...(owner ? { tenant: owner.name } : {}),
        message: (permissions) => `grants ${permissions} on ${subject}, in ${owner ? `${owner.name}'s` : 'another site\'s'} area`,
      };
    } catch {
      return { subject: pattern, message: () => `${pattern} is too large to check against other tenants' areas` };
    }
  }
}
