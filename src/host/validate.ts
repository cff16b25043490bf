// What hatter itself can confirm about a planned site before anything is written, on the host as it
// will be (the plan overlaid on the current files): the profiles still load (hatter's checker, the
// same diagnostics as `hatter check`), a request to each of the site's names lands in the site's hat
// (which-hat), and the pool's workers can enter theirs (fpmPoolTargets). The external tools
// (apparmor_parser, apache2ctl, php-fpm) run at the CLI's edge.
import { posix } from 'node:path';
import { loadPolicy, type Diagnostic } from '../policy/index.js';
import { fpmPoolTargets, profileTreesFromPolicy, whichHat, type ProfileTreeWithAttachment } from '../web/index.js';
import { hostFileReader, overlayHostFiles, type HostFiles } from './host-files.js';
import type { FilePlan } from './plan.js';
import { DEBIAN_LAYOUT, readSiteContext, siteDiagnostic, type DebianLayout, type SitePaths, type SiteSpec } from './site.js';

export interface SiteConfirmation {
  readonly diagnostics: Diagnostic[];
  /** One line per check that passed, for the report. */
  readonly confirmed: string[];
}

function profileNamed(trees: readonly ProfileTreeWithAttachment[], name: string): ProfileTreeWithAttachment | undefined {
  return trees.find((t) => t.name === name);
}

/** Confirm the planned site with hatter's own readers. */
export function confirmSite(spec: SiteSpec, paths: SitePaths, plan: readonly FilePlan[], current: HostFiles, layout: DebianLayout = DEBIAN_LAYOUT): SiteConfirmation {
  const host = overlayHostFiles(current, plan);
  const reader = hostFileReader(host);
  const diagnostics: Diagnostic[] = [];
  const confirmed: string[] = [];
  const planned = new Set(plan.map((p) => p.path));
  const profiles: { file: string; profile: string }[] = [{ file: layout.apacheProfileFile, profile: layout.apacheProfile }];
  if (paths.fpmHat) profiles.push({ file: layout.fpmProfileFile, profile: layout.fpmProfile });
  const trees = new Map<string, ProfileTreeWithAttachment>();
  for (const { file, profile } of profiles) {
    const entry = posix.join(layout.apparmorDir, file);
    const loaded = loadPolicy(entry, reader, { workingDirectory: layout.apparmorDir, includePaths: [layout.apparmorDir] });
    // Problems in the files this site adds are errors; the rest of the host's policy is not ours to judge here.
    const ours = loaded.diagnostics.filter((d) => planned.has(d.file) && d.severity === 'error');
    diagnostics.push(...ours);
    if (ours.length === 0) confirmed.push(`hatter check: ${entry} with the new hat loads`);
    const tree = profileNamed(profileTreesFromPolicy(entry, { reader, includeDirs: [layout.apparmorDir] }).trees, profile);
    if (tree) trees.set(profile, tree);
    else diagnostics.push(siteDiagnostic('host/profile-missing', `${entry} has no profile ${profile}`, undefined, entry));
  }
  const apacheProfile = trees.get(layout.apacheProfile);
  const context = readSiteContext(host, paths.phpVersion, layout);
  diagnostics.push(...context.diagnostics.filter((d) => planned.has(d.file) && d.severity === 'error'));
  if (apacheProfile && context.apache) {
    // Enforce mode: a complain-mode profile enters a missing hat as a learning hat, which would hide a mistake.
    const enforced = { ...apacheProfile, mode: 'enforce' as const, children: apacheProfile.children.map((c) => ({ ...c, mode: 'enforce' as const })) };
    for (const serverName of spec.serverNames) {
      const url = `http://${serverName}/`;
      const answer = whichHat(context.apache, { url }, enforced, { map: { stat: (p: string) => host.kind(p) } });
      if (answer.ok && answer.selection.outcome === 'hat' && answer.selection.hat === spec.name) confirmed.push(`which-hat: ${url} runs in ${answer.selection.label}`);
      else {
        const where = answer.ok ? `${answer.selection.label} (${answer.selection.reason})` : `an error ${answer.status} (${answer.reason})`;
        diagnostics.push(siteDiagnostic('host/wrong-hat', `a request to ${url} would run in ${where}, not in ${layout.apacheProfile}//${spec.name}`, 'another vhost may answer first for this name or address', paths.vhost));
      }
    }
  }
  const fpmProfile = trees.get(layout.fpmProfile);
  if (paths.pool && fpmProfile && context.fpm) {
    const target = fpmPoolTargets(context.fpm, { ...fpmProfile, mode: 'enforce' }).find((t) => t.pool === spec.name);
    if (target?.outcome === 'changes') confirmed.push(`which-hat --fpm: pool ${spec.name} enters ${target.target}`);
    else diagnostics.push(siteDiagnostic('host/pool-cannot-start', `the pool ${spec.name} would not enter its hat: ${target?.reason ?? 'the pool is not read from the FPM configuration'}`, undefined, paths.pool));
  }
  return { diagnostics, confirmed };
}
