// `hatter site add`'s last check: `hatter isolate`'s analysis (src/isolate) on the host as the plan will
// leave it, so that what the new hat gets through abstractions and includes counts, not only the rules
// hatter wrote. It runs here, at the CLI edge, because host/ does not depend on isolate/.
//
// Each web server profile is compiled and analysed on its own (Apache's hats, PHP-FPM's hats), with
// every site of the planned configuration as a tenant (areas from the vhosts and pools, merged by hat
// name). A flow between the new site and another site, either way, refuses the add.
//
// `owner`: Apache's hats all run as Apache's user, so for them `owner` separates nothing; PHP-FPM's hats
// run as their pool's `user`, so `owner` separates two sites exactly when both pools name a user and the
// users differ (isolate's rule; docs/host.md).
import { posix } from 'node:path';
import { loadPolicy, type Diagnostic } from '../policy/index.js';
import { compilePolicy } from '../policy/eval/index.js';
import { mergeTenantModels, tenantsFromApache, tenantsFromFpm, type Tenant, type TenantModel } from '../web/index.js';
import { STATELESS_PATHS, isolation, type Flow } from '../isolate/index.js';
import { DEBIAN_LAYOUT, hostFileReader, overlayHostFiles, readSiteContext, type FilePlan, type HostFiles, type SitePaths } from '../host/index.js';

/**
 * Paths Debian's abstractions let every site write and read that carry no data from one site to
 * another, on top of isolate's own list (docs/host.md): the name-service daemons' sockets under /run
 * and /var/lib (what a client writes goes to the daemon, which answers each client alone; only root
 * can create those names) and opcache's lock files (mkstemp names, unlinked at once, only ever
 * locked, never read back). Sockets in /tmp are not on the list: any site could create one there.
 */
export const SITE_STATELESS_PATHS: readonly string[] = [
  ...STATELESS_PATHS, '/tmp/.ZendSem.*',
  // Name-service daemons' sockets, in directories only root can create entries in.
  '/{,var/}run/nscd/socket', '/{,var/}run/.nscd_socket', '/{,var/}run/nslcd/socket', '/{,var/}run/avahi-daemon/socket',
  '/{,var/}run/mdnsd', '/{,var/}run/systemd/userdb/io.systemd.*', '/var/lib/sss/pipes/nss',
  '/var/lib/samba/winbindd_privileged/pipe', '/{,var/}run/samba/winbindd_privileged/pipe', '/var/lib/likewise-open/lwidentity_privileged/pipe',
];

export interface SiteIsolation {
  readonly diagnostics: Diagnostic[];
  readonly confirmed: string[];
}

/** One web server profile to analyse, with the sites as tenants (their hats under that profile). */
export interface IsolationTarget {
  /** The policy file holding the profile (deployed path). */
  readonly policyFile: string;
  readonly profile: string;
  readonly tenants: readonly Tenant[];
  /** Where a refusal points when no rule is named (the new hat's file). */
  readonly hatFile: string;
}

/** The planned host's Debian-layout targets: Apache's profile, and PHP-FPM's when the site has a pool. */
export function debianIsolationTargets(paths: SitePaths, host: HostFiles): IsolationTarget[] {
  const layout = DEBIAN_LAYOUT;
  const context = readSiteContext(host, paths.phpVersion, layout);
  const models: TenantModel[] = [];
  if (context.apache) models.push(tenantsFromApache(context.apache));
  if (context.fpm) models.push(tenantsFromFpm(context.fpm, layout.fpmProfile));
  const sites = mergeTenantModels(models).tenants;
  // Apache's workers run every hat as Apache's own user: owner rules do not tell its sites apart.
  const apacheSites = sites.map(({ user: _user, ...t }) => ({ ...t, profile: layout.apacheProfile }));
  const targets: IsolationTarget[] = [{ policyFile: posix.join(layout.apparmorDir, layout.apacheProfileFile), profile: layout.apacheProfile, tenants: apacheSites, hatFile: paths.apacheHat }];
  if (paths.fpmHat) {
    const fpmSites = sites.map((t) => ({ ...t, profile: layout.fpmProfile }));
    targets.push({ policyFile: posix.join(layout.apparmorDir, layout.fpmProfileFile), profile: layout.fpmProfile, tenants: fpmSites, hatFile: paths.fpmHat });
  }
  return targets;
}

/**
 * Is the site whose hat is `hat` isolated from every other site, on the host as `plan` leaves it? A flow
 * either way is an error at the rule that grants it, with the witness path; so is a question isolate
 * could not answer for the new site (fail closed).
 */
export function checkSiteIsolation(hat: string, plan: readonly FilePlan[], current: HostFiles, targets: readonly IsolationTarget[], includeDirs: readonly string[] = [DEBIAN_LAYOUT.apparmorDir]): SiteIsolation {
  const host = overlayHostFiles(current, plan);
  const reader = hostFileReader(host);
  const diagnostics: Diagnostic[] = [];
  const confirmed: string[] = [];
  for (const target of targets) {
    const loaded = loadPolicy(target.policyFile, reader, { workingDirectory: posix.dirname(target.policyFile), includePaths: [...includeDirs] });
    if (!loaded.ok) {
      diagnostics.push(undecided(target, `${target.policyFile} does not load (${loaded.diagnostics.find((d) => d.severity === 'error')?.message ?? 'unreadable'})`));
      continue;
    }
    const { compiled, diagnostics: compileProblems } = compilePolicy(loaded.resolved);
    if (compileProblems.some((d) => d.severity === 'error')) {
      diagnostics.push(undecided(target, `${target.policyFile} does not compile (${compileProblems.find((d) => d.severity === 'error')!.message})`));
      continue;
    }
    // Only hats the profile has: a site without a PHP-FPM hat is still a tenant (its area is a target).
    const tenants = target.tenants.map((t) => ({ ...t, hats: t.hats.filter((h) => compiled.profiles.has(`${target.profile}//${h}`)) }));
    const site = tenants.find((t) => t.hats.includes(hat));
    if (!site) {
      diagnostics.push(undecided(target, `no site of the planned configuration runs in ${target.profile}//${hat}`));
      continue;
    }
    if (tenants.length < 2) {
      confirmed.push(`isolate: ${target.profile}//${hat} is the only site`);
      continue;
    }
    const options = { profile: target.profile, statelessPaths: SITE_STATELESS_PATHS };
    const concerns = (f: Flow) => f.from === site.name || f.to === site.name;
    // isolate keeps one flow per pair and kind, and an owner-only one could stand in for another: so
    // the flows that refuse come from a run where every site has a user of its own (owner rules then
    // separate them all and only flows that hold for any users remain), the warnings from the real users.
    const separated = tenants.map((t) => ({ ...t, user: `\0${t.name}` }));
    const result = isolation(compiled, { tenants: separated, shared: [], diagnostics: [] }, options);
    const undecidedForSite = result.diagnostics.filter((d) => d.severity === 'error' && d.message.includes(site.name));
    for (const d of undecidedForSite) diagnostics.push(undecided(target, d.message));
    const refusing = result.flows.filter(concerns);
    const pairs = new Set<string>();
    const ownerOnly = refusing.length > 0 ? [] : isolation(compiled, { tenants, shared: [], diagnostics: [] }, options).flows
      .filter((f) => concerns(f) && f.ownerOnly && !pairs.has(`${f.from}\0${f.to}`) && pairs.add(`${f.from}\0${f.to}`));
    for (const flow of [...refusing, ...ownerOnly]) diagnostics.push(flowDiagnostic(flow, target));
    if (refusing.length === 0 && undecidedForSite.length === 0) {
      confirmed.push(`isolate: ${target.profile}//${hat} and the ${tenants.length - 1} other site${tenants.length === 2 ? '' : 's'} cannot reach each other (abstractions and includes counted)${ownerOnly.length ? ', except through owner rules of a shared user (warnings above)' : ''}`);
    }
  }
  return { diagnostics, confirmed };
}

function flowDiagnostic(flow: Flow, target: IsolationTarget): Diagnostic {
  const rule = flow.rules[0];
  const chain = rule && rule.includeChain.length ? ` (through ${rule.includeChain.join(' → ')})` : '';
  const granted = rule ? ` granted by ${rule.file}:${rule.line}${chain}` : '';
  const where = { file: rule?.file ?? target.hatFile, line: rule?.line ?? 1, col: 1 };
  const message = `site ${flow.from} is not isolated from site ${flow.to}: ${flow.summary} (witness ${flow.witness},${granted || ' no single rule'})`;
  if (flow.ownerOnly) {
    return {
      ...where, severity: 'warning', code: 'host/shared-user-flow', message,
      hint: target.profile === DEBIAN_LAYOUT.fpmProfile
        ? 'give each site its own user (--user): owner rules then separate their PHP-FPM hats'
        : 'Apache runs every hat as its own user: only file permissions separate sites here',
    };
  }
  return {
    ...where, severity: 'error', code: 'host/not-isolated', message,
    hint: 'narrow the rule (or the abstraction that grants it) so it stays inside the site\'s own directories',
  };
}

function undecided(target: IsolationTarget, reason: string): Diagnostic {
  return {
    file: target.hatFile, line: 1, col: 1, severity: 'error', code: 'host/isolation-undecided',
    message: `hatter isolate could not decide whether the new site is isolated: ${reason}`,
    hint: 'fix the policy or configuration named above; nothing is written until isolation is shown',
  };
}
