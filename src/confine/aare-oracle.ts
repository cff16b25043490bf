// Exact widening with the AARE engine: the paths a Landlock grant covers that the hat does not allow.
import { compileRuleSet, difference, intersect, isEmpty, formatWitness, type Automaton } from '../policy/aare/index.js';
import type { WideningOracle } from './widening.js';

export { literalPattern } from './widening.js';

const MAX_STATES = 200_000;

export function aareWideningOracle(): WideningOracle {
  const cache = new Map<string, Automaton | null>();
  const compileSet = (patterns: readonly string[]): Automaton | null => {
    const key = patterns.join('\0');
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const result = compileRuleSet(patterns.map((pattern, id) => ({ pattern, id })), { maxStates: MAX_STATES });
    const automaton = result.ok && result.rejected.length === 0 ? result.automaton : null;
    cache.set(key, automaton);
    return automaton;
  };
  return {
    beyond(granted, allowed, denied) {
      try {
        const grant = compileSet(granted);
        if (!grant) return undefined;
        let hat = allowed.length ? compileSet(allowed) : null;
        if (allowed.length && !hat) return undefined;
        if (hat && denied.length) {
          const deny = compileSet(denied);
          if (!deny) return undefined;
          hat = difference(hat, deny, { maxStates: MAX_STATES });
        }
        const beyond = hat ? difference(grant, hat, { maxStates: MAX_STATES }) : grant;
        const result = isEmpty(beyond, { maxStates: MAX_STATES });
        return result.empty ? { empty: true, witnesses: [] } : { empty: false, witnesses: [formatWitness(result.witness!)] };
      } catch {
        return undefined; // state limit: fall back to the per-grant report
      }
    },
    overlaps(subject, allowed, denied) {
      try {
        const grant = compileSet(subject);
        let hat = allowed.length ? compileSet(allowed) : null;
        if (!grant || (allowed.length && !hat)) return undefined;
        if (!hat) return false;
        if (denied.length) {
          const deny = compileSet(denied);
          if (!deny) return undefined;
          hat = difference(hat, deny, { maxStates: MAX_STATES });
        }
        return !isEmpty(intersect(grant, hat, { maxStates: MAX_STATES }), { maxStates: MAX_STATES }).empty;
      } catch {
        return undefined;
      }
    },
  };
}
