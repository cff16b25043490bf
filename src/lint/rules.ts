// The rules over the resolved policy (and the web configuration when given). Each rule is a function
// from the lint context to findings; set questions go through the AARE engine (sets.ts).
import type {
  LoadedPolicy, ParsedFile, ResolvedFileRule, ResolvedGenericRule, ResolvedProfile, ResolvedRule, RuleRef, Severity, SourceLocation, Statement,
} from '../policy/index.js';
import { vocabulary } from '../policy/index.js';
import {
  fpmPoolTargets, profileTreesFromResolved, reportApacheHats, tenantOfHat, areaPatterns,
  type ApacheConfig, type FpmConfig, type HatOrder, type MapOptions, type ProfileTreeWithAttachment, type Tenant, type TenantModel,
} from '../web/index.js';
import { LINT_RULE_BY_CODE } from './catalog.js';
import type { LintFinding, LintFix } from './model.js';
import { PatternSets, commonWitness, covers, differenceWitness, intersectionWitness, literalPattern } from './sets.js';

/** A hat a configuration outside the policy names (hatter.yaml sites). */
export interface ConfiguredHat {
  readonly hat: string;
  /** The parent profile the configuration puts it under. */
  readonly profile: string;
  readonly at: SourceLocation;
  /** Who names it, in words: `sites[0] (shop.example): defaultHat`. */
  readonly by: string;
  /** What happens when it is missing. */
  readonly consequence: string;
}

export interface LintWeb {
  readonly tenants?: TenantModel;
  readonly apache?: { readonly config: ApacheConfig; readonly map?: MapOptions; readonly order?: HatOrder; readonly profile?: string };
  readonly fpm?: { readonly config: FpmConfig; readonly profile?: string };
  readonly configuredHats?: readonly ConfiguredHat[];
}

export interface LintInput {
  readonly loaded: LoadedPolicy;
  readonly web?: LintWeb;
  /** Compiled patterns shared between the policies of one run (abstractions recur in every profile). */
  readonly cache?: LintCache;
}

export interface LintCache {
  readonly paths: PatternSets;
  readonly labels: PatternSets;
}

export function createLintCache(): LintCache {
  return { paths: new PatternSets(), labels: new PatternSets({ filterSlashes: false }) };
}

interface Context {
  readonly loaded: LoadedPolicy;
  readonly web: LintWeb;
  readonly profiles: readonly ResolvedProfile[];
  readonly siteNames: ReadonlySet<string>;
  readonly paths: PatternSets;
  readonly labels: PatternSets;
  readonly findings: LintFinding[];
}

export const PHP_FILES = '/**.{php,phtml,phar}'; // what Debian's PHP handlers run: .+\.ph(ar|p|tml)$
/** Where sites' files live when no web configuration says: Debian's and the FHS's usual document roots. */
export const WEB_ROOTS = '/{srv,var/www,home/*/public_html,usr/share,var/lib/wordpress}/**';
export const SHELLS = '/{,usr/}{,local/}bin/{sh,bash,rbash,dash,zsh,ksh,ksh93,mksh,csh,tcsh,fish,busybox,ash}';
export const SHARED_TMP = '/{tmp,var/tmp,dev/shm,run/shm}/{,**}';
export const DANGEROUS_CAPABILITIES: readonly string[] = [
  'dac_override', 'dac_read_search', 'fowner', 'chown', 'setuid', 'setgid', 'setpcap', 'setfcap', 'sys_admin', 'sys_ptrace',
  'sys_module', 'sys_rawio', 'sys_chroot', 'mknod', 'net_admin', 'net_raw', 'linux_immutable', 'mac_admin', 'mac_override',
  'bpf', 'perfmon', 'sys_boot', 'audit_control', 'checkpoint_restore', 'kill', 'syslog',
];
/** Abstractions written for desktop programs or administrators: too much for a web site's hat. */
export const BROAD_ABSTRACTIONS: readonly RegExp[] = [
  /^abstractions\/(authentication|user-tmp|user-write|user-download|private-files|private-files-strict|X|gnome|kde|kde-.*|dbus-session.*|dbus-accessibility.*|ubuntu-.*|consoles|admin|freedesktop\.org|xdg-desktop|wayland|audio|video|dri-enumerate|opencl.*|bash)$/,
];

function location(source: RuleRef): Pick<LintFinding, 'file' | 'line' | 'col' | 'offset' | 'length' | 'includeChain'> {
  return {
    file: source.file, line: source.line, col: source.col, offset: source.offset, length: source.length,
    ...(source.includeChain.length ? { includeChain: source.includeChain } : {}),
  };
}

function report(ctx: Context, code: string, at: RuleRef | SourceLocation, message: string, extra: { profile?: string; hint?: string; severity?: Severity; fix?: LintFix } = {}): void {
  const info = LINT_RULE_BY_CODE.get(code)!;
  const where = 'includeChain' in at && 'offset' in at ? location(at as RuleRef) : { file: at.file, line: at.line, col: at.col };
  ctx.findings.push({
    ...where, code, severity: extra.severity ?? info.severity, message,
    ...(extra.hint ? { hint: extra.hint } : {}), ...(extra.profile ? { profile: extra.profile } : {}), ...(extra.fix ? { fix: extra.fix } : {}),
  });
}

function flatten(profiles: readonly ResolvedProfile[]): ResolvedProfile[] {
  return profiles.flatMap((p) => [p, ...flatten(p.children)]);
}

const isAllow = (r: ResolvedRule) => r.prefix.decision === 'allow';
const fileRules = (p: ResolvedProfile) => p.rules.filter((r): r is ResolvedFileRule => r.class === 'file');
const writes = (r: ResolvedFileRule) => r.permissions.has('w') || r.permissions.has('a');
const executes = (r: ResolvedFileRule) => (r.exec !== undefined && r.exec.transition !== 'deny') || r.permissions.has('m');

/** A hat, or a child profile the web configuration names (PHP-FPM may change to a plain child). */
function isSite(ctx: Context, p: ResolvedProfile): boolean {
  return p.kind === 'hat' || (p.kind === 'child' && ctx.siteNames.has(p.localName));
}

function kindOf(p: ResolvedProfile): string {
  return p.kind === 'hat' ? 'hat' : p.kind === 'child' ? 'child profile' : 'profile';
}

// ---- rules over one profile -----------------------------------------------------------------

function phpWritableCode(ctx: Context, p: ResolvedProfile): void {
  const rules = fileRules(p);
  const writable = rules.filter((r) => isAllow(r) && writes(r));
  if (writable.length === 0) return;
  // Only denies of both halves take a path out for certain; an owner-only deny leaves the other half.
  const everyHalf = (r: ResolvedFileRule) => r.prefix.decision === 'deny' && r.prefix.owner === 'any';
  // Only rules that may meet the executing rule matter to its question (the sets agree there), so each
  // question gets the union of those (see mayOverlap): small, where the union of every writable rule of
  // Debian's abstractions was the costly part.
  const deniesWrite = rules.filter((r) => everyHalf(r) && writes(r));
  const deniesExec = rules.filter((r) => everyHalf(r) && (r.permissions.has('x') || r.permissions.has('m')));
  const near = (list: readonly ResolvedFileRule[], pattern: string) => list.filter((r) => mayOverlap(r.pattern, pattern)).map((r) => r.pattern);
  // Executable and writable: one finding per hat, at the first executing rule that meets the writable
  // set (a `/** mrwlkix` hat would otherwise get one finding per rule of every abstraction it includes).
  // Small products (one rule × the writable set) instead of one union of every executing rule: cheaper.
  for (const executor of rules.filter((r) => isAllow(r) && executes(r))) {
    const meets = near(writable, executor.pattern);
    if (meets.length === 0) continue; // (E − deny) ∩ (∪W − deny) is empty when E meets no writable rule
    const both = intersectionWitness([{ set: ctx.paths.one(executor.pattern), minus: ctx.paths.union(near(deniesExec, executor.pattern)) }, { set: ctx.paths.union(meets), minus: ctx.paths.union(near(deniesWrite, executor.pattern)) }]);
    if (both === undefined) continue;
    const sample = ctx.paths.one(literalPattern(both));
    const writer = writable.find((r) => commonWitness(sample, ctx.paths.one(r.pattern)) !== undefined) ?? writable[0]!;
    report(ctx, 'lint/php-writable-code', writer.source, `${kindOf(p)} ${p.name} can write files it also executes, e.g. ${both} (executed through '${executor.pattern} ${executor.exec?.text ?? 'm'}' at ${executor.source.file}:${executor.source.line}): code written there runs in the hat`, {
      profile: p.name, hint: 'keep code and writable data apart: narrow the writable or the executing rule, or deny execution where the site writes (deny /srv/www/site/uploads/** mx,)',
    });
    break;
  }
  // What PHP serves: readable PHP files, inside the sites' areas when the tenants are known.
  const php = ctx.paths.one(PHP_FILES);
  const deniesPhpWrite = deniesWrite.filter((r) => mayEndLikePhp(r.pattern));
  const candidates = writable.filter((r) => mayEndLikePhp(r.pattern) && intersectionWitness([{ set: ctx.paths.one(r.pattern), minus: ctx.paths.union(near(deniesPhpWrite, r.pattern)) }, { set: php }]) !== undefined);
  if (candidates.length === 0) return;
  // Only read rules that may meet this writable rule's PHP files matter to the question (the sets agree
  // there), so each candidate gets the union of those: small, instead of every rule of the abstractions.
  const areaList = ctx.web.tenants?.tenants.length ? ctx.web.tenants.tenants.flatMap((t) => t.areas.flatMap(areaPatterns)) : [WEB_ROOTS];
  const readRules = rules.filter((r) => r.permissions.has('r') && mayEndLikePhp(r.pattern) && mayOverlapAny(r.pattern, areaList));
  const readAllowed = readRules.filter(isAllow);
  const readDenied = readRules.filter(everyHalf);
  // Served means under a document root: the sites' areas when known, else the usual web roots.
  const areas = ctx.paths.union(areaList);
  for (const rule of candidates) {
    if (!mayOverlapAny(rule.pattern, areaList)) continue;
    const served = intersectionWitness([{ set: ctx.paths.one(rule.pattern), minus: ctx.paths.union(near(deniesPhpWrite, rule.pattern)) }, { set: php }, { set: ctx.paths.union(near(readAllowed, rule.pattern)), minus: ctx.paths.union(near(readDenied, rule.pattern)) }, { set: areas }]);
    if (served !== undefined) {
      report(ctx, 'lint/php-writable-code', rule.source, `${kindOf(p)} ${p.name} can write PHP files it also serves, e.g. ${served}: an uploaded web shell becomes code that runs in the hat`, {
        profile: p.name, hint: 'deny writing PHP files where the site writes (deny /srv/www/site/uploads/**.php w,), or keep uploads outside what PHP reads',
      });
    }
  }
}

// Cheap necessary conditions for two AARE patterns to share a string, used to skip automata that
// cannot change an answer. The literal head (before the first special character, slashes collapsed as
// the engine collapses them) is a prefix of every string a pattern matches, so two patterns whose
// heads disagree within the shorter one match nothing in common; likewise for the literal tail.
const SPECIAL = /[*?[\]{}@^\\"]/;

function literalHead(pattern: string): string {
  const at = pattern.search(SPECIAL);
  return (at < 0 ? pattern : pattern.slice(0, at)).replace(/\/{2,}/g, '/');
}

function literalTail(pattern: string): string {
  let at = pattern.length;
  while (at > 0 && !SPECIAL.test(pattern[at - 1]!)) at--;
  // A tail that starts in or after a run of slashes may meet a collapsed slash: keep only what follows.
  return pattern.slice(at).replace(/^.*\/{2,}/, '');
}

/** The literal heads of a pattern, a leading alternation `/{srv,var/www}/…` expanded (one head per branch). */
function literalHeads(pattern: string): string[] {
  const at = pattern.search(SPECIAL);
  if (at < 0 || pattern[at] !== '{') return [literalHead(pattern)];
  const close = pattern.indexOf('}', at);
  const body = close < 0 ? '' : pattern.slice(at + 1, close);
  if (close < 0 || /[{\\]/.test(body)) return [literalHead(pattern)];
  return body.split(',').map((branch) => literalHead(pattern.slice(0, at) + branch + (SPECIAL.test(branch) ? '*' : pattern.slice(close + 1))));
}

/** False only when the pattern certainly matches no string of any of `others`. */
export function mayOverlapAny(pattern: string, others: readonly string[]): boolean {
  const mine = literalHeads(pattern);
  return others.some((o) => literalHeads(o).some((h) => mine.some((m) => agree(m, h, false))) && agree(literalTail(pattern), literalTail(o), true));
}

const agree = (a: string, b: string, end: boolean) => (end ? (a.endsWith(b) || b.endsWith(a)) : (a.startsWith(b) || b.startsWith(a)));

/** False only when the two patterns certainly match no common string. */
export function mayOverlap(a: string, b: string): boolean {
  return agree(literalHead(a), literalHead(b), false) && agree(literalTail(a), literalTail(b), true);
}

/** False only when the pattern certainly matches no name PHP_FILES matches (.php, .phtml, .phar). */
export function mayEndLikePhp(pattern: string): boolean {
  const tail = literalTail(pattern);
  return ['.php', '.phtml', '.phar'].some((x) => agree(tail, x, true));
}

function crossSiteGlob(ctx: Context, p: ResolvedProfile): void {
  const tenants = ctx.web.tenants?.tenants;
  if (!tenants || tenants.length < 2) return;
  const tenant = tenantOfHat(tenants, p.localName);
  if (!tenant) return;
  const ownArea = ctx.paths.union(tenant.areas.flatMap(areaPatterns));
  const others = tenants.filter((t) => t !== tenant).map((t) => ({ t, area: ctx.paths.union(t.areas.flatMap(areaPatterns)) }));
  const rules = fileRules(p);
  for (const rule of p.rules) {
    if (!isAllow(rule) || (rule.class !== 'file' && rule.class !== 'link')) continue;
    const own = ctx.paths.one(rule.pattern);
    const deny = rule.class === 'file'
      ? ctx.paths.union(rules.filter((d) => d.prefix.decision === 'deny' && d.prefix.owner === 'any' && [...rule.permissions].every((b) => d.permissions.has(b))).map((d) => d.pattern))
      : undefined;
    for (const other of others) {
      if (rule.prefix.owner === 'owner' && separatedByOwner(tenant, other.t)) continue;
      // A witness in the other area but outside our own (areas may nest: the innermost one decides).
      const outside = intersectionWitness([{ set: own, minus: deny }, { set: other.area, minus: ownArea }]);
      if (outside === undefined) continue;
      report(ctx, 'lint/cross-site-glob', rule.source, `${kindOf(p)} ${p.name} (site ${tenant.name}) reaches ${other.t.name}'s area: this rule matches ${outside}`, {
        profile: p.name, hint: `narrow the rule to ${tenant.name}'s own directories (${tenant.areas.map((a) => a.path).join(', ')})`,
      });
      break;
    }
  }
}

function separatedByOwner(a: Tenant, b: Tenant): boolean {
  return a.user !== undefined && b.user !== undefined && String(a.user) !== String(b.user);
}

function perRuleChecks(ctx: Context, p: ResolvedProfile): void {
  const site = isSite(ctx, p);
  const shells = ctx.paths.one(SHELLS);
  const shared = ctx.paths.one(SHARED_TMP);
  const everything = ctx.paths.one('/**');
  for (const rule of p.rules) {
    if (!isAllow(rule)) continue;
    switch (rule.class) {
      case 'file': {
        const exec = rule.exec;
        if (site && exec && (exec.transition === 'inherit' || exec.fallback === 'inherit')) {
          const shell = commonWitness(ctx.paths.one(rule.pattern), shells);
          if (shell !== undefined) {
            report(ctx, 'lint/shell-inherit', rule.source, `${kindOf(p)} ${p.name} runs ${shell} with ${exec.text} (inherit): a shell in the hat runs anything the hat can read or execute, with the hat's whole power`, {
              profile: p.name, hint: 'run the shell in a child profile of its own (Cx -> sh) or drop it; PHP rarely needs one (disable shell_exec, exec, system)',
            });
          }
        }
        if (exec && (exec.transition === 'unconfined' || exec.fallback === 'unconfined')) {
          report(ctx, 'lint/unconfined-exec', rule.source, `${kindOf(p)} ${p.name} runs ${rule.pattern} ${exec.transition === 'unconfined' ? 'unconfined' : 'unconfined when its profile is missing'} (${exec.text}): everything that program does escapes confinement`, {
            profile: p.name, severity: site ? 'error' : 'warning', hint: 'use Px or Cx with a profile for the program (or Pix/Cix to stay confined when it is missing)',
          });
        }
        // The temporary directories' literal heads rule out most patterns without compiling them.
        if (site && rule.prefix.owner === 'any' && writes(rule) && mayOverlapAny(rule.pattern, [SHARED_TMP])) {
          const tmp = commonWitness(ctx.paths.one(rule.pattern), shared);
          if (tmp !== undefined) {
            report(ctx, 'lint/shared-tmp', rule.source, `${kindOf(p)} ${p.name} writes ${tmp} without 'owner': files other sites (and their users) created in the shared temporary directory are writable too`, {
              profile: p.name, hint: "add 'owner' (the site then writes only its own files there), or give the site a private temporary directory (PrivateTmp=, upload_tmp_dir)",
              ...fixIf(ownFix(ctx, p, rule) ? ownerFix(ctx, rule) : undefined),
            });
          }
        }
        // Cheap exact prefilter: a pattern whose first element starts with a literal cannot cover /**.
        if (site && (rule.permissions.has('r') || writes(rule)) && /^\/[*?[{]/.test(rule.pattern) && covers(ctx.paths.one(rule.pattern), everything)) {
          report(ctx, 'lint/read-all-files', rule.source, `${kindOf(p)} ${p.name} may ${writes(rule) ? 'read and write' : 'read'} every file (${rule.pattern}): other sites' code and secrets, /etc/shadow, keys`, {
            profile: p.name, hint: "list the site's own directories and the system files it needs (include <abstractions/base>, <abstractions/php>) instead",
          });
        }
        break;
      }
      case 'capability': {
        if (!site) break;
        const names = rule.names.length === 0 ? ['(every capability)'] : rule.names.filter((n) => DANGEROUS_CAPABILITIES.includes(n));
        if (names.length === 0) break;
        report(ctx, 'lint/dangerous-capability', rule.source, `${kindOf(p)} ${p.name} grants capability ${names.join(', ')}: ${rule.names.length === 0 ? 'root is root again inside the hat' : 'it lets code in the hat get around file permissions, other users or confinement'}`, {
          profile: p.name, hint: 'remove it; if a program needs it, run that program in its own profile with Px and grant it there',
        });
        break;
      }
      case 'change_profile': {
        const unconfined = commonWitness(ctx.labels.one(rule.target), ctx.labels.one('unconfined'));
        if (unconfined !== undefined) {
          report(ctx, 'lint/unconfined-exec', rule.source, `${kindOf(p)} ${p.name} may change_profile to unconfined (-> ${rule.target})`, {
            profile: p.name, severity: site ? 'error' : 'warning', hint: 'name the profiles it may change to (change_profile -> parent//site,)',
          });
          break;
        }
        // The hats and children it may be for: our own subtree for a profile; for a hat only itself and its children.
        const scope = literalPattern(p.name);
        const allowed = ctx.labels.union(site ? [scope, `${scope}//**`] : [`${scope}//**`]);
        const beyond = differenceWitness(ctx.labels.one(rule.target), allowed);
        if (beyond !== undefined) {
          report(ctx, 'lint/broad-change-profile', rule.source, `${kindOf(p)} ${p.name} may change_profile to ${beyond} (-> ${rule.target}), which is not ${site ? 'itself or one of its children' : `one of ${p.name}'s hats or children`}`, {
            profile: p.name, severity: site ? 'error' : 'warning', hint: site ? 'a site hat should not change profile at all; move the rule to the parent profile' : `restrict the target to ${p.name}//NAME or ${p.name}//*`,
          });
        }
        break;
      }
      case 'all':
        if (site) report(ctx, 'lint/read-all-files', rule.source, `${kindOf(p)} ${p.name} allows everything ('all,'): the hat confines nothing`, { profile: p.name, hint: "list what the site needs; 'all' belongs in profiles that then deny" });
        break;
      case 'signal': case 'ptrace':
        if (site && anyPeer(rule) && activeIpc(rule)) {
          report(ctx, 'lint/any-peer-ipc', rule.source, `${kindOf(p)} ${p.name} allows ${rule.class}${rule.access.length ? ` (${rule.access.join(' ')})` : ''} with every process as peer: code in the hat can ${rule.class === 'ptrace' ? 'trace (read the memory of) other sites\' workers' : 'signal (kill) other sites\' workers'}`, {
            profile: p.name, hint: `add peer= with the labels it needs (${rule.class} (send) peer=${p.name},)`,
          });
        }
        break;
      case 'network':
        if (site && !rule.words.some((w) => vocabulary.NETWORK_DOMAINS.includes(w)) && !rule.conditions['peer.label']) {
          report(ctx, 'lint/network-any-family', rule.source, `${kindOf(p)} ${p.name} allows network${rule.access.length ? ` (${rule.access.join(' ')})` : ''} in every address family: raw and packet sockets, netlink, ${rule.words.length ? rule.words.join(' ') : 'every type'}`, {
            profile: p.name, hint: 'name the families: network inet stream, network inet6 stream,',
          });
        }
        break;
      default:
        break;
    }
    const nullLabel = nullLeftoverIn(rule);
    if (nullLabel !== undefined) {
      report(ctx, 'lint/null-leftover', rule.source, `rule for the learning profile ${nullLabel} left from profiling: null- profiles exist only in complain mode and this rule now grants nothing useful`, {
        profile: p.name, hint: 'remove it, or replace the null- label by the hat the learning session was for',
        ...fixIf(deleteFix(ctx, rule)),
      });
    }
  }
  if (p.localName.startsWith('null-')) {
    report(ctx, 'lint/null-leftover', p.source, `${kindOf(p)} ${p.name} is named like a complain-mode learning profile (null-): aa-logprof leftovers; no configuration enters it`, { profile: p.name, hint: 'rename it to the hat the site uses, or remove it' });
  }
  if (site && p.mode === 'complain') {
    report(ctx, 'lint/complain-hat', p.source, `${kindOf(p)} ${p.name} is in complain mode: it logs and allows everything`, { profile: p.name, hint: 'switch it to enforce once learning is done (hatter learn, then remove the complain flag)' });
  }
}

function fixIf(fix: LintFix | undefined): { fix?: LintFix } {
  return fix ? { fix } : {};
}

/** Only the acting side matters: readby/tracedby/receive let others act on us, and they need their own rule. */
function activeIpc(rule: ResolvedGenericRule): boolean {
  const active = rule.class === 'signal' ? ['send', 'w', 'write', 'rw'] : ['trace', 'read', 'r', 'w', 'rw', 'write'];
  if (rule.access.length > 0 && !rule.access.some((a) => active.includes(a))) return false;
  // Signal 0 (`exists`) only probes whether a pid exists.
  const set = rule.conditions.set;
  return !(rule.class === 'signal' && set !== undefined && set.length > 0 && set.every((x) => x.replace(/"/g, '') === 'exists'));
}

function anyPeer(rule: ResolvedGenericRule): boolean {
  return !Object.keys(rule.conditions).some((k) => k === 'peer' || k.startsWith('peer.'));
}

const NULL_LABEL = /(?:^|\/\/)(null-[^\s/,)]*)/;

function nullLeftoverIn(rule: ResolvedRule): string | undefined {
  const labels: string[] = [];
  if (rule.class === 'change_profile') labels.push(rule.target);
  else if (rule.class === 'file' && rule.execTarget !== undefined) labels.push(rule.execTarget);
  else if (rule.class !== 'file' && rule.class !== 'link' && rule.class !== 'capability' && rule.class !== 'rlimit') {
    for (const [key, values] of Object.entries(rule.conditions)) if (key === 'peer' || key.endsWith('label')) labels.push(...values);
    if (rule.target !== undefined && rule.class === 'pivot_root') labels.push(rule.target);
  }
  for (const l of labels) {
    const m = NULL_LABEL.exec(l);
    if (m) return l;
  }
  return undefined;
}

// ---- fixes ----------------------------------------------------------------------------------

function fileOf(ctx: Context, file: string): ParsedFile | undefined {
  return ctx.loaded.files.get(file);
}

/** Only rules written in the profile's own file are fixed: an abstraction serves other profiles too. */
function ownFix(ctx: Context, p: ResolvedProfile, rule: ResolvedRule): boolean {
  return rule.source.file === p.source.file && rule.source.includeChain.length === p.source.includeChain.length && fileOf(ctx, rule.source.file) !== undefined
    && !(rule.class === 'file' && rule.fromAlias);
}

function ownerFix(ctx: Context, rule: ResolvedFileRule): LintFix | undefined {
  const file = fileOf(ctx, rule.source.file);
  if (!file) return undefined;
  const at = insertionPointForOwner(file, rule.source.offset, rule.source.length);
  if (at === undefined) return undefined;
  return { description: "insert 'owner'", edits: [{ path: file.path, offset: at, length: 0, replacement: 'owner ' }] };
}

/** After `priority=N`, `audit` and `allow`, before the rule proper. */
function insertionPointForOwner(file: ParsedFile, offset: number, length: number): number | undefined {
  const text = file.text.slice(offset, offset + length);
  const prefix = /^(?:(?:priority\s*=\s*[-+]?\d+|audit|allow)\s+)*/.exec(text)![0];
  const rest = text.slice(prefix.length);
  if (/^(?:owner|user|other|deny|prompt)\b/.test(rest)) return undefined;
  return offset + prefix.length;
}

function deleteFix(ctx: Context, rule: ResolvedRule): LintFix | undefined {
  const file = fileOf(ctx, rule.source.file);
  if (!file || (rule.class === 'file' && rule.fromAlias)) return undefined;
  let start = rule.source.offset;
  let end = rule.source.offset + rule.source.length;
  const text = file.text;
  if (text[end - 1] !== ',' && text[end] === ',') end += 1;
  // Take the whole line when the rule is alone on it (indentation and newline included).
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const lineEndRaw = text.indexOf('\n', end);
  const lineEnd = lineEndRaw < 0 ? text.length : lineEndRaw;
  if (/^[ \t]*$/.test(text.slice(lineStart, start)) && /^[ \t]*(#.*)?\r?$/.test(text.slice(end, lineEnd)) && !/#/.test(text.slice(end, lineEnd))) {
    start = lineStart;
    end = lineEndRaw < 0 ? lineEnd : lineEnd + 1;
  }
  return { description: 'remove the rule', edits: [{ path: file.path, offset: start, length: end - start, replacement: '' }] };
}

// ---- file-level rules (syntax) ------------------------------------------------------------------

interface StatementVisit {
  readonly statement: Statement;
  /** The innermost enclosing profile (AST), if any. */
  readonly inHat: boolean;
  readonly depth: number;
}

function* walk(items: readonly Statement[], inHat: boolean, depth: number): Generator<StatementVisit> {
  for (const statement of items) {
    yield { statement, inHat, depth };
    if (statement.kind === 'Profile') yield* walk(statement.body, statement.isHat, depth + 1);
    else if (statement.kind === 'QualifierBlock') yield* walk(statement.body, inHat, depth);
    else if (statement.kind === 'Conditional') for (const b of statement.branches) yield* walk(b.body, inHat, depth);
  }
}

function fileChecks(ctx: Context, file: ParsedFile, isEntry: boolean): void {
  let hasAbi = false;
  let hasProfile = false;
  for (const { statement, inHat, depth } of walk(file.policy.items, false, 0)) {
    const at = { ...file.lines.location(statement.span.offset), file: file.display };
    if (statement.kind === 'Abi') hasAbi = true;
    if (statement.kind === 'Profile' && depth === 0) hasProfile = true;
    if (statement.kind !== 'Include') continue;
    if (statement.hashInclude && file.text.startsWith('#include', statement.span.offset)) {
      report(ctx, 'lint/deprecated-include', { file: at.file, line: at.line, col: at.col }, "'#include' is the deprecated spelling of 'include' (and looks like a comment to readers and tools)", {
        hint: "write 'include'", fix: { description: "replace '#include' by 'include'", edits: [{ path: file.path, offset: statement.span.offset, length: '#include'.length, replacement: 'include' }] },
      });
    }
    if (inHat && statement.form === 'magic' && BROAD_ABSTRACTIONS.some((re) => re.test(statement.path))) {
      report(ctx, 'lint/broad-abstraction', { file: at.file, line: at.line, col: at.col }, `a hat includes <${statement.path}>, written for desktop programs or administrators: it grants a web site far more than it needs`, {
        hint: 'include what a site needs (abstractions/base, abstractions/nameservice, abstractions/php, abstractions/web-data) and add the rest rule by rule',
      });
    }
  }
  if (isEntry && hasProfile && !hasAbi) {
    report(ctx, 'lint/missing-abi', { file: file.display, line: 1, col: 1 }, 'no abi rule: the policy is compiled with whatever feature ABI the parser is pinned to, so the same file may be enforced differently on another machine', {
      hint: 'pin the ABI it was written for, e.g. abi <abi/3.0>, at the top (check the rules still load with hatter check)',
    });
  }
}

// ---- web configuration rules ----------------------------------------------------------------------

const APACHE_BINARY = /^(\/usr\/sbin\/apache2|apache2|\/usr\/sbin\/httpd.*|httpd)$/;
const FPM_BINARY = /^(\/usr\/sbin\/php-fpm.*|php-fpm.*)$/;

/** The profile a web server runs under: named, else the one attached to its binary, else one with hats. */
export function webServerProfile(trees: readonly ProfileTreeWithAttachment[], server: 'apache' | 'fpm', wanted?: string): ProfileTreeWithAttachment | undefined {
  const flat = (list: readonly ProfileTreeWithAttachment[]): ProfileTreeWithAttachment[] => list.flatMap((t) => [t, ...flat(t.children)]);
  if (wanted !== undefined) return flat(trees).find((t) => t.name === wanted || t.attachment === wanted);
  const binary = server === 'apache' ? APACHE_BINARY : FPM_BINARY;
  return trees.find((t) => binary.test(t.attachment ?? '') || binary.test(t.name)) ?? trees.find((t) => t.children.some((c) => c.isHat));
}

function at(text: string): SourceLocation {
  const colon = text.lastIndexOf(':');
  const line = Number(text.slice(colon + 1));
  return colon > 0 && Number.isInteger(line) ? { file: text.slice(0, colon), line, col: 1 } : { file: text, line: 1, col: 1 };
}

function webChecks(ctx: Context): void {
  const trees = profileTreesFromResolved(ctx.loaded.resolved);
  const reachable = new Map<string, { hats: string[]; reached: Set<string>; by: string[] }>();
  const note = (profile: ProfileTreeWithAttachment, reached: Iterable<string>, by: string) => {
    const entry = reachable.get(profile.name) ?? { hats: profile.children.filter((c) => c.isHat).map((c) => c.name), reached: new Set<string>(), by: [] };
    for (const r of reached) entry.reached.add(r);
    entry.by.push(by);
    reachable.set(profile.name, entry);
  };
  const { apache, fpm, configuredHats } = ctx.web;
  if (apache) {
    const profile = webServerProfile(trees, 'apache', apache.profile);
    if (profile) {
      const result = reportApacheHats(apache.config, profile, { ...(apache.map ?? {}), ...(apache.order ? { order: apache.order } : {}) });
      for (const m of result.missing) {
        const landing = result.servers.flatMap((s) => s.sections).find((s) => s.at === m.at)?.landing ?? result.servers.find((s) => s.defaultHatName === m.name)?.defaultLanding;
        report(ctx, 'lint/missing-hat', at(m.at), `${m.directive} ${m.name}: ${profile.name} has no hat '${m.name}'${m.note ? ` (${m.note})` : ''}; mod_apparmor goes on down its candidate list, so these requests run in ${landing && landing.length ? landing.join(' or ') : 'a broader hat or the parent profile'}`, {
          profile: profile.name, hint: `add ^${m.name} { … } to ${profile.name}, or fix the name`,
        });
      }
      const dead = new Set(result.deadHats);
      note(profile, profile.children.filter((c) => c.isHat && !dead.has(c.name)).map((c) => c.name), 'Apache');
    }
  }
  if (fpm) {
    const profile = webServerProfile(trees, 'fpm', fpm.profile);
    if (profile) {
      const targets = fpmPoolTargets(fpm.config, profile);
      for (const t of targets) {
        const pool = fpm.config.pools.find((p) => p.name === t.pool)!;
        const where = pool.apparmorHatLocation ?? pool.location;
        if (t.kind === 'missing') {
          report(ctx, 'lint/missing-hat', where, `pool [${t.pool}] apparmor_hat = ${t.apparmorHat}: ${t.reason}`, { profile: profile.name, hint: `add ^${t.apparmorHat} { … } (or profile ${t.apparmorHat} { … }) to ${profile.name}, or fix the name` });
        } else if (t.outcome === 'exit-70') {
          report(ctx, 'lint/hat-not-allowed', where, `pool [${t.pool}] apparmor_hat = ${t.apparmorHat}: ${t.reason}`, { profile: profile.name, hint: `add 'change_profile -> ${profile.name}//${t.apparmorHat},' to ${profile.name}` });
        }
      }
      note(profile, targets.filter((t) => t.exists && t.target).map((t) => t.target!), 'PHP-FPM');
    }
  }
  if (configuredHats) {
    for (const c of configuredHats) {
      const profile = webServerProfile(trees, 'apache', c.profile);
      if (!profile) continue;
      const hat = profile.children.find((h) => h.baseName === c.hat && h.isHat);
      if (!hat) report(ctx, 'lint/missing-hat', c.at, `${c.by} '${c.hat}': ${profile.name} has no hat '${c.hat}'; ${c.consequence}`, { profile: profile.name, hint: `add ^${c.hat} { … } to ${profile.name}, or fix the name` });
      note(profile, hat ? [hat.name] : [], 'hatter.yaml');
    }
  }
  for (const [, entry] of reachable) {
    for (const hat of entry.hats) {
      if (entry.reached.has(hat) || hat.endsWith('//HANDLING_UNTRUSTED_INPUT') || hat.endsWith('//DEFAULT_URI')) continue;
      const profile = ctx.profiles.find((p) => p.name === hat);
      if (!profile) continue;
      report(ctx, 'lint/unreachable-hat', profile.source, `hat ${hat}: no request or pool of the web configuration (${[...new Set(entry.by)].join(', ')}) can enter it`, {
        profile: hat, hint: 'a leftover, or a name the configuration misspells: remove the hat or point AAHatName/AADefaultHatName/apparmor_hat at it',
      });
    }
  }
}

// ---- entry point ------------------------------------------------------------------------------------

/** Run every rule. Findings are in no particular order; the caller sorts, suppresses and prints. */
export function runRules(input: LintInput): LintFinding[] {
  const web = input.web ?? {};
  const siteNames = new Set<string>([
    ...(web.tenants?.tenants.flatMap((t) => t.hats) ?? []),
    ...(web.fpm?.config.pools.map((p) => p.apparmorHat).filter((h): h is string => h !== undefined) ?? []),
  ]);
  const ctx: Context = {
    loaded: input.loaded, web, profiles: flatten(input.loaded.resolved.profiles), siteNames,
    ...(input.cache ?? createLintCache()), findings: [],
  };
  for (const p of ctx.profiles) {
    perRuleChecks(ctx, p);
    if (isSite(ctx, p)) {
      phpWritableCode(ctx, p);
      crossSiteGlob(ctx, p);
    }
  }
  const entry = input.loaded.resolved.files[0];
  for (const [name, file] of input.loaded.files) fileChecks(ctx, file, name === entry || file.path === entry);
  if (web.apache || web.fpm || web.configuredHats) webChecks(ctx);
  return ctx.findings;
}
