// Apache httpd configuration reader for what decides a request's hat: includes, Define/${VAR},
// <IfModule>/<IfDefine>, Listen, <VirtualHost>, per-directory sections, aliases, DocumentRoot and the
// mod_apparmor directives. Reads the way httpd does (one pass; Include, IfModule, IfDefine, Define and
// LoadModule act while reading), never throws, and reports problems as Diagnostics with file:line.
import { posix } from 'node:path';
import type { Diagnostic, SourceLocation } from '../policy/index.js';
import { escapeControlCharacters } from '../policy/index.js';
import { expandGlob, globComponentToRegExp, hasGlob, type WebFileSystem } from './file-system.js';

export type SectionKind = 'Directory' | 'DirectoryMatch' | 'Files' | 'FilesMatch' | 'Location' | 'LocationMatch';

export interface ApacheSection {
  readonly kind: SectionKind;
  /** The section's argument as written (path, wildcard pattern or regex), after ${VAR} substitution. */
  readonly pattern: string;
  /** True for the *Match forms and for `<Directory ~ …>`, `<Files ~ …>`, `<Location ~ …>`. */
  readonly isRegex: boolean;
  readonly hatName?: string;
  /** The directive that set hatName (AAHatName or its deprecated alias ImmHatName). */
  readonly hatDirective?: 'AAHatName' | 'ImmHatName';
  readonly hatLocation?: SourceLocation;
  /** <Files>/<FilesMatch> nested in this <Directory>/<DirectoryMatch>. */
  readonly nested: readonly ApacheSection[];
  readonly location: SourceLocation;
  /** Position in the whole configuration (reading order), for stable merge order. */
  readonly order: number;
}

export interface AliasRule {
  readonly kind: 'Alias' | 'ScriptAlias' | 'AliasMatch' | 'ScriptAliasMatch';
  readonly from: string;
  readonly to: string;
  readonly location: SourceLocation;
}

export interface VirtualHostAddress {
  /** IP address, host name, `*` or `_default_`. */
  readonly host: string;
  /** Port number, or '*' when the address gives none. */
  readonly port: number | '*';
}

export interface ApacheServer {
  readonly isMain: boolean;
  readonly addresses: readonly VirtualHostAddress[];
  readonly serverName?: string;
  readonly serverAliases: readonly string[];
  readonly documentRoot?: string;
  readonly defaultHatName?: string;
  readonly defaultHatDirective?: 'AADefaultHatName' | 'ImmDefaultHatName';
  readonly defaultHatLocation?: SourceLocation;
  readonly aliases: readonly AliasRule[];
  readonly sections: readonly ApacheSection[];
  readonly location: SourceLocation;
}

export interface ListenDirective {
  readonly address?: string;
  readonly port: number;
  readonly location: SourceLocation;
}

export interface ApacheConfig {
  readonly file: string;
  readonly serverRoot: string;
  readonly main: ApacheServer;
  readonly vhosts: readonly ApacheServer[];
  readonly listens: readonly ListenDirective[];
  /** Modules known while reading: compiled-in plus LoadModule'd (identifiers like `alias_module` and `mod_alias.c`). */
  readonly modules: readonly string[];
  readonly defines: Readonly<Record<string, string>>;
  /** Every file read, in order. */
  readonly files: readonly string[];
  /** Which deprecated Imm* aliases were used (mod_apparmor logs a NOTICE once per process for each). */
  readonly deprecatedDirectives: readonly ('ImmHatName' | 'ImmDefaultHatName')[];
}

export interface ApacheReadOptions {
  readonly fs: WebFileSystem;
  /** ServerRoot for relative paths; default: the ServerRoot directive, else the config file's directory. */
  readonly serverRoot?: string;
  /** `-D NAME` parameters. */
  readonly defines?: readonly string[];
  /** Module set for <IfModule>; replaces the default (compiled-in modules plus those LoadModule'd so far). */
  readonly modules?: readonly string[];
  /** Environment for ${VAR} when no Define sets it (Debian's envvars). */
  readonly env?: Readonly<Record<string, string>>;
  /** httpd version for <IfVersion>; default APACHE_VERSION. */
  readonly version?: string;
}

/** The httpd version <IfVersion> is evaluated against (the Debian apache2 this was checked with). */
export const APACHE_VERSION = '2.4.71';

/** `<IfVersion [[!]op] version>`: op is =, ==, >, >=, <, <=, or ~ / `/regex/` for a regex on the version. */
export function ifVersion(args: readonly string[], version: string): boolean {
  let [op, value] = args.length >= 2 ? [args[0]!, args[1]!] : ['=', args[0] ?? ''];
  let negate = false;
  if (op.startsWith('!')) {
    negate = true;
    op = op.slice(1) || '=';
  }
  let result: boolean;
  if (op === '~' || (value.startsWith('/') && value.endsWith('/') && value.length >= 2)) {
    const body = value.startsWith('/') && value.endsWith('/') ? value.slice(1, -1) : value;
    result = compileRegex(body)?.test(version) ?? false;
  } else {
    const a = version.split('.').map(Number);
    const b = value.split('.').map(Number);
    let cmp = 0;
    for (let i = 0; i < Math.max(a.length, b.length) && cmp === 0; i++) {
      if (i >= b.length) break; // "2.4" matches any 2.4.x for =
      cmp = Math.sign((a[i] ?? 0) - (b[i] ?? 0));
    }
    result = op === '=' || op === '==' ? cmp === 0 : op === '>' ? cmp > 0 : op === '>=' ? cmp >= 0 : op === '<' ? cmp < 0 : op === '<=' ? cmp <= 0 : false;
  }
  return result !== negate;
}

/** Debian's apache2 `-l` list. */
export const COMPILED_IN_MODULES: readonly string[] = ['core.c', 'mod_so.c', 'mod_watchdog.c', 'http_core.c', 'mod_log_config.c', 'mod_logio.c', 'mod_version.c', 'mod_unixd.c'];

const MAX_INCLUDE_DEPTH = 128; // AP_MAX_INCLUDE_DEPTH
const MAX_FILES = 20_000;
const MAX_LINES = 2_000_000;
/** How deep a directory Include looks below the directory it names. */
const MAX_DIRECTORY_DEPTH = 16;

const ACCESS_SECTIONS = new Set(['directory', 'directorymatch', 'files', 'filesmatch', 'location', 'locationmatch']);
const SECTION_NAMES: Record<string, SectionKind> = {
  directory: 'Directory', directorymatch: 'DirectoryMatch', files: 'Files', filesmatch: 'FilesMatch', location: 'Location', locationmatch: 'LocationMatch',
};
/** Sections whose content never applies to a plain request's per-directory config. */
const INERT_SECTIONS = new Set(['if', 'elseif', 'else', 'proxy', 'proxymatch', 'macro']);
/** Sections that only group directives (their content applies to the enclosing context). */
const TRANSPARENT_SECTIONS = new Set(['limit', 'limitexcept', 'requireall', 'requireany', 'requirenone', 'authnprovideralias', 'authzprovideralias', 'mdomain', 'mdomainset', 'ifsection']);

interface MutableSection {
  kind: SectionKind;
  pattern: string;
  isRegex: boolean;
  hatName?: string;
  hatDirective?: 'AAHatName' | 'ImmHatName';
  hatLocation?: SourceLocation;
  nested: MutableSection[];
  location: SourceLocation;
  order: number;
}

interface MutableServer {
  isMain: boolean;
  addresses: VirtualHostAddress[];
  serverName?: string;
  serverAliases: string[];
  documentRoot?: string;
  defaultHatName?: string;
  defaultHatDirective?: 'AADefaultHatName' | 'ImmDefaultHatName';
  defaultHatLocation?: SourceLocation;
  aliases: AliasRule[];
  sections: MutableSection[];
  location: SourceLocation;
}

/** One open `<Section>` while reading a file. */
interface OpenSection {
  readonly name: string;          // lower case
  readonly displayName: string;   // as written
  readonly location: SourceLocation;
  /** false when the content is skipped (<IfModule> false, <If> …). */
  readonly active: boolean;
  readonly inert: boolean;
  readonly section?: MutableSection;
  readonly vhost?: MutableServer;
}

/** Split a directive's argument string like ap_getword_conf: whitespace-separated, "…" or '…' quoted. */
export function splitApacheArgs(text: string): string[] {
  const words: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i]!)) i++;
    if (i >= n) break;
    const q = text[i]!;
    if (q === '"' || q === "'") {
      i++;
      let word = '';
      while (i < n && text[i] !== q) {
        if (text[i] === '\\' && i + 1 < n && (text[i + 1] === q || text[i + 1] === '\\')) {
          word += text[i + 1];
          i += 2;
        } else word += text[i++];
      }
      i++;
      words.push(word);
    } else {
      let word = '';
      while (i < n && !/\s/.test(text[i]!)) word += text[i++];
      words.push(word);
    }
  }
  return words;
}

/** Read an Apache configuration starting at `file`. Never throws. */
export function readApacheConfig(file: string, options: ApacheReadOptions): { config: ApacheConfig; diagnostics: Diagnostic[] } {
  const fs = options.fs;
  const diagnostics: Diagnostic[] = [];
  const defines: Record<string, string> = {};
  const defineFlags = new Set<string>(options.defines ?? []);
  const modules = new Set<string>(options.modules ?? COMPILED_IN_MODULES);
  const fixedModules = options.modules !== undefined;
  let serverRoot = options.serverRoot ?? posix.dirname(posix.resolve('/', file));
  const serverRootFixed = options.serverRoot !== undefined;
  const files: string[] = [];
  const listens: ListenDirective[] = [];
  const vhosts: MutableServer[] = [];
  const deprecated = new Set<'ImmHatName' | 'ImmDefaultHatName'>();
  let order = 0;
  let totalLines = 0;
  let aborted = false;
  const main: MutableServer = { isMain: true, addresses: [], serverAliases: [], aliases: [], sections: [], location: { file, line: 1, col: 1 } };

  const report = (where: SourceLocation, severity: Diagnostic['severity'], code: string, message: string, chain: readonly SourceLocation[], hint?: string): void => {
    diagnostics.push({ ...where, severity, code, message: escapeControlCharacters(message), ...(chain.length ? { includeChain: chain } : {}), ...(hint ? { hint: escapeControlCharacters(hint) } : {}) });
  };

  const substitute = (text: string, where: SourceLocation, chain: readonly SourceLocation[]): string => {
    if (!text.includes('${')) return text;
    return text.replace(/\$\{([A-Za-z0-9_.:-]+)\}/g, (whole, name: string) => {
      if (Object.hasOwn(defines, name)) return defines[name]!;
      if (options.env && Object.hasOwn(options.env, name)) return options.env[name]!;
      report(where, 'warning', 'web/apache-undefined-variable', `config variable \${${name}} is not defined`, chain, 'define it with Define, or pass the environment (Debian: /etc/apache2/envvars)');
      return whole;
    });
  };

  const resolvePath = (p: string): string => (p.startsWith('/') ? posix.normalize(p) : posix.join(serverRoot, p));

  const readFile = (path: string, chain: readonly SourceLocation[], active: readonly string[], contextStack: OpenSection[]): void => {
    if (aborted) return;
    if (files.length >= MAX_FILES) {
      aborted = true;
      report(chain[chain.length - 1] ?? { file: path, line: 1, col: 1 }, 'error', 'web/apache-too-many-files', `more than ${MAX_FILES} configuration files; stopped reading`, chain);
      return;
    }
    const r = fs.read(path);
    if ('error' in r) {
      report(chain[chain.length - 1] ?? { file: path, line: 1, col: 1 }, 'error', 'web/apache-unreadable', `cannot read ${path}: ${r.error}`, chain.slice(0, -1));
      return;
    }
    files.push(path);
    const lines = r.text.split('\n');
    const depthAtStart = contextStack.length;
    for (let ln = 0; ln < lines.length && !aborted; ln++) {
      if (++totalLines > MAX_LINES) {
        aborted = true;
        report({ file: path, line: ln + 1, col: 1 }, 'error', 'web/apache-too-large', `configuration has more than ${MAX_LINES} lines; stopped reading`, chain);
        return;
      }
      const startLine = ln + 1;
      let raw = lines[ln]!.replace(/\r$/, '');
      // Line continuation: a backslash at the very end joins the next line.
      while (/\\$/.test(raw) && ln + 1 < lines.length) {
        raw = raw.slice(0, -1) + lines[++ln]!.replace(/\r$/, '');
      }
      const trimmed = raw.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      const where: SourceLocation = { file: path, line: startLine, col: raw.length - raw.trimStart().length + 1 };
      const activeNow = contextStack.every((s) => s.active);

      // Closing tag.
      const close = /^<\/([^\s>]+)\s*>?(.*)$/.exec(trimmed);
      if (close) {
        const name = close[1]!.toLowerCase();
        const top = contextStack[contextStack.length - 1];
        if (contextStack.length === depthAtStart || !top) {
          report(where, 'error', 'web/apache-unexpected-close', `</${close[1]}> without matching <${close[1]}> section`, chain);
          continue;
        }
        if (top.name !== name) {
          report(where, 'error', 'web/apache-mismatched-close', `expected </${top.displayName}> but saw </${close[1]}>`, chain, `<${top.displayName}> opened at ${top.location.file}:${top.location.line}`);
          // Recover: close the innermost section with this name if there is one in this file, else ignore.
          const idx = contextStack.map((s) => s.name).lastIndexOf(name);
          if (idx >= depthAtStart) contextStack.length = idx;
          continue;
        }
        contextStack.pop();
        continue;
      }

      // Opening tag.
      const open = /^<([^\s>/][^\s>]*)(.*)$/s.exec(trimmed);
      if (open) {
        let rest = open[2]!.trim();
        if (rest.endsWith('>')) rest = rest.slice(0, -1).trim();
        else report(where, 'error', 'web/apache-section-syntax', `<${open[1]}> directive missing closing '>'`, chain);
        const displayName = open[1]!;
        const name = displayName.toLowerCase();
        const argText = activeNow ? substitute(rest, where, chain) : rest;
        const args = splitApacheArgs(argText);
        let active = activeNow;
        let inert = contextStack.some((s) => s.inert);
        let section: MutableSection | undefined;
        let vhost: MutableServer | undefined;
        if (activeNow) {
          if (name === 'ifmodule') {
            if (args.length !== 1) report(where, 'error', 'web/apache-section-syntax', '<IfModule> takes exactly one module name', chain);
            const arg = args[0] ?? '';
            const negate = arg.startsWith('!');
            const mod = negate ? arg.slice(1) : arg;
            active = moduleLoaded(modules, mod) !== negate;
          } else if (name === 'ifdefine') {
            const arg = args[0] ?? '';
            const negate = arg.startsWith('!');
            const def = negate ? arg.slice(1) : arg;
            active = (defineFlags.has(def) || Object.hasOwn(defines, def)) !== negate;
          } else if (name === 'iffile') {
            const arg = args[0] ?? '';
            const negate = arg.startsWith('!');
            const p = negate ? arg.slice(1) : arg;
            active = (fs.stat(resolvePath(p)) !== undefined) !== negate;
          } else if (name === 'ifversion') {
            active = ifVersion(args, options.version ?? APACHE_VERSION);
          } else if (name === 'ifdirective') {
            const arg = args[0] ?? '';
            const negate = arg.startsWith('!');
            const directive = (negate ? arg.slice(1) : arg).toLowerCase();
            const known = /^(aahatname|aadefaulthatname|immhatname|immdefaulthatname)$/.test(directive) ? moduleLoaded(modules, 'apparmor_module') : true;
            active = known !== negate;
          } else if (name === 'virtualhost') {
            if (contextStack.some((s) => s.vhost || s.section)) {
              report(where, 'error', 'web/apache-bad-nesting', '<VirtualHost> cannot occur within another <VirtualHost> or a per-directory section', chain);
              inert = true;
            } else {
              if (args.length === 0) report(where, 'error', 'web/apache-section-syntax', '<VirtualHost> needs at least one address', chain);
              vhost = { isMain: false, addresses: args.map(parseVhostAddress), serverAliases: [], aliases: [], sections: [], location: where };
              vhosts.push(vhost);
            }
          } else if (ACCESS_SECTIONS.has(name)) {
            let kind = SECTION_NAMES[name]!;
            const enclosing = [...contextStack].reverse().find((s) => s.section)?.section;
            const isFiles = kind === 'Files' || kind === 'FilesMatch';
            if (enclosing && (!isFiles || enclosing.kind === 'Location' || enclosing.kind === 'LocationMatch' || enclosing.kind === 'Files' || enclosing.kind === 'FilesMatch')) {
              report(where, 'error', 'web/apache-bad-nesting', `<${displayName}> cannot occur within <${enclosing.kind}> section`, chain);
              inert = true;
            } else if (!inert) {
              let isRegex = kind.endsWith('Match');
              let pattern = args[0] ?? '';
              if (args[0] === '~' && !isRegex) {
                isRegex = true;
                pattern = args[1] ?? '';
                kind = `${kind}Match` as SectionKind;
              }
              if (args.length === 0 || pattern === '') report(where, 'error', 'web/apache-section-syntax', `<${displayName}> needs an argument`, chain);
              if (isRegex && compileRegex(pattern) === undefined) {
                report(where, 'error', 'web/apache-bad-regex', `regular expression '${pattern}' in <${displayName}> does not compile`, chain);
              }
              if (kind === 'Directory' && !isRegex) pattern = resolvePath(pattern).replace(/(.)\/+$/, '$1');
              section = { kind, pattern, isRegex, nested: [], location: where, order: order++ };
              const server = [...contextStack].reverse().find((s) => s.vhost)?.vhost ?? main;
              if (enclosing) enclosing.nested.push(section);
              else server.sections.push(section);
            }
          } else if (INERT_SECTIONS.has(name)) {
            inert = true;
          } else if (!TRANSPARENT_SECTIONS.has(name)) {
            // Unknown section (a module's): read its content for structure, apply nothing from it.
            inert = true;
          }
        }
        contextStack.push({ name, displayName, location: where, active, inert, ...(section ? { section } : {}), ...(vhost ? { vhost } : {}) });
        continue;
      }

      if (!activeNow) continue;
      const line = substitute(trimmed, where, chain);
      const m = /^(\S+)\s*(.*)$/s.exec(line);
      if (!m) continue;
      const directive = m[1]!.toLowerCase();
      const args = splitApacheArgs(m[2]!);
      const inert = contextStack.some((s) => s.inert);
      const section = [...contextStack].reverse().find((s) => s.section)?.section;
      const vhost = [...contextStack].reverse().find((s) => s.vhost)?.vhost;
      const server = vhost ?? main;
      const inDirContext = section !== undefined;

      switch (directive) {
        case 'include':
        case 'includeoptional': {
          const optional = directive === 'includeoptional';
          if (args.length !== 1) {
            report(where, 'error', 'web/apache-directive-syntax', `${m[1]} takes one argument`, chain);
            break;
          }
          const target = resolvePath(args[0]!);
          const includeChain = [...chain, where];
          const matches = hasGlob(target) ? expandGlob(fs, target) : fs.stat(target) !== undefined ? [target] : [];
          if (matches.length === 0) {
            if (!optional) report(where, 'error', 'web/apache-include-not-found', `Include ${args[0]}: ${hasGlob(target) ? 'wildcard matches no file' : 'no such file or directory'} (${target})`, chain, 'use IncludeOptional for paths that may be absent');
            break;
          }
          for (const match of matches) {
            if (aborted) break;
            // One more than the files still allowed, so that reading them reports the limit.
            for (const f of filesUnder(fs, match, MAX_FILES - files.length + 1)) {
              if (aborted) break;
              if (active.includes(f)) {
                report(where, 'error', 'web/apache-include-loop', `include loop: ${f} is already being read`, chain, `include chain: ${[...active, f].join(' -> ')}`);
                continue;
              }
              if (active.length >= MAX_INCLUDE_DEPTH) {
                report(where, 'error', 'web/apache-include-loop', `exceeded the maximum include nesting level of ${MAX_INCLUDE_DEPTH}`, chain);
                continue;
              }
              readFile(f, includeChain, [...active, f], contextStack);
            }
          }
          break;
        }
        case 'define': {
          if (args.length < 1 || args.length > 2) {
            report(where, 'error', 'web/apache-directive-syntax', 'Define takes one or two arguments', chain);
            break;
          }
          if (args.length === 2) defines[args[0]!] = args[1]!;
          else defineFlags.add(args[0]!);
          break;
        }
        case 'undefine':
          delete defines[args[0] ?? ''];
          defineFlags.delete(args[0] ?? '');
          break;
        case 'loadmodule':
          if (args.length !== 2) {
            report(where, 'error', 'web/apache-directive-syntax', 'LoadModule takes two arguments: module identifier and file', chain);
            break;
          }
          if (!fixedModules) {
            modules.add(args[0]!);
            modules.add(posix.basename(args[1]!).replace(/\.so$/, '.c'));
          }
          break;
        case 'serverroot':
          if (!serverRootFixed && args[0]) serverRoot = posix.resolve(posix.dirname(posix.resolve('/', file)), args[0]);
          break;
        case 'listen': {
          const spec = args[0] ?? '';
          const lm = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(spec) ?? /^()()(\d+)$/.exec(spec);
          if (!lm) {
            report(where, 'error', 'web/apache-directive-syntax', `Listen: cannot parse '${spec}'`, chain);
            break;
          }
          const address = lm[1] || lm[2] || undefined;
          listens.push({ ...(address ? { address } : {}), port: Number(lm[3]), location: where });
          break;
        }
        case 'servername':
          if (inDirContext) { report(where, 'error', 'web/apache-wrong-context', 'ServerName not allowed here (only in the main server or <VirtualHost>)', chain); break; }
          if (!inert && args[0]) server.serverName = hostFromServerName(args[0]);
          break;
        case 'serveralias':
          if (!vhost) { report(where, 'error', 'web/apache-wrong-context', 'ServerAlias only used in <VirtualHost>', chain); break; }
          if (!inert && !inDirContext) server.serverAliases.push(...args);
          break;
        case 'documentroot':
          if (inDirContext) { report(where, 'error', 'web/apache-wrong-context', 'DocumentRoot not allowed here', chain); break; }
          if (!inert && args[0]) server.documentRoot = resolvePath(args[0]).replace(/(.)\/+$/, '$1');
          break;
        case 'alias':
        case 'scriptalias':
        case 'aliasmatch':
        case 'scriptaliasmatch': {
          if (inDirContext) break; // the one-argument form inside <Location> does not affect filesystem mapping here
          if (args.length !== 2) {
            report(where, 'error', 'web/apache-directive-syntax', `${m[1]} takes two arguments`, chain);
            break;
          }
          const kind = ({ alias: 'Alias', scriptalias: 'ScriptAlias', aliasmatch: 'AliasMatch', scriptaliasmatch: 'ScriptAliasMatch' } as const)[directive];
          if (kind.endsWith('Match') && compileRegex(args[0]!) === undefined) {
            report(where, 'error', 'web/apache-bad-regex', `regular expression '${args[0]}' in ${kind} does not compile`, chain);
            break;
          }
          if (!inert) server.aliases.push({ kind, from: args[0]!, to: args[1]!, location: where });
          break;
        }
        case 'aahatname':
        case 'immhatname': {
          const name = directive === 'aahatname' ? 'AAHatName' : 'ImmHatName';
          if (!checkApparmorDirective(name, args, where, chain)) break;
          if (inert) {
            report(where, 'warning', 'web/apache-directive-ignored', `${name} inside <${contextStack.find((s) => s.inert)?.displayName}> is not evaluated by hatter`, chain);
            break;
          }
          if (!section) {
            report(where, 'error', 'web/apache-wrong-context', `${name} not allowed here: it belongs in <Directory>, <Location> or <Files> sections (and their Match forms)`, chain, 'use AADefaultHatName for a whole virtual host');
            break;
          }
          if (name === 'ImmHatName') deprecated.add('ImmHatName');
          section.hatName = args[0]!;
          section.hatDirective = name;
          section.hatLocation = where;
          break;
        }
        case 'aadefaulthatname':
        case 'immdefaulthatname': {
          const name = directive === 'aadefaulthatname' ? 'AADefaultHatName' : 'ImmDefaultHatName';
          if (!checkApparmorDirective(name, args, where, chain)) break;
          if (inDirContext) {
            report(where, 'error', 'web/apache-wrong-context', `${name} not allowed here: it belongs in the main server or a <VirtualHost>`, chain, 'use AAHatName inside <Directory>/<Location>');
            break;
          }
          if (inert) break;
          if (name === 'ImmDefaultHatName') deprecated.add('ImmDefaultHatName');
          server.defaultHatName = args[0]!;
          server.defaultHatDirective = name;
          server.defaultHatLocation = where;
          break;
        }
        default:
          break; // Apache modules define thousands of directives; only the structural ones matter here.
      }
    }
    while (contextStack.length > depthAtStart) {
      const s = contextStack.pop()!;
      report(s.location, 'error', 'web/apache-unclosed-section', `<${s.displayName}> was not closed before the end of ${path}`, chain, `add </${s.displayName}>`);
    }
  };

  const checkApparmorDirective = (name: string, args: string[], where: SourceLocation, chain: readonly SourceLocation[]): boolean => {
    if (args.length !== 1) {
      report(where, 'error', 'web/apache-directive-syntax', `${name} takes one argument`, chain);
      return false;
    }
    if (!moduleLoaded(modules, 'apparmor_module')) {
      report(where, 'warning', 'web/apache-module-not-loaded', `${name} is defined by mod_apparmor, which this configuration does not load: Apache would refuse to start ("Invalid command '${name}'")`, chain, 'LoadModule apparmor_module /usr/lib/apache2/modules/mod_apparmor.so (Debian: a2enmod apparmor)');
    }
    return true;
  };

  const start = posix.resolve('/', file);
  readFile(start, [], [start], []);
  const freezeSection = (s: MutableSection): ApacheSection => Object.freeze({ ...s, nested: Object.freeze(s.nested.map(freezeSection)) });
  const freezeServer = (s: MutableServer): ApacheServer => Object.freeze({ ...s, sections: Object.freeze(s.sections.map(freezeSection)) });
  return {
    config: {
      file: start,
      serverRoot,
      main: freezeServer(main),
      vhosts: vhosts.map(freezeServer),
      listens,
      modules: [...modules],
      defines: { ...defines, ...Object.fromEntries([...defineFlags].map((d) => [d, ''])) },
      files,
      deprecatedDirectives: [...deprecated],
    },
    diagnostics,
  };
}

/** `<IfModule>` accepts the module identifier (`alias_module`) or the source file name (`mod_alias.c`). */
function moduleLoaded(modules: ReadonlySet<string>, name: string): boolean {
  if (modules.has(name)) return true;
  const id = /^mod_(.+)\.c$/.exec(name)?.[1];
  if (id && modules.has(`${id}_module`)) return true;
  const file = /^(.+)_module$/.exec(name)?.[1];
  return Boolean(file && modules.has(`mod_${file}.c`));
}

/**
 * A directory include reads every file below it, sorted, depth first. Iterative and bounded: a directory
 * of a hundred thousand files neither exhausts the stack nor is listed further than `limit` files.
 */
export function filesUnder(fs: WebFileSystem, path: string, limit: number): string[] {
  if (fs.stat(path) !== 'directory') return [path];
  const files: string[] = [];
  const stack = [{ dir: path, names: fs.list(path) ?? [], next: 0, depth: 0 }];
  while (stack.length > 0 && files.length < limit) {
    const top = stack[stack.length - 1]!;
    if (top.next >= top.names.length) { stack.pop(); continue; }
    const child = posix.join(top.dir, top.names[top.next++]!);
    if (fs.stat(child) !== 'directory') files.push(child);
    else if (top.depth < MAX_DIRECTORY_DEPTH) stack.push({ dir: child, names: fs.list(child) ?? [], next: 0, depth: top.depth + 1 });
  }
  return files;
}

function parseVhostAddress(spec: string): VirtualHostAddress {
  const m = /^\[([^\]]+)\](?::(\d+|\*))?$/.exec(spec) ?? /^([^:]+)(?::(\d+|\*))?$/.exec(spec);
  if (!m) return { host: spec, port: '*' };
  const port = m[2] === undefined || m[2] === '*' ? '*' : Number(m[2]);
  return { host: m[1]!.toLowerCase(), port };
}

/** `ServerName [scheme://]host[:port]` → host, lower case. */
export function hostFromServerName(value: string): string {
  const noScheme = value.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const bracket = /^\[([^\]]+)\]/.exec(noScheme);
  if (bracket) return bracket[1]!.toLowerCase();
  return noScheme.replace(/:\d*$/, '').toLowerCase();
}

/** PCRE-ish Apache regex to a JS RegExp, or undefined when it does not compile. */
export function compileRegex(pattern: string): RegExp | undefined {
  // (?i) prefix is common in Apache configs; JS wants the flag.
  let flags = '';
  let body = pattern;
  const inline = /^\(\?([a-z]+)\)/.exec(body);
  if (inline) {
    if (inline[1]!.includes('i')) flags += 'i';
    if (inline[1]!.includes('s')) flags += 's';
    body = body.slice(inline[0].length);
  }
  try {
    return new RegExp(body, flags);
  } catch {
    return undefined;
  }
}

export { globComponentToRegExp };

/** Variables from Debian's /etc/apache2/envvars (`export NAME=value` lines; `$SUFFIX` is empty). */
export function parseEnvvars(text: string): Record<string, string> {
  const vars: Record<string, string> = { SUFFIX: '' };
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!.trim();
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    value = value.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_w, name: string) => vars[name] ?? '');
    vars[m[1]!] = value;
  }
  delete vars['SUFFIX'];
  return vars;
}
