// One request map: for random configurations and requests, `hatter serve`'s Router, `hatter which-hat`
// (web's mapRequest + selectHat) and the kernel-like change_hat resolver must put every request in the
// same hat. hatter.yaml sites are also checked against a naive reading of the documented rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  hatVector, mapRequest, memoryFileSystem, readApacheConfig, resolveChangeHat, whichHat,
  type HatOrder, type ProfileTree,
} from '../../src/web/index.js';
import { apacheSites } from '../../src/server/apache.js';
import type { LocationConfig, SiteConfig } from '../../src/server/config.js';
import { hatChooser } from '../../src/server/policy-hats.js';
import { Router, requestMapConfig } from '../../src/server/routing.js';

const RUNS = Number(process.env.HATTER_DIFFERENTIAL_RUNS ?? 2600);

const NAMES = ['a.test', 'b.test', 'shop.example', 'www.shop.example', 'x.y.test'];
const ALIASES = [...NAMES, '*.test', '*.shop.example', 'w?w.shop.example', '*', 'B.TEST'];
const OTHER_HOSTS = ['other.example', 'q.test', 'shop.example.org'];
const HATS = ['h1', 'h2', 'h3', 'a.test', 'shop.example', 'shop', 'DEFAULT_URI', '/app', 'a.test-/app'];
const SEGMENTS = ['app', 'cart', 'admin', 'cgi-bin', 'x.php', 'a', 'b', 'img.png', '..', '.', '%61pp', '', 'CART'];
const PREFIXES = ['/', '/app', '/app/', '/cart', '/a*', '/*/x.php', '/app/*', '/c?rt', '/[ab]', '/cgi-bin/', '//app', '/*'];
const REGEXES = ['\\.php$', '^/app', 'admin', '^/(a|b)/', '(?i)CART', 'x'];

const PROFILE = 'web';

/** A policy profile with some of the names as hats and maybe one as a child profile (not a hat). */
const profileTree = fc.record({
  hats: fc.subarray(HATS),
  child: fc.option(fc.constantFrom(...HATS), { nil: undefined }),
}).map(({ hats, child }): ProfileTree => ({
  name: PROFILE, baseName: PROFILE, isHat: false, mode: 'enforce',
  children: [
    { name: `${PROFILE}//HANDLING_UNTRUSTED_INPUT`, baseName: 'HANDLING_UNTRUSTED_INPUT', isHat: true, mode: 'enforce', children: [] },
    ...hats.filter((h) => h !== child).map((h) => ({ name: `${PROFILE}//${h}`, baseName: h, isHat: true, mode: 'enforce' as const, children: [] })),
    ...(child !== undefined ? [{ name: `${PROFILE}//${child}`, baseName: child, isHat: false, mode: 'enforce' as const, children: [] }] : []),
  ],
}));

/** Every way a client may spell a host: case, one trailing dot, a port, an empty port. */
const hostForm = (name: string) => fc.record({
  upper: fc.boolean(), dot: fc.boolean(), port: fc.constantFrom('', ':80', ':8080', ':'),
}).map(({ upper, dot, port }) => `${upper ? name.toUpperCase() : name}${dot ? '.' : ''}${port}`);

const request = fc.record({
  host: fc.oneof(
    fc.constantFrom(...NAMES, ...OTHER_HOSTS).chain((name) => hostForm(name).map((form) => ({ name, form }))),
    fc.constantFrom({ name: '::1', form: '[::1]:8080' }, { name: '', form: '' }),
  ),
  path: fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`),
  query: fc.constantFrom('', '?q=1'),
});

const location = fc.record({
  match: fc.oneof(
    fc.constantFrom(...PREFIXES).map((prefix) => ({ kind: 'prefix' as const, prefix })),
    fc.constantFrom(...REGEXES).map((pattern) => ({ kind: 'regex' as const, pattern })),
  ),
  hat: fc.option(fc.constantFrom(...HATS), { nil: undefined }),
  handler: fc.boolean(),
}).map(({ match, hat, handler }, ): LocationConfig => ({ match, ...(hat !== undefined ? { hat } : {}), ...(handler ? { handler: { type: 'static', root: `/h${match.kind}` } } : {}) }));

const site = fc.record({
  serverName: fc.constantFrom(...NAMES),
  aliases: fc.array(fc.constantFrom(...ALIASES), { maxLength: 2 }),
  defaultHat: fc.option(fc.constantFrom(...HATS), { nil: undefined }),
  locations: fc.array(location, { maxLength: 4 }),
}).map(({ serverName, aliases, defaultHat, locations }): SiteConfig => ({
  serverName, aliases: aliases.map((a) => a.toLowerCase()), documentRoot: '/srv', handler: { type: 'static', root: '/srv' }, locations,
  ...(defaultHat !== undefined ? { defaultHat } : {}),
}));

// ── a naive reading of the documented rules, for hatter.yaml sites ──────────────────────────────────

const escape = (s: string): string => s.replace(/[.+^${}()|\\/]/g, '\\$&');

function naiveSite(sites: readonly SiteConfig[], host: string): number {
  if (host === '') return 0; // no Host header: the default vhost
  const index = sites.findIndex((s) => [s.serverName, ...s.aliases].some((name) => (
    /[*?]/.test(name) ? new RegExp(`^${escape(name).replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(host) : name === host)));
  return index < 0 ? 0 : index;
}

function naiveLocationMatches(match: LocationConfig['match'], uri: string): boolean {
  if (match.kind === 'regex') {
    const insensitive = match.pattern.startsWith('(?i)');
    return new RegExp(insensitive ? match.pattern.slice(4) : match.pattern, insensitive ? 'i' : '').test(uri);
  }
  const prefix = match.prefix.replace(/\/+/g, '/');
  if (/[*?[]/.test(prefix)) {
    // Whole-URI wildcard match where no wildcard crosses a '/'.
    const body = prefix.split('').map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c === '[' || c === ']' ? c : escape(c))).join('');
    return new RegExp(`^${body}$`).test(uri);
  }
  return uri === prefix || uri.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
}

function kernelLabel(tree: ProfileTree, candidates: readonly string[]): string {
  // mod_apparmor returns to the parent first, then offers the vector; a failure leaves the parent.
  const result = resolveChangeHat(tree, undefined, candidates);
  return result.outcome === 'hat' ? result.label : PROFILE;
}

test(`hatter.yaml sites: Router, which-hat's request map, the kernel resolver and the documented rules agree (${RUNS} cases)`, () => {
  fc.assert(fc.property(
    fc.array(site, { minLength: 1, maxLength: 4 }), profileTree, fc.constantFrom<HatOrder>('current', '2.8.95'), fc.array(request, { minLength: 1, maxLength: 3 }),
    (sites, tree, order, requests) => {
      const router = new Router({ sites, policy: { profile: PROFILE }, hatOrder: order }, hatChooser({ profile: PROFILE, tree, hats: [] }));
      const model = requestMapConfig({ sites });
      for (const { host, path, query } of requests) {
        const route = router.route(host.form, path + query);
        const mapped = mapRequest(model, { url: path + query, host: host.form, port: 80 });
        assert.equal(route !== undefined, mapped.ok, `${host.form} ${path}: serve and which-hat disagree on refusing it`);
        if (!route || !mapped.ok) continue;
        const index = naiveSite(sites, host.name);
        assert.equal(route.siteIndex, index, `${host.form}: site`);
        assert.equal(mapped.vhost, model.vhosts[index], `${host.form}: which-hat's vhost`);
        assert.equal(route.uri, mapped.uri);
        let hatName: string | undefined;
        let handler = sites[index]!.handler;
        for (const l of sites[index]!.locations) {
          if (!naiveLocationMatches(l.match, route.uri)) continue;
          if (l.hat !== undefined) hatName = l.hat;
          if (l.handler) handler = l.handler;
        }
        const s = sites[index]!;
        const expected = hatVector({ ...(hatName !== undefined ? { hatName } : {}), ...(s.defaultHat !== undefined ? { defaultHatName: s.defaultHat } : {}), serverName: s.serverName, uri: route.uri }, order);
        assert.deepEqual(route.candidates, expected, `${host.form} ${path}: serve's vector`);
        assert.deepEqual(hatVector(mapped.vectorInput, order), expected, `${host.form} ${path}: which-hat's vector`);
        assert.deepEqual(route.handler, handler, `${host.form} ${path}: handler`);
        assert.equal(route.label, kernelLabel(tree, expected), `${host.form} ${path}: serve's hat against the kernel's`);
        const answer = whichHat(model, { url: path + query, host: host.form, port: 80 }, tree, { order });
        assert.ok(answer.ok);
        assert.equal(answer.selection.outcome === 'hat' ? answer.selection.label : PROFILE, route.label, `${host.form} ${path}: which-hat's hat`);
      }
    },
  ), { numRuns: RUNS });
});

// ── Apache configurations: serve --apache against which-hat and the kernel ──────────────────────────

const DIRECTORY_PATTERNS = ['/srv', '/srv/v0', '/srv/v1/app', '/srv/*/admin', '/srv/v0/a*', '/srv/v?/cgi-bin', '/srv/static', '/'];
const apacheSection = fc.record({
  kind: fc.constantFrom('Location', 'LocationMatch', 'Directory', 'DirectoryMatch', 'Files', 'FilesMatch'),
  location: fc.constantFrom(...PREFIXES.filter((p) => p !== '//app')),
  regex: fc.constantFrom(...REGEXES),
  directory: fc.constantFrom(...DIRECTORY_PATTERNS),
  directoryRegex: fc.constantFrom('^/srv/v./cart', 'admin', '^/srv/static'),
  files: fc.constantFrom('x.php', '*.png', 'a', '?'),
  filesRegex: fc.constantFrom('\\.php$', '^img'),
  hat: fc.option(fc.constantFrom(...HATS), { nil: undefined }),
}).map((s) => {
  const argument = { Location: s.location, LocationMatch: `"${s.regex}"`, Directory: s.directory, DirectoryMatch: `"${s.directoryRegex}"`, Files: `"${s.files}"`, FilesMatch: `"${s.filesRegex}"` }[s.kind];
  return `<${s.kind} ${argument}>\n${s.hat !== undefined ? `  AAHatName ${s.hat}\n` : ''}</${s.kind}>\n`;
});
const vhost = fc.record({
  serverName: fc.constantFrom(...NAMES),
  aliases: fc.array(fc.constantFrom(...ALIASES), { maxLength: 2 }),
  defaultHat: fc.option(fc.constantFrom(...HATS), { nil: undefined }),
  alias: fc.boolean(),
  sections: fc.array(apacheSection, { maxLength: 4 }),
});
const apacheConfigText = fc.record({
  main: fc.array(apacheSection, { maxLength: 2 }),
  mainDefaultHat: fc.option(fc.constantFrom(...HATS), { nil: undefined }),
  vhosts: fc.array(vhost, { minLength: 1, maxLength: 3 }),
}).map(({ main, mainDefaultHat, vhosts }) => [
  'LoadModule apparmor_module mod_apparmor.so',
  'ServerName main.example',
  ...(mainDefaultHat !== undefined ? [`AADefaultHatName ${mainDefaultHat}`] : []),
  ...main,
  ...vhosts.map((v, i) => [
    '<VirtualHost *:80>',
    `  ServerName ${v.serverName}`,
    ...(v.aliases.length ? [`  ServerAlias ${v.aliases.join(' ')}`] : []),
    `  DocumentRoot /srv/v${i}`,
    ...(v.defaultHat !== undefined ? [`  AADefaultHatName ${v.defaultHat}`] : []),
    ...(v.alias ? ['  Alias /static/ /srv/static/'] : []),
    ...v.sections,
    '</VirtualHost>',
  ].join('\n')),
].join('\n'));

test(`Apache configurations: serve --apache, which-hat and the kernel resolver agree (${RUNS} cases)`, () => {
  fc.assert(fc.property(apacheConfigText, profileTree, fc.constantFrom<HatOrder>('current', '2.8.95'), fc.array(request, { minLength: 1, maxLength: 3 }), (text, tree, order, requests) => {
    const { config, diagnostics } = readApacheConfig('/etc/apache2/apache2.conf', { fs: memoryFileSystem({ '/etc/apache2/apache2.conf': text }) });
    assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
    const sites = apacheSites(config, []);
    assert.equal(sites.length, config.vhosts.length);
    const router = new Router({ sites, policy: { profile: PROFILE }, hatOrder: order }, hatChooser({ profile: PROFILE, tree, hats: [] }));
    for (const { host, path, query } of requests) {
      const target = { url: path + query, host: host.form, port: 80 };
      const route = router.route(host.form, path + query);
      const answer = whichHat(config, target, tree, { order });
      assert.equal(route !== undefined, answer.ok, `${host.form} ${path}: serve and which-hat disagree on refusing it`);
      if (!route || !answer.ok) continue;
      assert.equal(sites[route.siteIndex]!.apache!.vhost, answer.mapping.vhost, `${host.form} ${path}: vhost`);
      const candidates = answer.candidates.map((c) => c.name);
      assert.deepEqual(route.candidates, candidates, `${host.form} ${path}: vector`);
      assert.equal(route.label, answer.selection.outcome === 'hat' ? answer.selection.label : PROFILE, `${host.form} ${path}: which-hat's hat`);
      assert.equal(route.label, kernelLabel(tree, candidates), `${host.form} ${path}: the kernel's hat`);
    }
  }), { numRuns: RUNS });
});
