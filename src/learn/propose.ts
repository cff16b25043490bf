// Needs to proposals: one group per profile and object, each with alternatives in the order of
// preference (exact rule, tunables variables, a glob of the last component or extension, `**` up to
// the site's own directory, an existing abstraction; exec: ix, Px, a child profile, Ux behind a flag;
// deny and audit deny), what each grants beyond the events (a witness), and tenant safety: an
// alternative that reaches another tenant's area is never the default. Learning-label fix-ups
// (missing hat stubs, `change_profile -> P//*`, `signal peer=P//*`) are proposed automatically.
import { compilePattern, compileUnion, DEFAULT_MAX_STATES, isEmpty, isSubset, literalPattern, literalPrefix, matches, supersetRegExp, type Automaton, type Witness as AareWitness } from '../policy/aare/index.js';
import { compilePolicy, decide, type CompiledPolicy, type CompiledProfile } from '../policy/eval/index.js';
import type { ResolvedProfile, ResolvedVariable } from '../policy/resolve/index.js';
import type { Tenant } from '../web/index.js';
import type { PolicyEdit } from './edit-model.js';
import type { Alternative, ExecNeed, FileNeed, GenericNeed, Need, NeedClass, ProposalGroup, Proposals, Witness } from './model.js';
import { TenantGuard } from './tenant.js';
import { namesProcessId, temporaryDirectory, temporaryPrefix } from './defaults.js';

/** An abstraction the user could include: its include name and its rules, resolved as a profile. */
export interface Abstraction {
  /** As written in an include: `abstractions/php`. */
  readonly include: string;
  /** `profile hatter-abstraction { include <…> }`, resolved. Never compiled whole (see fileGroup). */
  readonly profile: ResolvedProfile;
  /** How many rules it has (what else it grants, in numbers). */
  readonly rules: number;
}

export interface ProposeContext {
  readonly policy: CompiledPolicy;
  /** Variables the loaded policy (its tunables) defines: @{PROC}, @{pid}, @{HOME} … */
  readonly variables?: readonly ResolvedVariable[];
  readonly tenants?: readonly Tenant[];
  /** Offer Ux for exec needs (off by default: unconfined helpers undo the hat). */
  readonly allowUx?: boolean;
  readonly abstractions?: readonly Abstraction[];
  /** PHP-FPM pools' `listen` by `apparmor_hat` (from --fpm): the socket a new pool hat must accept on. */
  readonly poolListen?: ReadonlyMap<string, string>;
}

// --- rule text ---

/** A pattern as a rule token: quoted when it holds characters the policy lexer would split on. */
export function ruleToken(pattern: string): string {
  return /[\s"#]/.test(pattern) ? `"${pattern.replace(/(["\\])/g, '\\$1')}"` : pattern;
}

function fileRule(pattern: string, permissions: string, owner: boolean, prefix = ''): string {
  return `${prefix}${owner ? 'owner ' : ''}${ruleToken(pattern)} ${permissions}`;
}

function addRules(profile: string, rules: readonly string[], comment?: string): PolicyEdit[] {
  return rules.map((rule, i) => ({ kind: 'add-rule', profile, rule, ...(comment !== undefined && i === 0 ? { comment } : {}) }));
}

function alternative(kind: Alternative['kind'], profile: string, rules: readonly string[], extra: Partial<Alternative> = {}, edits?: PolicyEdit[]): Alternative {
  return { kind, rules, edits: edits ?? addRules(profile, rules), covers: 1, ...extra };
}

function denyAlternatives(profile: string, rule: string): Alternative[] {
  return [
    alternative('deny', profile, [`deny ${rule}`], { note: 'refuse it (quietly)' }),
    alternative('audit-deny', profile, [`audit deny ${rule}`], { note: 'refuse it and log every attempt' }),
  ];
}

// --- variables ---

const PREFIX_VARIABLES = ['PROC', 'sys', 'run', 'HOME'];
const SEGMENT_VARIABLES = ['pid', 'uid', 'multiarch'];

/** A variable's values with nested variables expanded, as one AARE (`{a,b}`); undefined when unknown or cyclic. */
function expandVariable(name: string, variables: ReadonlyMap<string, readonly string[]>, depth = 0): string | undefined {
  const values = variables.get(name);
  if (!values || values.length === 0 || depth > 8) return undefined;
  const expanded: string[] = [];
  for (const value of values) {
    let failed = false;
    const text = value.replace(/@\{([A-Za-z0-9_]+)\}/g, (_, inner: string) => {
      const sub = expandVariable(inner, variables, depth + 1);
      if (sub === undefined) failed = true;
      return sub ?? '';
    });
    if (failed) return undefined;
    expanded.push(text);
  }
  return expanded.length === 1 ? expanded[0]! : `{${expanded.join(',')}}`;
}

class Variables {
  private readonly automata = new Map<string, Automaton | null>();
  private readonly values: Map<string, readonly string[]>;

  constructor(variables: readonly ResolvedVariable[]) {
    this.values = new Map(variables.flatMap((v) => (v.kind === 'set' ? [[v.name, v.values] as const] : [])));
  }

  private automaton(name: string): Automaton | undefined {
    if (!this.automata.has(name)) {
      const pattern = expandVariable(name, this.values);
      const compiled = pattern !== undefined ? compilePattern(pattern, { kind: 'path' }) : undefined;
      this.automata.set(name, compiled?.ok ? compiled.automaton : null);
    }
    return this.automata.get(name) ?? undefined;
  }

  /** The path with tunables variables where they fit: a leading @{PROC}/@{HOME}… then @{pid}/@{uid}/@{multiarch} segments. */
  substitute(path: string): string | undefined {
    let rest = path;
    let head = '';
    for (const name of PREFIX_VARIABLES) {
      const automaton = this.automaton(name);
      if (!automaton) continue;
      // The longest prefix ending in '/' that the variable matches (with or without its slash).
      for (let i = path.length - 1; i > 0; i--) {
        if (path[i] !== '/') continue;
        const prefix = path.slice(0, i + 1);
        if (matches(automaton, prefix) || matches(automaton, prefix.slice(0, -1))) {
          head = `@{${name}}/`;
          rest = path.slice(i + 1);
          break;
        }
      }
      if (head) break;
    }
    const segments = rest.split('/').map((segment) => {
      if (segment === '') return segment;
      for (const name of SEGMENT_VARIABLES) {
        const automaton = this.automaton(name);
        if (automaton && matches(automaton, segment)) return `@{${name}}`;
      }
      return literalPattern(segment);
    });
    const result = head + segments.join('/');
    return result === literalPattern(path) ? undefined : result;
  }

  /** The pattern with every variable written out (for the automata questions). */
  expand(pattern: string): string {
    return pattern.replace(/@\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => expandVariable(name, this.values) ?? whole);
  }
}

// --- witnesses ---

/** Compiled path patterns by text: groups in one directory share their globs, so each is compiled once. */
export class PatternAutomata {
  private readonly cache = new Map<string, Automaton | null>();

  get(pattern: string): Automaton | undefined {
    let automaton = this.cache.get(pattern);
    if (automaton === undefined) {
      try {
        const compiled = compilePattern(pattern, { kind: 'path' });
        automaton = compiled.ok ? compiled.automaton : null;
      } catch {
        automaton = null; // past the state cap: no automaton, the callers fail closed
      }
      if (this.cache.size >= 20_000) this.cache.clear();
      this.cache.set(pattern, automaton);
    }
    return automaton ?? undefined;
  }

  private readonly shortestCache = new Map<string, AareWitness | null>();

  /** The pattern's shortest string (smallest in witness order among equals); null when it matches nothing. */
  shortest(pattern: string): AareWitness | null | undefined {
    let found = this.shortestCache.get(pattern);
    if (found === undefined) {
      const automaton = this.get(pattern);
      if (!automaton) return undefined;
      const result = isEmpty(automaton);
      found = result.empty ? null : result.witness!;
      if (this.shortestCache.size >= 20_000) this.shortestCache.clear();
      this.shortestCache.set(pattern, found);
    }
    return found;
  }
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** The shortest path `pattern` matches that none of `paths` is: what the alternative grants beyond the events. */
function beyondEvents(automata: PatternAutomata, pattern: string, paths: readonly string[], permissions: string): Witness | undefined {
  try {
    if (paths.length === 1 && PRINTABLE_ASCII.test(paths[0]!)) {
      // The pattern's own shortest string is the answer unless it is the event's path (shared by every
      // group in one directory, so computed once per pattern); then the product search below decides.
      const first = automata.shortest(pattern);
      if (first === null) return undefined;
      if (first !== undefined && first.text !== paths[0]) return { subject: first.text, permissions, message: `this also grants ${permissions} on ${first.text}` };
    }
    const wide = automata.get(pattern);
    const exact = paths.length === 1 ? automata.get(literalPattern(paths[0]!)) : (() => { const u = compileUnion(paths.map(literalPattern), { kind: 'path' }); return u.ok ? u.automaton : undefined; })();
    if (!wide || !exact) return undefined;
    // One product search, without building and minimizing the difference automaton first.
    const result = isSubset(wide, exact, { maxStates: DEFAULT_MAX_STATES });
    if (result.subset) return undefined;
    const subject = result.witness!.text;
    return { subject, permissions, message: `this also grants ${permissions} on ${subject}` };
  } catch {
    return undefined;
  }
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '' : path.slice(0, i);
}

// --- per class ---

const FILE_ORDER = 'rwalkm';
/** Abstractions offered per group, smallest first. */
const MAX_ABSTRACTIONS = 2;

function mergeLetters(a: string, b: string): string {
  const set = new Set([...a, ...b]);
  if (set.has('w')) set.delete('a');
  return [...FILE_ORDER].filter((l) => set.has(l)).join('');
}

export class Proposer {
  private readonly guard: TenantGuard;
  private readonly variables: Variables | undefined;
  private readonly attachments: { name: string; automaton: Automaton }[] = [];
  private readonly automata = new PatternAutomata();
  private nextId = 1;

  private readonly supersets = new Map<string, RegExp | null>();

  /** Could this rule pattern match the path? A cheap over-approximation (exactness comes from decide()). */
  private mayMatch(pattern: string, path: string): boolean {
    if (!path.startsWith(literalPrefix(pattern))) return false;
    let regexp = this.supersets.get(pattern);
    if (regexp === undefined) { regexp = supersetRegExp(pattern) ?? null; this.supersets.set(pattern, regexp); }
    return regexp === null || regexp.test(path);
  }

  private readonly abstractionSlices = new Map<string, CompiledProfile | null>();

  /**
   * Does the abstraction allow this file access? A file decision depends only on the rules whose pattern
   * matches the path, so only those (and a few more that merely may match) are compiled (compiling Debian's big abstractions whole took seconds
   * of CPU, minutes in the test VM), and the slice is shared by every path that matches the same rules.
   */
  private abstractionAllows(abstraction: Abstraction, path: string, permissions: string, owner: boolean | undefined): boolean {
    const matching: number[] = [];
    abstraction.profile.rules.forEach((rule, i) => {
      if (rule.class === 'all' || ((rule.class === 'file' || rule.class === 'link') && this.mayMatch(rule.pattern, path))) matching.push(i);
    });
    if (!matching.some((i) => abstraction.profile.rules[i]!.prefix.decision === 'allow')) return false;
    const key = `${abstraction.include}\0${matching.join(',')}`;
    let slice = this.abstractionSlices.get(key);
    if (slice === undefined) {
      const profile: ResolvedProfile = { ...abstraction.profile, rules: matching.map((i) => abstraction.profile.rules[i]!), children: [] };
      try {
        slice = compilePolicy({ profiles: [profile], files: [] }).compiled.profiles.get(profile.name) ?? null;
      } catch { slice = null; } // past the state cap: not offered
      this.abstractionSlices.set(key, slice);
    }
    if (!slice) return false;
    try {
      const decision = decide({ profiles: new Map([['a', slice]]) }, 'a', { class: 'file', path, permissions, ...(owner ? { owner } : {}) });
      return decision.bits.every((b) => b.outcome === 'allow');
    } catch { return false; }
  }

  constructor(private readonly context: ProposeContext) {
    this.guard = new TenantGuard(context.tenants ?? [], this.automata);
    this.variables = context.variables?.length ? new Variables(context.variables) : undefined;
    for (const [name, profile] of context.policy.profiles) {
      if (name.includes('//')) continue;
      const pattern = profile.attachment ?? (name.startsWith('/') ? name : undefined);
      if (pattern === undefined) continue;
      const compiled = compilePattern(pattern, { kind: 'path' });
      if (compiled.ok) this.attachments.push({ name, automaton: compiled.automaton });
    }
  }

  /** `preferred`: the alternative to default to when it is safe (else the first safe one, as always). */
  private group(profile: string, klass: NeedClass, title: string, needs: readonly Need[], alternatives: Alternative[], automatic = false, preferred = -1): ProposalGroup {
    const tenant = this.guard.tenantOfProfile(profile);
    const safe = (a: Alternative | undefined) => a !== undefined && !a.crossesTenant && !a.needsOverride && a.kind !== 'deny' && a.kind !== 'audit-deny' && a.kind !== 'ignore';
    const defaultIndex = safe(alternatives[preferred]) ? preferred : alternatives.findIndex(safe);
    return {
      id: `g${this.nextId++}`, profile, ...(tenant ? { tenant: tenant.name } : {}), class: klass, title, needs, alternatives, defaultIndex,
      ...(automatic ? { automatic: true } : {}),
    };
  }

  /**
   * The tenant check for an include: it grants the need's own path and everything its file rules allow
   * (`/tmp/** rw` in abstractions/user-tmp reaches a site kept under /tmp), so each is checked.
   */
  private checkedAbstraction(profile: string, alt: Alternative, abstraction: Abstraction, path: string): Alternative {
    const own = this.checked(profile, alt, literalPattern(path), 'r');
    if (own.crossesTenant) return own;
    for (const rule of abstraction.profile.rules) {
      if (rule.class !== 'file' || rule.prefix.decision !== 'allow') continue;
      const checked = this.checked(profile, alt, rule.pattern, [...rule.permissions].join(''));
      if (checked.crossesTenant) return checked;
    }
    return alt;
  }

  /** With the tenant check: a pattern that reaches another tenant's area is marked (and so never the default). */
  private checked(profile: string, alt: Alternative, pattern: string, permissions: string): Alternative {
    const expanded = this.variables ? this.variables.expand(pattern) : pattern;
    const crossing = this.guard.crossing(profile, expanded, permissions);
    return crossing ? { ...alt, crossesTenant: crossing, needsOverride: true } : alt;
  }

  private fileGroup(profile: string, needs: readonly FileNeed[]): ProposalGroup {
    const path = needs[0]!.path;
    const permissions = needs.reduce((p, n) => mergeLetters(p, n.permissions), '');
    const owner = needs.every((n) => n.owner);
    const paths = [path];
    const alts: Alternative[] = [];
    const offer = (kind: Alternative['kind'], pattern: string, note?: string) => {
      if (alts.some((a) => a.rules[0] === fileRule(pattern, permissions, owner))) return;
      const expanded = this.variables ? this.variables.expand(pattern) : pattern;
      const beyond = kind === 'exact' ? undefined : beyondEvents(this.automata, expanded, paths, permissions);
      const alt = alternative(kind, profile, [fileRule(pattern, permissions, owner)], { ...(beyond ? { beyond } : {}), ...(note ? { note } : {}) });
      alts.push(this.checked(profile, alt, pattern, permissions));
    };
    let preferred = -1;
    offer('exact', literalPattern(path));
    const withVariables = this.variables?.substitute(path);
    if (withVariables) {
      const before = alts.length;
      offer('variable', withVariables, 'with the variables the tunables define');
      // A pid is new on every run: the exact rule would never match again (docs/learn.md, "Defaults").
      if (alts.length > before && namesProcessId(path) && withVariables.startsWith('@{PROC}/@{pid}/')) preferred = before;
    }
    const temporary = temporaryPrefix(path);
    if (temporary) {
      // mkstemp's random suffix is new on every run: the prefix glob, `owner` when the task made the file
      const before = alts.length;
      offer('glob', `${literalPattern(temporary.dir)}/${literalPattern(temporary.prefix)}*`, `every temporary ${temporary.prefix}XXXXXX file in ${temporary.dir}`);
      if (alts.length > before) preferred = before;
    }
    const temporaryDir = temporaryDirectory(path);
    if (temporaryDir) {
      // mkdtemp's random directory name is new on every run (hatter serve's PHP-FPM sockets live in one)
      const before = alts.length;
      const { dir: tempDir, prefix, rest, filePrefix } = temporaryDir;
      const restPattern = filePrefix ? `${literalPattern(rest.slice(0, rest.lastIndexOf('/') + 1))}${literalPattern(filePrefix)}*` : literalPattern(rest);
      offer('glob', `${literalPattern(tempDir)}/${literalPattern(prefix)}*/${restPattern}`, `${filePrefix ? `every ${filePrefix}XXXXXX file` : rest} in every temporary ${prefix}XXXXXX directory in ${tempDir}`);
      if (alts.length > before) preferred = before;
    }
    const dir = dirname(path);
    const name = basename(path);
    const dot = name.lastIndexOf('.');
    if (dot > 0 && dot < name.length - 1) offer('glob', `${literalPattern(dir)}/*${literalPattern(name.slice(dot))}`, `every ${name.slice(dot)} file in ${dir || '/'}`);
    if (name !== '') offer('glob', `${literalPattern(dir)}/*`, `every file in ${dir || '/'}`);
    const tenant = this.guard.tenantOfProfile(profile);
    const area = tenant?.areas.filter((a) => path === a.path || path.startsWith(`${a.path}/`)).sort((a, b) => b.path.length - a.path.length)[0];
    if (area) offer('site-glob', `${literalPattern(area.path)}/**`, `everything below ${tenant!.name}'s ${area.path}`);
    // The smallest abstractions that already allow it (a few: each grants much more than the event).
    const covering = (this.context.abstractions ?? []).filter((abstraction) => this.abstractionAllows(abstraction, path, permissions, owner)).sort((a, b) => a.rules - b.rules || a.include.localeCompare(b.include)).slice(0, MAX_ABSTRACTIONS);
    for (const abstraction of covering) {
      const alt = alternative('abstraction', profile, [`include <${abstraction.include}>`], { note: `${abstraction.include} allows this and grants ${abstraction.rules} rules in all` });
      alts.push(this.checkedAbstraction(profile, alt, abstraction, path));
    }
    alts.push(...denyAlternatives(profile, fileRule(literalPattern(path), permissions, owner)));
    return this.group(profile, 'file', `${owner ? 'owner ' : ''}${permissions} on ${path}`, needs, alts, false, preferred);
  }

  private execGroup(profile: string, needs: readonly ExecNeed[]): ProposalGroup {
    const path = needs[0]!.path;
    const owner = needs.every((n) => n.owner);
    const token = ruleToken(literalPattern(path));
    const prefix = owner ? 'owner ' : '';
    const alts: Alternative[] = [];
    alts.push(alternative('inherit', profile, [`${prefix}${token} ix`], { note: `the helper runs with ${profile}'s own rules` }));
    const attached = this.attachments.find((a) => matches(a.automaton, path));
    if (attached) {
      const rule = attached.name === path ? `${prefix}${token} Px` : `${prefix}${token} Px -> ${ruleToken(attached.name)}`;
      alts.push(alternative('profile', profile, [rule], { note: `the helper runs in its own profile ${attached.name}` }));
    }
    const names = profile.split('//');
    const base = basename(path).replace(/[^A-Za-z0-9_.-]/g, '_') || 'helper';
    if (names.length === 1) {
      const child = `${profile}//${base}`;
      const rule = `${prefix}${token} Cx -> ${base}`;
      const edits: PolicyEdit[] = [
        ...(this.context.policy.profiles.has(child) ? [] : [{ kind: 'create-profile', parent: profile, name: base, hat: false, flags: ['complain'] } as const]),
        ...addRules(profile, [rule]),
      ];
      alts.push(alternative('child', profile, [rule], { note: `a child profile ${child}, created empty in complain mode` }, edits));
    } else {
      // A hat cannot hold profiles: the helper gets a sibling profile named after the hat (php-fpm//myblogdash).
      const parent = names.slice(0, -1).join('//');
      const name = `${names[names.length - 1]}${base}`;
      const rule = `${prefix}${token} Px -> ${ruleToken(`${parent}//${name}`)}`;
      const edits: PolicyEdit[] = [
        ...(this.context.policy.profiles.has(`${parent}//${name}`) ? [] : [{ kind: 'create-profile', parent, name, hat: false, flags: ['complain'] } as const]),
        ...addRules(profile, [rule]),
      ];
      alts.push(alternative('child', profile, [rule], { note: `a profile ${parent}//${name} for the helper, created empty in complain mode` }, edits));
    }
    if (this.context.allowUx) alts.push(alternative('unconfined', profile, [`${prefix}${token} Ux`], { note: 'the helper runs unconfined: nothing the hat denies applies to it' }));
    alts.push(...denyAlternatives(profile, `${prefix}${token} x`));
    const checkedAlts = alts.map((a) => (a.kind === 'deny' || a.kind === 'audit-deny' ? a : this.checked(profile, a, literalPattern(path), 'x')));
    return this.group(profile, 'exec', `exec ${path}`, needs, checkedAlts);
  }

  private genericGroup(profile: string, need: GenericNeed): ProposalGroup {
    const access = need.access.join(' ');
    const f = need.fields;
    const alts: Alternative[] = [];
    let title: string;
    let exactRule: string;
    const top = profile.split('//')[0]!;
    switch (need.class) {
      case 'network': {
        exactRule = ['network', f.family, f.type].filter(Boolean).join(' ');
        alts.push(alternative('exact', profile, [exactRule]));
        if (f.type) alts.push(alternative('glob', profile, [`network ${f.family}`], { note: `every ${f.family} socket type` }));
        title = `network ${[f.family, f.type].filter(Boolean).join(' ')} (${access})`;
        break;
      }
      case 'unix': {
        exactRule = `unix (${need.access.join(', ')})${f.type ? ` type=${f.type}` : ''}`;
        alts.push(alternative('exact', profile, [exactRule]));
        title = `unix ${f.type ?? ''} (${access})`;
        break;
      }
      case 'signal': case 'ptrace': {
        const peer = f.peer!;
        const cls = need.class;
        const learningPeer = peer.split('//').some((p) => p.startsWith('null-'));
        const peerTop = peer.split('//')[0]!;
        const set = cls === 'signal' && f.signal ? ` set=(${f.signal})` : '';
        exactRule = `${cls} (${need.access.join(', ')})${set} peer=${ruleToken(literalPattern(peer))}`;
        if (learningPeer || (peer.includes('//') && peerTop === top)) {
          const fix = `${cls} (${need.access.join(', ')}) peer=${ruleToken(`${literalPattern(peerTop)}//*`)}`;
          alts.push(alternative('fixup', profile, [fix], { note: `every hat of ${peerTop}: the peer ${peer} is ${learningPeer ? 'a complain-mode learning label' : 'one of its hats'}` }));
        }
        if (!learningPeer) {
          alts.push(alternative('exact', profile, [exactRule]));
          if (set) alts.push(alternative('glob', profile, [`${cls} (${need.access.join(', ')}) peer=${ruleToken(literalPattern(peer))}`], { note: 'every signal' }));
        }
        title = `${cls} ${access}${f.signal ? ` ${f.signal}` : ''} to ${peer}`;
        break;
      }
      case 'mount': {
        const kind = need.access[0] ?? 'mount';
        const mountpoint = f.mountpoint ? ruleToken(literalPattern(f.mountpoint)) : '';
        if (kind === 'mount') {
          const conds = [f.fstype ? `fstype=${f.fstype}` : '', f.options ? `options=(${f.options})` : ''].filter(Boolean).join(' ');
          exactRule = `mount${conds ? ` ${conds}` : ''}${f.source ? ` ${ruleToken(literalPattern(f.source))}` : ''}${mountpoint ? ` -> ${mountpoint}` : ''}`;
        } else {
          exactRule = `${kind}${mountpoint ? ` ${mountpoint}` : ''}`;
        }
        alts.push(alternative('exact', profile, [exactRule]));
        title = `${kind} ${f.source ? `${f.source} ` : ''}${f.mountpoint ?? ''}`.trim();
        break;
      }
      case 'dbus': {
        const conds = (['bus', 'path', 'interface', 'member'] as const).filter((k) => f[k]).map((k) => `${k}=${ruleToken(f[k]!)}`);
        if (f.name) conds.push(`peer=(name=${ruleToken(f.name)})`);
        exactRule = `dbus (${need.access.join(', ')}) ${conds.join(' ')}`.trim();
        alts.push(alternative('exact', profile, [exactRule]));
        title = `dbus ${access} ${f.interface ?? ''}.${f.member ?? ''} on ${f.name ?? f.path ?? ''}`;
        break;
      }
    }
    alts.push(...denyAlternatives(profile, exactRule));
    const automatic = alts[0]?.kind === 'fixup';
    return this.group(profile, need.class, title, [need], alts, automatic);
  }

  /**
   * PHP-FPM's apparmor_hat in a complain-mode master: the workers run as `M//null-M//HAT`, and the kernel
   * logs no change_profile line for it (complain mode allows it silently), so nothing in the log asks for
   * what enforce mode needs: `change_profile -> M//*` in the master (else every worker exits 70), the
   * master's SIGQUIT/SIGTERM to its workers (`signal (send) peer=M//*`) and the hat receiving them
   * (`signal (receive) peer=M`). Each is proposed once per master/hat unless the policy (or a logged need's
   * own group) already covers it.
   */
  private poolFixups(needs: readonly Need[]): ProposalGroup[] {
    const hats = new Map<string, { master: string; need: Need }>();
    for (const need of needs) {
      const parts = need.loggedLabel?.split('//');
      if (!parts || parts.length < 3 || parts[1] !== `null-${parts[0]}`) continue;
      const hat = need.profile.split('//').slice(0, 2).join('//');
      if (!hat.startsWith(`${parts[0]}//`) || hats.has(hat)) continue;
      hats.set(hat, { master: parts[0]!, need });
    }
    const logged = (profile: string, klass: NeedClass, peerTop: string) => needs.some((n) => n.profile === profile && n.class === klass
      && (klass === 'change_profile' ? (n as { target: string }).target.startsWith(`${peerTop}//`) : ((n as GenericNeed).fields?.peer ?? '').startsWith(peerTop)));
    const allows = (profile: string, request: Parameters<typeof decide>[2]) => {
      if (!this.context.policy.profiles.has(profile)) return false;
      try { return decide(this.context.policy, profile, request).bits.every((b) => b.outcome === 'allow'); } catch { return false; }
    };
    const groups: ProposalGroup[] = [];
    const masters = new Set<string>();
    for (const [hat, { master, need }] of hats) {
      const masterStar = ruleToken(`${literalPattern(master)}//*`);
      const fix = (profile: string, klass: NeedClass, title: string, rule: string, note: string) => {
        groups.push(this.group(profile, klass, title, [need], [alternative('fixup', profile, [rule], { note }), ...denyAlternatives(profile, rule)], true));
      };
      if (!masters.has(master)) {
        masters.add(master);
        if (!logged(master, 'change_profile', master) && !allows(master, { class: 'change_profile', target: hat })) {
          fix(master, 'change_profile', `change_profile to ${hat} (PHP-FPM apparmor_hat, not logged in complain mode)`, `change_profile -> ${masterStar}`,
            `the pool's workers enter ${hat} with change_profile; complain mode logged it only as ${need.loggedLabel}`);
        }
        if (!logged(master, 'signal', master) && !allows(master, { class: 'signal', access: ['send'], fields: { peer: hat, signal: 'term' } })) {
          fix(master, 'signal', `signal send to ${master}//* (the master stops its workers)`, `signal (send) peer=${masterStar}`,
            'the PHP-FPM master sends SIGQUIT/SIGTERM (and SIGKILL on timeouts) to its workers');
        }
      }
      if (!logged(hat, 'signal', master) && !allows(hat, { class: 'signal', access: ['receive'], fields: { peer: master, signal: 'term' } })) {
        fix(hat, 'signal', `signal receive from ${master} (the master stops its workers)`, `signal (receive) peer=${ruleToken(literalPattern(master))}`,
          `the worker in ${hat} receives the master's SIGQUIT/SIGTERM`);
      }
      // A learning profile has no rules, so the kernel does not mediate (or log) its sockets: the worker's
      // accept on the pool's listen socket never shows in complain mode, and in enforce mode the hat
      // denies it (every worker exits at once). The socket's family comes from the pool's `listen`.
      const listen = this.context.poolListen?.get(hat.slice(hat.indexOf('//') + 2));
      const family = listen === undefined ? undefined : listenFamily(listen);
      const families = family ? [family] : ['inet', 'inet6', 'unix'];
      const loggedSocket = needs.some((n) => n.profile === hat && n.class === 'network' && families.includes((n as GenericNeed).fields?.family ?? ''));
      if (!loggedSocket && !families.some((f) => allows(hat, { class: 'network', access: ['accept'], fields: { family: f, type: 'stream' } }))) {
        const rules = families.map((f) => `network ${f} stream`);
        const note = listen === undefined
          ? 'the pool\'s listen socket (give --fpm to know its family): the worker accepts on it, which complain mode does not log'
          : `the pool listens on ${listen}: the worker accepts on it, which complain mode does not log`;
        const alts = rules.map((rule) => alternative('fixup', hat, [rule], { note }));
        groups.push(this.group(hat, 'network', `accept on the pool's ${family ?? ''} socket${listen ? ` ${listen}` : ''} (not logged in complain mode)`.replace('  ', ' '), [need], [...alts, ...denyAlternatives(hat, rules[0]!)], family !== undefined));
      }
    }
    return groups;
  }

  /** Every group, in a stable order: hat stubs first (rules for a hat need the hat), then by profile and object. */
  propose(needs: readonly Need[]): Proposals {
    const groups: ProposalGroup[] = [];
    // Hat stubs: profiles the needs name that the policy lacks, and change_hat into a missing hat.
    const stubs = new Map<string, Need[]>();
    for (const need of needs) {
      if (need.missingProfile) stubs.set(need.profile, [...(stubs.get(need.profile) ?? []), need]);
      if (need.class === 'change_hat') {
        const label = `${need.profile}//${need.target}`;
        stubs.set(label, [...(stubs.get(label) ?? []), need]);
      }
    }
    for (const [label, stubNeeds] of [...stubs].sort((a, b) => a[0].split('//').length - b[0].split('//').length || a[0].localeCompare(b[0]))) {
      const i = label.lastIndexOf('//');
      if (i < 0) continue; // a top-level profile missing altogether is reported by the CLI, not created
      const parent = label.slice(0, i);
      const name = label.slice(i + 2);
      const logged = stubNeeds.find((n) => n.loggedLabel)?.loggedLabel;
      const hatEdit: PolicyEdit = { kind: 'create-profile', parent, name, hat: true, flags: ['complain'] };
      const alts: Alternative[] = [
        alternative('fixup', label, [`^${name} flags=(complain) {}`], { note: `create the hat ${name} in ${parent}, empty and in complain mode${logged ? ` (logged as ${logged})` : ''}` }, [hatEdit]),
        alternative('child', label, [`profile ${name} flags=(complain) {}`], { note: `create ${name} as a child profile of ${parent} (change_profile targets may be either)` }, [{ ...hatEdit, hat: false }]),
      ];
      groups.push(this.group(label, 'change_hat', `missing hat ${name} in ${parent}${logged ? ` (logged as ${logged})` : ''}`, stubNeeds, alts, true));
    }
    const files = new Map<string, FileNeed[]>();
    const execs = new Map<string, ExecNeed[]>();
    const ordered = [...needs].sort((a, b) => a.profile.localeCompare(b.profile) || a.key.localeCompare(b.key));
    for (const need of ordered) {
      if (need.class === 'file') {
        const key = `${need.profile}\0${need.path}`;
        files.set(key, [...(files.get(key) ?? []), need]);
      } else if (need.class === 'exec') {
        const key = `${need.profile}\0${need.path}`;
        execs.set(key, [...(execs.get(key) ?? []), need]);
      }
    }
    const emitted = new Set<string>();
    for (const need of ordered) {
      switch (need.class) {
        case 'file': {
          const key = `${need.profile}\0${need.path}`;
          if (!emitted.has(key)) { emitted.add(key); groups.push(this.fileGroup(need.profile, files.get(key)!)); }
          break;
        }
        case 'exec': {
          const key = `x${need.profile}\0${need.path}`;
          if (!emitted.has(key)) { emitted.add(key); groups.push(this.execGroup(need.profile, execs.get(`${need.profile}\0${need.path}`)!)); }
          break;
        }
        case 'capability': {
          const rule = `capability ${need.capability}`;
          groups.push(this.group(need.profile, 'capability', `capability ${need.capability}`, [need], [alternative('exact', need.profile, [rule]), ...denyAlternatives(need.profile, rule)]));
          break;
        }
        case 'change_profile': {
          const top = need.profile.split('//')[0]!;
          const alts: Alternative[] = [];
          const target = need.target;
          if (target.startsWith(`${top}//`) || need.loggedLabel !== undefined) {
            alts.push(alternative('fixup', need.profile, [`change_profile -> ${ruleToken(`${literalPattern(top)}//*`)}`], { note: `to every hat of ${top} (what PHP-FPM's apparmor_hat needs)` }));
          }
          const rule = `change_profile -> ${ruleToken(literalPattern(target))}`;
          alts.push(alternative('exact', need.profile, [rule]), ...denyAlternatives(need.profile, rule));
          groups.push(this.group(need.profile, 'change_profile', `change_profile to ${target}`, [need], alts, alts[0]!.kind === 'fixup'));
          break;
        }
        case 'change_hat': break; // a hat stub above
        default: groups.push(this.genericGroup(need.profile, need));
      }
    }
    groups.push(...this.poolFixups(needs));
    const complainProfiles = [...this.context.policy.profiles].filter(([, p]) => p.mode === 'complain').map(([name]) => name);
    return { groups, complainProfiles };
  }
}

/** Proposals for a set of needs (pure: the policy, tunables, tenants and abstractions come in as data). */
export function propose(needs: readonly Need[], context: ProposeContext): Proposals {
  return new Proposer(context).propose(needs);
}

/** The address family of a PHP-FPM `listen` value: a path is unix, `[::]:9000` inet6, a bare port all addresses (inet6, dual stack). */
export function listenFamily(listen: string): 'inet' | 'inet6' | 'unix' {
  const value = listen.trim();
  if (value.startsWith('/')) return 'unix';
  if (value.startsWith('[') || /^\d+$/.test(value)) return 'inet6';
  return 'inet';
}
