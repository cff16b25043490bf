// `hatter site add --layout hatter`: the site is an entry of hatter.yaml's `sites:` and a hat inside the
// profile its `policy:` names. Both are inserted as text blocks, each under a header line that records
// the hash of the block, so `site remove` takes out exactly what `site add` put in (the files come back
// byte for byte) and a hand edit is noticed. The YAML is read with the `yaml` package's Document API
// (positions only: the rest of the file, comments included, is never re-serialized).
import { posix } from 'node:path';
import { isMap, isScalar, isSeq, parseDocument, type Pair } from 'yaml';
import { loadPolicy, findProfile, type Diagnostic } from '../policy/index.js';
import type { Tenant } from '../web/index.js';
import { literalPattern } from '../policy/aare/index.js';
import { parsePolicy, SyntaxNode, SyntaxToken, collectTokens } from '../policy/syntax/index.js';
import { hostFileReader, type HostFiles } from './host-files.js';
import { withHeader, type FilePlan } from './plan.js';
import { PHP_SHARED_SESSION_DENIES, SITE_NAME, checkSpecText, patternReach, siteDiagnostic, type SiteSpec } from './site.js';

export interface HatterSitePlan {
  readonly files: FilePlan[];
  readonly diagnostics: Diagnostic[];
  readonly policyFile?: string;
  readonly profile?: string;
}

/** One site of hatter.yaml as `site list` shows it. */
interface ConfiguredSite {
  readonly serverName: string;
  readonly aliases: readonly string[];
  readonly root?: string;
  /** The default hat (defaultHat, else the server name) first, then the locations' hats. */
  readonly hats: readonly string[];
  readonly line: number;
}

interface ConfigView {
  readonly text: string;
  readonly policyFile?: string;
  readonly profile?: string;
  /** Offset where a new site entry goes, and the indentation of the sequence's items. */
  readonly insertAt: number;
  readonly itemIndent: string;
  readonly hasSites: boolean;
  readonly names: { name: string; line: number }[];
  readonly hats: string[];
  readonly sites: ConfiguredSite[];
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function readConfig(text: string, file: string, configDir: string, diagnostics: Diagnostic[]): ConfigView | undefined {
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length > 0 || !isMap(doc.contents)) {
    diagnostics.push(siteDiagnostic('host/config-unreadable', `${file} is not a hatter.yaml mapping${doc.errors[0] ? `: ${doc.errors[0].message.split('\n')[0]}` : ''}`, undefined, file));
    return undefined;
  }
  const top = doc.contents.items as Pair[];
  const keyOf = (p: Pair): string => (isScalar(p.key) ? String(p.key.value) : '');
  const policy = top.find((p) => keyOf(p) === 'policy')?.value;
  let policyFile: string | undefined;
  let profile: string | undefined;
  if (isMap(policy)) {
    const f = policy.get('file');
    const pr = policy.get('profile');
    if (typeof f === 'string') policyFile = posix.isAbsolute(f) ? f : posix.join(configDir, f);
    if (typeof pr === 'string') profile = pr;
  }
  const index = top.findIndex((p) => keyOf(p) === 'sites');
  const sites = index >= 0 ? top[index]!.value : undefined;
  const names: { name: string; line: number }[] = [];
  const hats: string[] = [];
  const configured: ConfiguredSite[] = [];
  let itemIndent = '  ';
  if (isSeq(sites)) {
    for (const item of sites.items) {
      if (!isMap(item)) continue;
      const line = lineOf(text, item.range?.[0] ?? 0);
      const serverName = item.get('serverName');
      if (typeof serverName === 'string') { names.push({ name: serverName.toLowerCase(), line }); hats.push(serverName); }
      const aliases = item.get('aliases');
      const aliasNames: string[] = [];
      if (isSeq(aliases)) for (const a of aliases.items) if (isScalar(a) && typeof a.value === 'string') { names.push({ name: a.value.toLowerCase(), line }); aliasNames.push(a.value); }
      const hat = item.get('defaultHat');
      if (typeof hat === 'string') hats.push(hat);
      const siteHats = [typeof hat === 'string' ? hat : typeof serverName === 'string' ? serverName : undefined];
      const locations = item.get('locations');
      if (isSeq(locations)) for (const l of locations.items) if (isMap(l) && typeof l.get('hat') === 'string') siteHats.push(l.get('hat') as string);
      const root = item.get('documentRoot');
      if (typeof serverName === 'string') {
        configured.push({ serverName, aliases: aliasNames, ...(typeof root === 'string' ? { root } : {}), hats: [...new Set(siteHats.filter((h): h is string => h !== undefined))], line });
      }
    }
    const first = sites.items[0];
    if (first && isMap(first) && first.range) {
      const lineStart = text.lastIndexOf('\n', first.range[0] - 1) + 1;
      itemIndent = text.slice(lineStart, first.range[0]).replace(/-\s*$/, '');
      if (!/^ *$/.test(itemIndent)) itemIndent = '  ';
    }
  }
  // A new site goes where the next top-level key starts (or at the end of the file).
  const next = index >= 0 ? top[index + 1] : undefined;
  let insertAt = text.length;
  if (next && isScalar(next.key) && next.key.range) insertAt = text.lastIndexOf('\n', next.key.range[0] - 1) + 1;
  // Leave comments and blank lines that belong to the next key above it.
  while (insertAt > 0 && next) {
    const prevStart = text.lastIndexOf('\n', insertAt - 2) + 1;
    const prevLine = text.slice(prevStart, insertAt);
    if (/^\s*(#.*)?\n$/.test(prevLine) && !prevLine.startsWith(' ')) insertAt = prevStart; else break;
  }
  return { text, ...(policyFile ? { policyFile } : {}), ...(profile ? { profile } : {}), insertAt, itemIndent, hasSites: index >= 0, names, hats, sites: configured };
}

/** The site's entry in hatter.yaml (with its header line), indented as the file's other items. */
export function hatterSiteEntry(spec: SiteSpec, indent: string): string {
  const [serverName, ...aliases] = spec.serverNames;
  const i = `${indent}  `;
  const lines = [
    `${indent}- serverName: ${serverName}`,
    ...(aliases.length > 0 ? [`${i}aliases: [${aliases.join(', ')}]`] : []),
    `${i}documentRoot: ${spec.root}`,
    `${i}defaultHat: ${spec.name}`,
    ...(spec.user !== undefined ? [`${i}user: ${spec.user}`] : []),
    ...(spec.php ? [`${i}locations:`, `${i}  - regex: '\\.php$'`, `${i}    handler: { type: fastcgi, phpFpm: true, root: ${spec.root} }`] : []),
  ];
  const body = `${lines.join('\n')}\n`;
  return `${withHeader('#', `site ${spec.name} (hatter.yaml site)`, body).replace(/^#/, `${indent}#`)}`;
}

/** The site's hat for `hatter serve`, inside the parent profile (with its header line). */
export function hatterSiteHat(spec: SiteSpec): string {
  return hatterHatRules(spec).text;
}

/** The hat's text and the file patterns it grants (for the reach check against the other sites). */
function hatterHatRules(spec: SiteSpec): { text: string; patterns: string[] } {
  const root = literalPattern(spec.root);
  const patterns = [`${root}/`, `${root}/**`];
  const lines = [
    `  ^${spec.name} {`,
    '    include <abstractions/base>',
    ...(spec.php ? ['    include <abstractions/php>', ...PHP_SHARED_SESSION_DENIES.map((l) => `    ${l}`)] : []),
    `    ${root}/ r,`,
    `    ${root}/** r,`,
  ];
  for (const dir of [...spec.writable.map((d) => ({ d, php: false })), ...spec.allowPhpWrites.map((d) => ({ d, php: true }))]) {
    const abs = literalPattern(posix.isAbsolute(dir.d) ? dir.d : posix.join(spec.root, dir.d));
    lines.push(`    ${abs}/ rw,`, `    ${abs}/** rwk,`);
    patterns.push(`${abs}/`, `${abs}/**`);
    if (!dir.php && spec.php) lines.push(`    deny ${abs}/**.{php,php[0-9],phtml,phar,inc} w,`);
  }
  lines.push('  }');
  const body = `${lines.join('\n')}\n`;
  return { text: withHeader('#', `site ${spec.name} (hat)`, body).replace(/^#/, '  #'), patterns };
}

/** Offset of the line holding the closing `}` of the top-level profile `name`, or undefined. */
function profileEnd(text: string, file: string, name: string): number | undefined {
  const root = new SyntaxNode(parsePolicy(text, file).root);
  for (const node of root.childNodes()) {
    if (node.kind !== 'Profile') continue;
    const nameNode = node.childNodes().find((c) => c.kind === 'ProfileName');
    if (nameNode?.text().trim() !== name) continue;
    const block = node.childNodes().find((c) => c.kind === 'Block');
    if (!block) return undefined;
    const tokens: SyntaxToken[] = [];
    collectTokens(block, tokens);
    const close = [...tokens].reverse().find((t) => t.kind === 'RBrace');
    return close ? text.lastIndexOf('\n', close.offset - 1) + 1 : undefined;
  }
  return undefined;
}

/** The text hatter inserted for `name` (header line + block) in `text`, with whether it is unchanged. */
export function findInserted(text: string, what: string, blockEnd: (bodyStart: number) => number): { start: number; end: number; intact: boolean } | undefined {
  const header = new RegExp(`^[ \\t]*# hatter: ${what.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} sha256=([0-9a-f]{64})\\n`, 'm');
  const m = header.exec(text);
  if (!m) return undefined;
  const bodyStart = m.index + m[0].length;
  const end = blockEnd(bodyStart);
  const recomputed = /sha256=([0-9a-f]{64})/.exec(withHeader('#', what, text.slice(bodyStart, end)))![1];
  return { start: m.index, end, intact: recomputed === m[1] };
}

/** End of a YAML sequence item starting at `start`: the next line indented no deeper than its dash. */
function yamlItemEnd(text: string, start: number): number {
  const firstLineEnd = text.indexOf('\n', start);
  if (firstLineEnd < 0) return text.length;
  const indent = /^( *)-/.exec(text.slice(start))?.[1]?.length ?? 0;
  let at = firstLineEnd + 1;
  while (at < text.length) {
    const lineEnd = text.indexOf('\n', at);
    const line = text.slice(at, lineEnd < 0 ? text.length : lineEnd);
    const lead = /^ */.exec(line)![0].length;
    if (line.trim() !== '' && lead <= indent) break;
    if (line.trim() === '') break;
    at = lineEnd < 0 ? text.length : lineEnd + 1;
  }
  return at;
}

/** End of a hat block starting at `start`: just after its closing `  }` line. */
function hatBlockEnd(text: string, start: number): number {
  const close = text.indexOf('\n  }\n', start);
  return close < 0 ? text.length : close + 5;
}

/**
 * Plan `hatter site add --layout hatter`. `otherSites` are the tenants of the current hatter.yaml (the CLI
 * computes them with tenantsFromServeConfig: host does not import server); the new hat's rules must
 * reach none of their areas (the same exact AARE check as the Debian layout).
 */
export function planHatterSiteAdd(spec: SiteSpec, host: HostFiles, configFile: string, otherSites: readonly Tenant[] = []): HatterSitePlan {
  const diagnostics: Diagnostic[] = [];
  if (!SITE_NAME.test(spec.name)) {
    return { files: [], diagnostics: [siteDiagnostic('host/invalid-name', `'${spec.name}' is not a valid site name: it becomes a hat name`, 'use letters, digits, and . _ - (not first), at most 64 characters')] };
  }
  diagnostics.push(...checkSpecText(spec));
  if (!posix.isAbsolute(spec.root)) diagnostics.push(siteDiagnostic('host/relative-root', `--root ${spec.root} must be an absolute path`));
  else if (diagnostics.length === 0 && host.kind(spec.root) !== 'directory') diagnostics.push(siteDiagnostic('host/missing-root', `the site's root ${spec.root} is not a directory`, 'create it first'));
  const text = host.read(configFile);
  if (text === undefined) {
    diagnostics.push(siteDiagnostic('host/config-unreadable', `cannot read ${configFile}`, undefined, configFile));
    return { files: [], diagnostics };
  }
  const view = readConfig(text, configFile, posix.dirname(configFile), diagnostics);
  if (!view) return { files: [], diagnostics };
  if (!view.policyFile || !view.profile) {
    diagnostics.push(siteDiagnostic('host/config-no-policy', `${configFile} has no policy: { file, profile } to put the site's hat in`, 'add one (see docs/serve.md)', configFile));
    return { files: [], diagnostics };
  }
  for (const wanted of spec.serverNames) {
    const taken = view.names.find((n) => n.name === wanted.toLowerCase());
    if (taken) diagnostics.push({ ...siteDiagnostic("host/server-name-taken", `server name ${wanted} is already a site of ${configFile}`, undefined, configFile), line: taken.line });
  }
  if (view.hats.includes(spec.name)) diagnostics.push(siteDiagnostic('host/name-taken', `a site of ${configFile} already uses the hat ${spec.name}`, undefined, configFile));
  const policyText = host.read(view.policyFile);
  if (policyText === undefined) {
    diagnostics.push(siteDiagnostic('host/no-policy-file', `cannot read the policy file ${view.policyFile}`, undefined, configFile));
    return { files: [], diagnostics };
  }
  if (hasHatText(policyText, spec.name)) diagnostics.push(siteDiagnostic('host/name-taken', `the profile ${view.profile} already has a hat ${spec.name}`, undefined, view.policyFile));
  const end = profileEnd(policyText, view.policyFile, view.profile);
  if (end === undefined) diagnostics.push(siteDiagnostic('host/profile-missing', `${view.policyFile} has no profile ${view.profile}`, undefined, view.policyFile));
  const hat = hatterHatRules(spec);
  diagnostics.push(...patternReach(hat.patterns, otherSites.filter((t) => !t.hats.includes(spec.name)), view.policyFile));
  if (diagnostics.length > 0) return { files: [], diagnostics };
  const entry = hatterSiteEntry(spec, view.itemIndent);
  const needsNewline = view.insertAt > 0 && text[view.insertAt - 1] !== '\n' ? '\n' : '';
  const sitesKey = view.hasSites ? '' : 'sites:\n';
  const newConfig = `${text.slice(0, view.insertAt)}${needsNewline}${sitesKey}${entry}${text.slice(view.insertAt)}`;
  const newPolicy = `${policyText.slice(0, end)}${hat.text}${policyText.slice(end!)}`;
  return {
    files: [
      { path: view.policyFile, action: 'write', content: newPolicy, previous: policyText },
      { path: configFile, action: 'write', content: newConfig, previous: text },
    ],
    diagnostics,
    policyFile: view.policyFile,
    profile: view.profile,
  };
}

export function planHatterSiteRemove(name: string, host: HostFiles, configFile: string, options: { force?: boolean } = {}): HatterSitePlan {
  const diagnostics: Diagnostic[] = [];
  const text = host.read(configFile);
  if (text === undefined) return { files: [], diagnostics: [siteDiagnostic('host/config-unreadable', `cannot read ${configFile}`, undefined, configFile)] };
  const view = readConfig(text, configFile, posix.dirname(configFile), diagnostics);
  if (!view) return { files: [], diagnostics };
  const files: FilePlan[] = [];
  const site = findInserted(text, `site ${name} (hatter.yaml site)`, (s) => yamlItemEnd(text, s));
  const policyText = view.policyFile ? host.read(view.policyFile) : undefined;
  const hat = policyText !== undefined ? findInserted(policyText, `site ${name} (hat)`, (s) => hatBlockEnd(policyText, s)) : undefined;
  if (!site && !hat) return { files: [], diagnostics: [siteDiagnostic('host/no-such-site', `there is no site ${name} written by hatter in ${configFile}`)] };
  for (const [found, file] of [[site, configFile], [hat, view.policyFile]] as const) {
    if (found && !found.intact && !options.force) diagnostics.push(siteDiagnostic('host/hand-edited', `site ${name}'s block in ${file} was edited by hand since hatter wrote it; not removing it`, 'use --force', file));
  }
  if (diagnostics.length > 0) return { files: [], diagnostics };
  if (site) files.push({ path: configFile, action: 'write', content: text.slice(0, site.start) + text.slice(site.end), previous: text, ...(site.intact ? {} : { handEdited: true }) });
  if (hat && policyText !== undefined && view.policyFile) files.push({ path: view.policyFile, action: 'write', content: policyText.slice(0, hat.start) + policyText.slice(hat.end), previous: policyText, ...(hat.intact ? {} : { handEdited: true }) });
  return { files, diagnostics };
}

/** Whether the policy text declares a hat `name` (`^name {`, `^name (`, `^name flags=`). */
function hasHatText(policyText: string, name: string): boolean {
  return new RegExp(`^\\s*\\^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*[{(f]`, 'm').test(policyText);
}

export interface HatterSiteRecord {
  readonly serverName: string;
  readonly aliases: readonly string[];
  readonly root?: string;
  /** Each hat the site names (default hat first) and whether the policy's profile has it. */
  readonly hats: readonly { readonly name: string; readonly exists: boolean }[];
  /** Written by `hatter site add` and unchanged since (the site entry's header hash). */
  readonly managed: boolean;
  readonly agree: boolean;
  readonly problems: readonly string[];
  readonly line: number;
}

/**
 * `hatter site list --layout hatter`: hatter.yaml's sites with their hats, each checked against the
 * hats the policy's profile really has (the loaded policy, includes followed): a site whose hat is
 * missing would get no confinement `hatter serve` can enter.
 */
export function listHatterSites(host: HostFiles, configFile: string): { sites: HatterSiteRecord[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const text = host.read(configFile);
  if (text === undefined) return { sites: [], diagnostics: [siteDiagnostic('host/config-unreadable', `cannot read ${configFile}`, undefined, configFile)] };
  const view = readConfig(text, configFile, posix.dirname(configFile), diagnostics);
  if (!view) return { sites: [], diagnostics };
  let hats: Set<string> | undefined;
  if (view.policyFile && view.profile) {
    const loaded = loadPolicy(view.policyFile, hostFileReader(host), { workingDirectory: posix.dirname(view.policyFile), includePaths: ['/etc/apparmor.d'] });
    if (loaded.unreadable) diagnostics.push(siteDiagnostic('host/no-policy-file', `cannot read the policy file ${view.policyFile}`, undefined, configFile));
    else {
      const profile = findProfile(loaded.resolved.profiles, view.profile);
      if (!profile) diagnostics.push(siteDiagnostic('host/profile-missing', `${view.policyFile} has no profile ${view.profile}`, undefined, view.policyFile));
      hats = new Set((profile?.children ?? []).filter((c) => c.kind === 'hat').map((c) => c.localName));
    }
  } else {
    diagnostics.push(siteDiagnostic('host/config-no-policy', `${configFile} has no policy: { file, profile }`, undefined, configFile));
  }
  const sites = view.sites.map((site): HatterSiteRecord => {
    const checked = site.hats.map((name) => ({ name, exists: hats?.has(name) ?? false }));
    const problems = checked.filter((h) => !h.exists).map((h) => `the hat ${h.name} is not in ${view.profile ?? 'the policy'}${view.policyFile ? ` (${view.policyFile})` : ''}`);
    const managed = site.hats[0] !== undefined && findInserted(text, `site ${site.hats[0]} (hatter.yaml site)`, (s) => yamlItemEnd(text, s))?.intact === true;
    return { serverName: site.serverName, aliases: site.aliases, ...(site.root !== undefined ? { root: site.root } : {}), hats: checked, managed, agree: problems.length === 0, problems, line: site.line };
  });
  return { sites, diagnostics };
}
