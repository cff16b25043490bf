// Which hats exist: read once by the supervisor from the configured policy file (loaded and checked by
// the one policy loader, projected to web's profile trees), then shipped as plain data to the front and
// every worker, which all choose hats with the same function.
import { profileTreesFromPolicy, selectHat, type ProfileTree } from '../web/index.js';
import { findProfile, type Diagnostic } from '../policy/index.js';
import { nodeFileReader } from '../policy-node/index.js';
import type { ServeConfig } from './config.js';
import { chooserFromHats, configuredHats, type HatChooser } from './routing.js';

export interface PolicyHats {
  /** Parent profile name. */
  readonly profile: string;
  /** The parent profile's tree from the policy file; absent when no policy file is configured. */
  readonly tree?: ProfileTree;
  /** Names of the parent's hats (or the configured hat names without a policy). */
  readonly hats: readonly string[];
}

export function hatChooser(hats: PolicyHats): HatChooser {
  const tree = hats.tree;
  if (!tree) return chooserFromHats(new Set(hats.hats));
  return (candidates) => {
    const selection = selectHat(tree, candidates);
    // A complain-mode learning hat cannot be entered by exec; such requests run in the parent.
    return selection.outcome === 'hat' ? selection.hat : null;
  };
}

/** Read the policy's hats and check the configuration against them. */
export function loadPolicyHats(config: ServeConfig): { hats?: PolicyHats; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const profile = config.policy.profile;
  if (!config.policy.file) {
    const names = [...configuredHats(config)];
    diagnostics.push({ file: config.source, line: 1, col: 1, severity: 'warning', code: 'serve/no-policy', message: `no policy file configured: hats are the configured names (${names.join(', ')}) and nothing checks them against a policy` });
    return { hats: { profile, hats: names }, diagnostics };
  }
  const read = profileTreesFromPolicy(config.policy.file, { reader: nodeFileReader() });
  diagnostics.push(...read.diagnostics);
  if (read.diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  const found = findProfile(read.trees, profile);
  // The parent must be a profile or child profile: a hat cannot have hats.
  const tree = found && !found.isHat ? found : undefined;
  if (!tree) {
    const known = read.trees.map((t) => t.name);
    diagnostics.push({ file: config.policy.file, line: 1, col: 1, severity: 'error', code: 'serve/profile-not-in-policy', message: `the policy defines no profile '${profile}'`, ...(known.length ? { hint: `it defines: ${known.slice(0, 8).join(', ')}` } : {}) });
    return { diagnostics };
  }
  const hats = tree.children.filter((c) => c.isHat).map((c) => c.baseName);
  const have = new Set(hats);
  config.sites.forEach((site, i) => {
    const explicit = site.defaultHat;
    if (explicit !== undefined && !have.has(explicit)) {
      diagnostics.push({ file: config.source, line: 1, col: 1, severity: 'warning', code: 'serve/hat-not-in-policy', message: `sites[${i}] (${site.serverName}): defaultHat '${explicit}' is not a hat of ${profile} in ${config.policy.file}; its requests fall through to the next candidate` });
    } else if (explicit === undefined && !have.has(site.serverName)) {
      diagnostics.push({ file: config.source, line: 1, col: 1, severity: 'warning', code: 'serve/hat-not-in-policy', message: `sites[${i}] (${site.serverName}): ${profile} has no hat '${site.serverName}' (the default hat); its requests fall through to ${have.has('DEFAULT_URI') ? 'DEFAULT_URI' : `the parent profile ${profile}`}` });
    }
    site.locations.forEach((location, j) => {
      if (location.hat !== undefined && !have.has(location.hat)) {
        diagnostics.push({ file: config.source, line: 1, col: 1, severity: 'warning', code: 'serve/hat-not-in-policy', message: `sites[${i}].locations[${j}]: hat '${location.hat}' is not a hat of ${profile} in ${config.policy.file}` });
      }
    });
  });
  return { hats: { profile, tree, hats }, diagnostics };
}
