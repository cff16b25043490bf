// PHP-FPM configuration reader (php-fpm.conf, its include globs, [global] and pool sections) and the
// `apparmor_hat` consequence per pool: each new worker calls aa_change_profile("<current label>//<hat>")
// once, one-way; a failure makes the worker exit 70 (hats-and-web.md §11). Never throws.
import { posix } from 'node:path';
import type { Diagnostic, SourceLocation } from '../policy/index.js';
import { escapeControlCharacters } from '../policy/index.js';
import { compilePattern, hatLabel, matches } from '../policy/index.js';
import { expandGlob, hasGlob, type WebFileSystem } from './file-system.js';
import type { ProfileMode, ProfileTree } from './hat-resolver.js';

export interface FpmPool {
  readonly name: string;
  readonly user?: string;
  readonly group?: string;
  readonly listen?: string;
  readonly chroot?: string;
  readonly chdir?: string;
  readonly openBasedir?: string;
  readonly apparmorHat?: string;
  readonly apparmorHatLocation?: SourceLocation;
  /** Every key as written (after `$pool` and `${VAR}` expansion); the last value of a repeated key. */
  readonly settings: Readonly<Record<string, string>>;
  readonly location: SourceLocation;
}

export interface FpmConfig {
  readonly file: string;
  readonly global: Readonly<Record<string, string>>;
  readonly pools: readonly FpmPool[];
  readonly files: readonly string[];
}

export interface FpmReadOptions {
  readonly fs: WebFileSystem;
  /** Environment for `${VAR}` in values. */
  readonly env?: Readonly<Record<string, string>>;
  /** FPM's prefix, against which relative `include` paths resolve (Debian: /usr). */
  readonly prefix?: string;
}

const GLOBAL_KEYS = new Set(['pid', 'error_log', 'syslog.facility', 'syslog.ident', 'log_level', 'log_limit', 'log_buffering', 'emergency_restart_threshold', 'emergency_restart_interval', 'process_control_timeout', 'process.max', 'process.priority', 'daemonize', 'rlimit_files', 'rlimit_core', 'events.mechanism', 'systemd_interval', 'include']);
const POOL_KEYS = new Set(['prefix', 'user', 'group', 'listen', 'listen.backlog', 'listen.owner', 'listen.group', 'listen.mode', 'listen.acl_users', 'listen.acl_groups', 'listen.allowed_clients', 'listen.setfib', 'process.priority', 'process.dumpable', 'pm', 'pm.max_children', 'pm.start_servers', 'pm.min_spare_servers', 'pm.max_spare_servers', 'pm.max_spawn_rate', 'pm.process_idle_timeout', 'pm.max_requests', 'pm.status_path', 'pm.status_listen', 'ping.path', 'ping.response', 'access.log', 'access.format', 'access.suppress_path', 'slowlog', 'request_slowlog_timeout', 'request_slowlog_trace_depth', 'request_terminate_timeout', 'request_terminate_timeout_track_finished', 'rlimit_files', 'rlimit_core', 'chroot', 'chdir', 'catch_workers_output', 'decorate_workers_output', 'clear_env', 'security.limit_extensions', 'apparmor_hat', 'include']);
const ARRAY_KEY = /^(env|php_value|php_flag|php_admin_value|php_admin_flag)\[[^\]]*\]$/;
const MAX_FILES = 5000;

/** Read php-fpm.conf and what it includes. */
export function readFpmConfig(file: string, options: FpmReadOptions): { config: FpmConfig; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const files: string[] = [];
  const global: Record<string, string> = {};
  const pools = new Map<string, { name: string; settings: Record<string, string>; location: SourceLocation; hatLocation?: SourceLocation }>();
  let section: 'global' | string | undefined;
  const prefix = options.prefix ?? '/usr';

  const report = (where: SourceLocation, severity: Diagnostic['severity'], code: string, message: string, chain: readonly SourceLocation[], hint?: string): void => {
    diagnostics.push({ ...where, severity, code, message: escapeControlCharacters(message), ...(chain.length ? { includeChain: chain } : {}), ...(hint ? { hint: escapeControlCharacters(hint) } : {}) });
  };

  const readFile = (path: string, chain: readonly SourceLocation[], active: readonly string[]): void => {
    if (files.length >= MAX_FILES) return;
    const r = options.fs.read(path);
    if ('error' in r) {
      report(chain[chain.length - 1] ?? { file: path, line: 1, col: 1 }, 'error', 'web/fpm-unreadable', `cannot read ${path}: ${r.error}`, chain.slice(0, -1));
      return;
    }
    files.push(path);
    const lines = r.text.split('\n');
    for (let ln = 0; ln < lines.length; ln++) {
      const raw = lines[ln]!.replace(/\r$/, '');
      const trimmed = raw.trim();
      if (trimmed === '' || trimmed.startsWith(';')) continue;
      const where: SourceLocation = { file: path, line: ln + 1, col: raw.length - raw.trimStart().length + 1 };
      if (trimmed.startsWith('#')) {
        report(where, 'warning', 'web/fpm-hash-comment', "'#' comments are not INI syntax: use ';'", chain);
        continue;
      }
      const header = /^\[([^\]]*)\]\s*(?:;.*)?$/.exec(trimmed);
      if (header) {
        const name = header[1]!.trim();
        if (name === '') {
          report(where, 'error', 'web/fpm-syntax', 'empty section name', chain);
          continue;
        }
        section = name.toLowerCase() === 'global' ? 'global' : name;
        if (section !== 'global' && !pools.has(name)) pools.set(name, { name, settings: {}, location: where });
        continue;
      }
      const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(trimmed);
      if (!kv) {
        report(where, 'error', 'web/fpm-syntax', `cannot read '${trimmed.length > 60 ? `${trimmed.slice(0, 57)}...` : trimmed}': expected key = value`, chain);
        continue;
      }
      const key = kv[1]!.trim();
      const value = iniValue(kv[2]!, options.env ?? {}, (name) => report(where, 'warning', 'web/fpm-undefined-variable', `environment variable \${${name}} is not set`, chain));
      if (key === 'include') {
        const target = value.startsWith('/') ? value : posix.join(prefix, value);
        const matchesFound = hasGlob(target) ? expandGlob(options.fs, target) : options.fs.stat(target) ? [target] : [];
        if (matchesFound.length === 0) {
          report(where, hasGlob(target) ? 'warning' : 'error', 'web/fpm-include-not-found', `include ${value}: ${hasGlob(target) ? 'pattern matches no file' : 'no such file'}`, chain);
          continue;
        }
        for (const f of matchesFound) {
          if (active.includes(f)) {
            report(where, 'error', 'web/fpm-include-loop', `include loop: ${f} is already being read`, chain);
            continue;
          }
          readFile(f, [...chain, where], [...active, f]);
        }
        continue;
      }
      if (section === undefined) {
        report(where, 'error', 'web/fpm-syntax', `'${key}' appears before any [section]`, chain);
        continue;
      }
      if (section === 'global') {
        if (!GLOBAL_KEYS.has(key)) report(where, 'warning', 'web/fpm-unknown-key', `unknown [global] entry '${key}': php-fpm refuses to start`, chain);
        global[key] = value;
        continue;
      }
      if (!POOL_KEYS.has(key) && !ARRAY_KEY.test(key)) {
        report(where, 'warning', 'web/fpm-unknown-key', `unknown pool entry '${key}' in [${section}]: php-fpm refuses to start`, chain);
      }
      const pool = pools.get(section)!;
      pool.settings[key] = value;
      if (key === 'apparmor_hat') pool.hatLocation = where;
    }
  };

  const start = posix.resolve('/', file);
  readFile(start, [], [start]);
  const poolList: FpmPool[] = [];
  for (const p of pools.values()) {
    // FPM replaces `$pool` with the pool's name in its values.
    const settings = Object.fromEntries(Object.entries(p.settings).map(([k, v]) => [k, v.replaceAll('$pool', p.name)]));
    const s = (k: string): Record<string, string> => (settings[k] !== undefined ? { [camel(k)]: settings[k]! } : {});
    if (settings['user'] === undefined) report(p.location, 'error', 'web/fpm-pool-missing-key', `[${p.name}] has no 'user': php-fpm refuses to start when run as root`, []);
    if (settings['listen'] === undefined) report(p.location, 'error', 'web/fpm-pool-missing-key', `[${p.name}] has no 'listen': php-fpm refuses to start`, []);
    poolList.push({
      name: p.name,
      ...s('user'), ...s('group'), ...s('listen'), ...s('chroot'), ...s('chdir'),
      ...(settings['php_admin_value[open_basedir]'] !== undefined ? { openBasedir: settings['php_admin_value[open_basedir]'] } : {}),
      ...(settings['apparmor_hat'] !== undefined ? { apparmorHat: settings['apparmor_hat'] } : {}),
      ...(p.hatLocation ? { apparmorHatLocation: p.hatLocation } : {}),
      settings,
      location: p.location,
    });
  }
  return { config: { file: start, global, pools: poolList, files }, diagnostics };
}

function camel(key: string): string {
  return key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** An INI value: optional quotes, `;` comment after unquoted text, `${VAR}` from the environment. */
function iniValue(text: string, env: Readonly<Record<string, string>>, undefinedVar: (name: string) => void): string {
  let out = '';
  let i = 0;
  const t = text.trim();
  while (i < t.length) {
    const c = t[i]!;
    if (c === '"') {
      i++;
      while (i < t.length && t[i] !== '"') {
        if (t[i] === '\\' && (t[i + 1] === '"' || t[i + 1] === '\\')) i++;
        if (t[i] === '$' && t[i + 1] === '{') {
          const end = t.indexOf('}', i);
          if (end > 0) {
            out += envVar(t.slice(i + 2, end), env, undefinedVar);
            i = end + 1;
            continue;
          }
        }
        out += t[i++];
      }
      i++;
      continue;
    }
    if (c === ';') break;
    if (c === '$' && t[i + 1] === '{') {
      const end = t.indexOf('}', i);
      if (end > 0) {
        out += envVar(t.slice(i + 2, end), env, undefinedVar);
        i = end + 1;
        continue;
      }
    }
    out += c;
    i++;
  }
  return out.trim();
}

function envVar(name: string, env: Readonly<Record<string, string>>, undefinedVar: (name: string) => void): string {
  if (Object.hasOwn(env, name)) return env[name]!;
  undefinedVar(name);
  return '';
}

export interface FpmPoolTarget {
  readonly pool: string;
  readonly apparmorHat: string | null;
  /** `<current label>//<apparmor_hat>`, or null when the pool sets no apparmor_hat. */
  readonly target: string | null;
  /** 'hat' or 'profile' when the target exists; 'missing'; 'none' without apparmor_hat. */
  readonly kind: 'hat' | 'profile' | 'missing' | 'none';
  readonly exists: boolean;
  /** What happens at each worker start. */
  readonly outcome: 'changes' | 'learning' | 'exit-70' | 'unchanged';
  readonly reason: string;
  /** A change_profile rule of the master's profile that allows the target, when rules are known. */
  readonly allowedBy?: string;
}

/** Per pool: the label each worker changes to and whether that works. */
export function fpmPoolTargets(config: FpmConfig, master: (ProfileTree & { readonly changeProfileRules?: readonly string[] }) | 'unconfined'): FpmPoolTarget[] {
  return config.pools.map((pool) => {
    const hat = pool.apparmorHat;
    if (hat === undefined || hat === '') {
      const label = master === 'unconfined' ? 'unconfined' : master.name;
      return { pool: pool.name, apparmorHat: null, target: null, kind: 'none', exists: false, outcome: 'unchanged', reason: `no apparmor_hat: workers stay in ${label}` };
    }
    if (master === 'unconfined') {
      const target = hatLabel('unconfined', hat);
      return { pool: pool.name, apparmorHat: hat, target, kind: 'missing', exists: false, outcome: 'exit-70', reason: `the master is unconfined, so the target ${target} cannot exist: every worker logs "failed to change to new confinement" and exits 70` };
    }
    const target = hatLabel(master.name, hat);
    const child = master.children.find((c) => c.baseName === hat);
    const mode: ProfileMode = master.mode;
    const rules = master.changeProfileRules;
    let allowedBy: string | undefined;
    if (rules) allowedBy = rules.find((r) => changeProfileAllows(r, target));
    const ruleNote = rules === undefined ? '' : allowedBy !== undefined ? `; allowed by 'change_profile -> ${allowedBy}'` : `; no 'change_profile -> ${master.name}//*' rule allows it${mode === 'complain' ? ' (complain mode only logs this)' : ''}`;
    if (child) {
      if (rules && allowedBy === undefined && mode !== 'complain') {
        return { pool: pool.name, apparmorHat: hat, target, kind: child.isHat ? 'hat' : 'profile', exists: true, outcome: 'exit-70', reason: `${target} exists but the master's profile does not allow change_profile to it: every worker exits 70${ruleNote}` };
      }
      return { pool: pool.name, apparmorHat: hat, target, kind: child.isHat ? 'hat' : 'profile', exists: true, outcome: 'changes', reason: `each worker changes to ${target} (${child.isHat ? 'a hat' : 'a child profile'}, ${child.mode} mode) once at start, one-way${ruleNote}`, ...(allowedBy !== undefined ? { allowedBy } : {}) };
    }
    if (mode === 'complain') {
      return { pool: pool.name, apparmorHat: hat, target, kind: 'missing', exists: false, outcome: 'learning', reason: `${target} does not exist; ${master.name} is in complain mode, so the kernel puts workers in the learning profile ${master.name}//null-${target} (the full target after null-, as seen on Debian's 6.1 kernel) instead of failing${ruleNote}` };
    }
    return { pool: pool.name, apparmorHat: hat, target, kind: 'missing', exists: false, outcome: 'exit-70', reason: `${target} does not exist (ENOENT): every worker logs "failed to change to new confinement", "[pool ${pool.name}] child failed to initialize" and exits 70, and the master respawns them in a loop` };
  });
}

function changeProfileAllows(rule: string, target: string): boolean {
  // Profile names keep their '//' separators: no slash filtering.
  const compiled = compilePattern(rule, { filterSlashes: false });
  if (compiled.ok) return matches(compiled.automaton, target);
  return rule === target;
}
