// Generated Apache + mod_apparmor and PHP-FPM set-ups for the live-oracle boot (test/kernel/mod-apparmor.test.ts).
// Everything is written into the shared work directory on the host, so hatter reads exactly the
// configuration, document roots and policy the guest's Apache and php-fpm run with.
//
// Apache: three instances, each with its own parent profile and port: enforce with DEFAULT_URI,
// enforce without DEFAULT_URI (requests whose names are all missing fall back to the parent), and a
// complain-mode parent (missing first names become `null-` learning hats). Each has a main server and
// 3-4 vhosts with random ServerAlias/AADefaultHatName and AAHatName in <Directory>, <DirectoryMatch>,
// <Files>, <FilesMatch>, <Location> and <LocationMatch>; a random part of every name a request can try
// (AAHatName, AADefaultHatName, ServerName, ServerName-URI, URI, DEFAULT_URI) exists as a hat, some of
// them in complain mode, a few as child profiles that are not hats. Every request runs label.php, which
// prints /proc/self/attr/current.
//
// PHP-FPM: three masters (enforce, complain, enforce without a change_profile rule), each with pools
// whose apparmor_hat names a hat, a complain-mode hat, a child profile, a missing name, or nothing.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rng } from '../../support/aare-probes.js';

export const LABEL_PHP = '<?php echo trim(file_get_contents("/proc/self/attr/current")), "\\n";\n';

export interface ApacheInstance {
  readonly name: string;
  readonly profile: string;
  readonly port: number;
  readonly conf: string;
  readonly policy: string;
  readonly errorLog: string;
  /** curl config (`-K`) with one `url`/`header`/`output` group per request. */
  readonly curlConfig: string;
}

export interface WebRequest {
  readonly id: number;
  readonly instance: string;
  /** The Host header as sent (case, port and trailing dot vary). */
  readonly host: string;
  /** The raw request path as sent (curl --path-as-is), with `?id=N`. */
  readonly path: string;
}

export interface FpmMaster {
  readonly name: string;
  readonly profile: string;
  readonly conf: string;
  readonly policy: string;
  readonly log: string;
  readonly pools: readonly string[];
}

export interface WebSetup {
  readonly apache: readonly ApacheInstance[];
  readonly requests: readonly WebRequest[];
  readonly fpm: readonly FpmMaster[];
  readonly seed: number;
}

const FILES = ['label.php', 'a/label.php', 'a/two.php', 'a/sub/label.php', 'b/label.php', 'b/sub/two.php', 'c/label.php', 'c/tx.php'];

const q = (name: string): string => `"${name}"`;

/**
 * Rules for the parent profiles and their hats: broad, since the oracle is about which hat, not what it
 * allows. No abstractions: compiling abstractions/base once per hat took minutes under emulation.
 */
const HAT_BODY = ['/** rwkm,', 'network,', 'unix,', 'signal,'];
const PARENT_BODY = ['capability,', 'network,', 'signal,', 'unix,', 'ptrace,', '/** rwmlk,', '/usr/** mrix,'];

function block(head: string, body: readonly string[], indent: string): string {
  return [`${indent}${head} {`, ...body.map((r) => `${indent}  ${r}`), `${indent}}`].join('\n');
}

interface Site { serverName: string; aliases: string[]; root: string; defaultHat?: string; names: string[] }

export function generateWebSetup(work: string, seed: number, basePort: number): WebSetup {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const chance = (p: number): boolean => random() < p;
  const apache: ApacheInstance[] = [];
  const requests: WebRequest[] = [];
  const kinds = [
    { name: 'i1', mode: 'enforce', defaultUri: true },
    { name: 'i2', mode: 'enforce', defaultUri: false },
    { name: 'i3', mode: 'complain', defaultUri: true },
  ] as const;
  let nextId = 1;
  kinds.forEach((kind, k) => {
    const dir = join(work, 'apache', kind.name);
    const www = join(work, 'www', kind.name);
    mkdirSync(join(dir, 'logs'), { recursive: true });
    const port = basePort + k;
    const profile = `kweb-apache-${kind.name}`;
    const sites: Site[] = [];
    const hatNames = new Set<string>(['HANDLING_UNTRUSTED_INPUT']);
    const sections: string[] = [];
    const sectionFor = (site: Site, v: string): string => {
      const root = site.root;
      const hat = `h-${v}-${sections.length}`;
      site.names.push(hat);
      hatNames.add(hat);
      const choice = pick([
        `<Directory ${root}/a>`, `<Directory ${root}/a/sub>`, `<Directory ${root}>`, `<DirectoryMatch "^${root}/[bc]">`,
        '<Files "two.php">', '<FilesMatch "^t.*\\.php$">', '<Location /b>', '<Location /a/sub>', '<LocationMatch "^/c/.*\\.php$">',
        '<LocationMatch "/sub/">',
      ]);
      const close = `</${choice.slice(1).split(/[ >]/)[0]}>`;
      sections.push(hat);
      return `  ${choice}\n    AAHatName ${hat}\n  ${close}`;
    };
    const nVhosts = 3 + Math.floor(random() * 2);
    const main: Site = { serverName: `main.${kind.name}.test`, aliases: [], root: join(www, 'main'), names: [] };
    if (chance(0.5)) { main.defaultHat = `main-default-${kind.name}`; hatNames.add(main.defaultHat); }
    const vhostText: string[] = [];
    for (let v = 0; v < nVhosts; v++) {
      const site: Site = { serverName: `s${v}.${kind.name}.test`, aliases: [], root: join(www, `s${v}`), names: [] };
      if (chance(0.5)) site.aliases = [`alias${v}.${kind.name}.test`, `*.w${v}.${kind.name}.test`];
      if (chance(0.6)) { site.defaultHat = `d${v}`; hatNames.add(site.defaultHat); }
      hatNames.add(site.serverName);
      const own: string[] = [];
      const count = 1 + Math.floor(random() * 3);
      for (let i = 0; i < count; i++) own.push(sectionFor(site, `s${v}`));
      const address = chance(0.7) ? `127.0.0.1:${port}` : `*:${port}`;
      vhostText.push([
        `<VirtualHost ${address}>`,
        `  ServerName ${site.serverName}`,
        ...(site.aliases.length ? [`  ServerAlias ${site.aliases.join(' ')}`] : []),
        `  DocumentRoot ${site.root}`,
        ...(site.defaultHat ? [`  AADefaultHatName ${site.defaultHat}`] : []),
        ...own,
        '</VirtualHost>',
      ].join('\n'));
      sites.push(site);
    }
    // Sections of the main server apply to every vhost (merged before the vhost's own).
    const mainSections = [sectionFor(main, 'main'), ...(chance(0.5) ? [`  <Location /b/sub>\n    AAHatName main-loc-${kind.name}\n  </Location>`] : [])];
    if (mainSections.length > 1) hatNames.add(`main-loc-${kind.name}`);
    for (const site of [main, ...sites]) {
      for (const file of FILES) {
        mkdirSync(join(site.root, file, '..'), { recursive: true });
        writeFileSync(join(site.root, file), LABEL_PHP);
      }
    }
    // A sample of ServerName-URI and URI names as hats too, so that those vector slots are reached.
    for (const site of sites) {
      if (chance(0.5)) hatNames.add(`${site.serverName}-/${pick(FILES)}`);
      if (chance(0.4)) hatNames.add(`/${pick(FILES)}`);
    }
    if (kind.defaultUri) hatNames.add('DEFAULT_URI');
    const hats: string[] = [];
    const children: string[] = [];
    for (const name of [...hatNames].sort()) {
      const always = name === 'HANDLING_UNTRUSTED_INPUT' || name === 'DEFAULT_URI';
      if (!always && !chance(0.55)) continue; // missing from the policy
      if (!always && !name.includes('/') && chance(0.06)) { children.push(name); continue; } // a child profile, not a hat
      const flags = !always && chance(0.2) ? ' flags=(complain)' : '';
      hats.push(block(`^${q(name)}${flags}`, HAT_BODY, '  '));
    }
    const policy = writePolicy(dir, profile, [
      'abi <abi/3.0>,',
      `profile ${profile}${kind.mode === 'complain' ? ' flags=(complain)' : ''} {`,
      ...PARENT_BODY.map((r) => `  ${r}`),
      ...hats,
      ...children.map((name) => block(`profile ${q(name)}`, HAT_BODY, '  ')),
      '}', '',
    ].join('\n'));
    const modules = '/usr/lib/apache2/modules';
    const conf = join(dir, 'httpd.conf');
    writeFileSync(conf, [
      'ServerRoot /etc/apache2',
      `Listen 127.0.0.1:${port}`,
      `PidFile /run/kweb-${kind.name}/httpd.pid`,
      `Mutex file:/run/kweb-${kind.name} default`,
      `ErrorLog ${dir}/logs/error.log`,
      'LogLevel warn',
      ...['mpm_prefork:mod_mpm_prefork', 'authz_core:mod_authz_core', 'php:libphp8.2', 'apparmor:mod_apparmor'].map((m) => {
        const [id, file] = m.split(':');
        return `LoadModule ${id}_module ${modules}/${file}.so`;
      }),
      'StartServers 1', 'MinSpareServers 1', 'MaxSpareServers 2', 'MaxRequestWorkers 3',
      'User www-data', 'Group www-data',
      `ServerName ${main.serverName}`,
      `DocumentRoot ${main.root}`,
      ...(main.defaultHat ? [`AADefaultHatName ${main.defaultHat}`] : []),
      '<FilesMatch "\\.php$">', '  SetHandler application/x-httpd-php', '</FilesMatch>',
      `<Directory ${www}>`, '  Require all granted', '</Directory>',
      ...mainSections.map((s) => s.replace(/^ {2}/gm, '')),
      ...vhostText, '',
    ].join('\n'));

    // Requests: hosts in several spellings (and unknown ones), paths with dot segments, doubled slashes,
    // encoded unreserved characters and PATH_INFO, each with ?id=N (the query is not part of the URI).
    const curl: string[] = [];
    const perInstance = 110;
    for (let i = 0; i < perInstance; i++) {
      const id = nextId++;
      const site = chance(0.12) ? undefined : pick(sites);
      const host = hostSpelling(site, port, kind.name, pick, chance);
      const path = `${pathSpelling(pick(FILES), pick, chance)}?id=${id}`;
      requests.push({ id, instance: kind.name, host, path });
      curl.push(`url = "http://127.0.0.1:${port}${path}"`, `header = "Host: ${host}"`, `output = "${join(work, 'results', 'apache', `${id}.body`)}"`, 'path-as-is', 'silent', `write-out = "${id} %{http_code}\\n"`, 'next');
    }
    const curlConfig = join(dir, 'requests.curl');
    writeFileSync(curlConfig, `${curl.join('\n')}\n`);
    apache.push({ name: kind.name, profile, port, conf, policy, errorLog: join(dir, 'logs', 'error.log'), curlConfig });
  });
  mkdirSync(join(work, 'results', 'apache'), { recursive: true });
  const fpm = generateFpm(work, basePort + 10);
  // Apache runs as www-data and must read the document roots.
  chmodTree(work);
  return { apache, requests, fpm, seed };
}

function hostSpelling(site: Site | undefined, port: number, instance: string, pick: <T>(xs: readonly T[]) => T, chance: (p: number) => boolean): string {
  if (!site) return pick([`nobody.${instance}.test`, '127.0.0.1', `main.${instance}.test`, `MAIN.${instance}.TEST.`]);
  const base = site.aliases.length && chance(0.4) ? (chance(0.5) ? site.aliases[0]! : `x${Math.floor(port % 7)}.${site.aliases[1]!.slice(2)}`) : site.serverName;
  return pick([base, base, base.toUpperCase(), `${base}.`, `${base}:${port}`]);
}

function pathSpelling(file: string, pick: <T>(xs: readonly T[]) => T, chance: (p: number) => boolean): string {
  const path = `/${file}`;
  if (!chance(0.35)) return path;
  const slash = path.lastIndexOf('/');
  return pick([
    path.replace(/\//, '//'),
    `/.${path}`,
    `/zz/..${path}`,
    path.replace(/\/([a-z])/, (_m, c: string) => `/%${c.charCodeAt(0).toString(16)}`),
    `${path.slice(0, slash)}/./${path.slice(slash + 1)}`,
    `/%2e${path}`,
    `${path}/extra/info`,
  ]);
}

function generateFpm(work: string, basePort: number): FpmMaster[] {
  const masters = [
    { name: 'fe', mode: 'enforce', changeProfile: true },
    { name: 'fc', mode: 'complain', changeProfile: true },
    { name: 'fn', mode: 'enforce', changeProfile: false },
  ] as const;
  let port = basePort;
  return masters.map((m) => {
    const dir = join(work, 'fpm', m.name);
    mkdirSync(dir, { recursive: true });
    const profile = `kweb-fpm-${m.name}`;
    const pools: { name: string; hat?: string }[] = [
      { name: 'hat', hat: 'site1' },
      { name: 'complainhat', hat: 'site2' },
      { name: 'child', hat: 'site3' },
      { name: 'missing', hat: 'nosuchhat' },
      { name: 'plain' },
    ];
    const policy = writePolicy(dir, profile, [
      'abi <abi/3.0>,',
      `profile ${profile}${m.mode === 'complain' ? ' flags=(complain)' : ''} {`,
      ...PARENT_BODY.map((r) => `  ${r}`),
      ...(m.changeProfile ? [`  change_profile -> ${profile}//*,`] : []),
      block('^site1', HAT_BODY, '  '),
      block('^site2 flags=(complain)', HAT_BODY, '  '),
      block('profile site3', HAT_BODY, '  '),
      '}', '',
    ].join('\n'));
    const conf = join(dir, 'php-fpm.conf');
    writeFileSync(conf, [
      '[global]', `pid = /run/kweb-${m.name}.pid`, `error_log = ${dir}/fpm.log`, 'log_level = notice', 'daemonize = no', '',
      ...pools.flatMap((p) => [
        `[${p.name}]`, `listen = 127.0.0.1:${port++}`, 'pm = static', 'pm.max_children = 1',
        ...(p.hat ? [`apparmor_hat = ${p.hat}`] : []), '',
      ]),
    ].join('\n'));
    return { name: m.name, profile, conf, policy, log: join(dir, 'fpm.log'), pools: pools.map((p) => p.name) };
  });
}

/**
 * Writes a policy file named after its profile and a hash of its text, dated in the past: the guest
 * loads it with apparmor_parser's cache (-W -L) in a directory kept between runs, so an unchanged policy
 * is not compiled again (compiling took minutes under emulation on a loaded machine). The hash in the
 * name keeps a changed text from meeting a stale cache entry.
 */
function writePolicy(dir: string, profile: string, text: string): string {
  const file = join(dir, `${profile}-${createHash('sha256').update(text).digest('hex').slice(0, 12)}`);
  writeFileSync(file, text);
  const past = new Date('2020-01-01T00:00:00Z');
  utimesSync(file, past, past);
  return file;
}

function chmodTree(dir: string): void {
  chmodSync(dir, 0o755);
}
