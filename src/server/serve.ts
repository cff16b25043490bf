// Putting a server together: read the configuration (file, Apache config, or the embedded demo), read
// the policy's hats, choose the confinement backend, start the supervisor. Used by `hatter serve` and by
// the integration tests, so both run exactly the same code.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants as fsConstants, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chooseBackend, createBackend, findLauncher, type ConfinementBackend } from '../confine/index.js';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { decodeSource, type Diagnostic } from '../policy/index.js';
import { accessLogProblem } from './access-log.js';
import { parseServeConfig, type BackendChoice, type ListenAddress, type ServeConfig } from './config.js';
import { hostConfigEnvironment } from './config-environment.js';
import { loadPolicyHats, type PolicyHats } from './policy-hats.js';
import { Supervisor, type SupervisorOutput } from './supervisor.js';
import { DEFAULT_PHP_FPM_BINARY, wantsPhpFpm } from './fastcgi/index.js';

export interface ConfigSource {
  /** hatter.yaml path; absent = the embedded demo. */
  readonly file?: string;
}

export interface ServeOverrides {
  readonly listen?: ListenAddress;
  /** null: no admin listener. */
  readonly admin?: ListenAddress | null;
  readonly backend?: BackendChoice;
  readonly accessLog?: string;
  /** phpFpm.startTimeoutMs (--php-fpm-start-timeout). */
  readonly phpFpmStartTimeoutMs?: number;
}

const here = dirname(fileURLToPath(import.meta.url));

/** examples/hosting/hatter.yaml of this installation (next to the compiled tree, or under cwd). */
export function demoConfigPath(cwd = process.cwd()): string | undefined {
  const starts = [resolve(here, '..', '..', '..'), resolve(here, '..', '..'), cwd];
  for (const start of starts) {
    for (let dir = start; ; dir = dirname(dir)) {
      const candidate = join(dir, 'examples', 'hosting', 'hatter.yaml');
      if (existsSync(candidate) && existsSync(join(dir, 'package.json'))) return candidate;
      if (dirname(dir) === dir) break;
    }
  }
  return undefined;
}

/** Read and validate a hatter.yaml. */
export function loadConfigFile(file: string): { config?: ServeConfig; diagnostics: readonly Diagnostic[] } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { diagnostics: [{ file, line: 1, col: 1, severity: 'error', code: 'serve-config/unreadable', message: code === 'ENOENT' ? 'configuration file not found' : `cannot read the configuration: ${code ?? (error as Error).message}` }] };
  }
  // The host is checked too (document roots, handler files, accounts): refused before anything starts.
  return parseServeConfig(decodeSource(bytes).text, resolve(file), hostConfigEnvironment());
}

/**
 * The demo's policy names its paths through three variables that default to globs; write a copy with
 * this checkout's real paths so each hat is exact (and translates to Landlock without widening).
 */
export function concreteDemoPolicy(policyFile: string, demoDir: string): string {
  const text = readFileSync(policyFile, 'utf8');
  // AppArmor matches the paths files really have: resolve symlinks.
  const real = (path: string): string => { try { return realpathSync(path); } catch { return path; } };
  const codeRoot = real(resolve(here, '..', '..'));
  let modules = join(resolve(demoDir, '..', '..'), 'node_modules');
  for (let dir = resolve(here, '..', '..'); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', 'yaml'))) { modules = join(dir, 'node_modules'); break; }
    if (dirname(dir) === dir) break;
  }
  modules = real(modules);
  demoDir = real(demoDir);
  const launcher = findLauncher(process.env, resolve(demoDir, '..', '..'));
  const quote = (path: string): string => (/[\s"]/.test(path) ? `"${path.replace(/"/g, '\\"')}"` : path);
  const concrete = text
    .replace(/^@\{HATTER_DEMO\}=.*$/m, `@{HATTER_DEMO}=${quote(demoDir)}`)
    .replace(/^@\{HATTER_CODE\}=.*$/m, `@{HATTER_CODE}=${quote(codeRoot)}`)
    .replace(/^@\{HATTER_MODULES\}=.*$/m, `@{HATTER_MODULES}=${quote(modules)}`)
    .replace(/^@\{HATTER_LAUNCH\}=.*$/m, (line) => (launcher ? `@{HATTER_LAUNCH}=${quote(real(launcher))}` : line));
  // One directory per user and distinct text, so repeated starts do not pile up copies. Its name is
  // predictable: another local user may have made it first, with symbolic links inside, to have this
  // (perhaps root's) process write elsewhere or to change the policy after it is written. It is used
  // only when it is our own private directory; otherwise a fresh mkdtemp one is.
  const hash = createHash('sha256').update(concrete).digest('hex').slice(0, 12);
  const uid = process.getuid?.() ?? 0;
  let dir = join(tmpdir(), `hatter-demo-policy-${uid}-${hash}`);
  try { mkdirSync(dir, { mode: 0o700 }); } catch (error) { if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; }
  if (!isPrivateDirectory(dir, uid)) dir = mkdtempSync(join(tmpdir(), 'hatter-demo-policy-'));
  return writeNewFile(dir, basename(policyFile), concrete);
}

/** A real directory (not a link) owned by `uid` that no one else may write or enter. */
function isPrivateDirectory(path: string, uid: number): boolean {
  const stat = lstatSync(path);
  return stat.isDirectory() && stat.uid === uid && (stat.mode & 0o077) === 0;
}

/**
 * Write `text` as dir/name atomically: a new temporary file of an unpredictable name, created with
 * O_EXCL|O_NOFOLLOW (never through a link someone put there), renamed over the target.
 */
function writeNewFile(dir: string, name: string, text: string): string {
  const target = join(dir, name);
  const temporary = join(dir, `.${name}.${randomBytes(8).toString('hex')}.tmp`);
  const fd = openSync(temporary, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o644);
  try {
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, target);
  return target;
}

export function applyOverrides(config: ServeConfig, overrides: ServeOverrides): ServeConfig {
  return {
    ...config,
    ...(overrides.listen ? { listen: [overrides.listen] } : {}),
    ...(overrides.admin !== undefined ? { admin: overrides.admin } : {}),
    ...(overrides.backend ? { backend: overrides.backend } : {}),
    ...(overrides.accessLog ? { accessLog: overrides.accessLog } : {}),
    ...(overrides.phpFpmStartTimeoutMs !== undefined ? { phpFpm: { ...config.phpFpm, startTimeoutMs: overrides.phpFpmStartTimeoutMs } } : {}),
  };
}

/** What the embedded demo adapts to on this host. */
export interface DemoHost {
  /** php-fpm is installed: the demo's `phpFpm: true` locations (its PHP pages) stay in. */
  readonly phpFpm: boolean;
}

/**
 * This host, as the demo sees it: php-fpm is there when its binary is (as the phpFpm support starts
 * it), unless HATTER_DEMO_PHP=off asks for the demo without PHP (the real-kernel suite: PHP-FPM under
 * emulation starts too slowly).
 */
export function detectDemoHost(env: NodeJS.ProcessEnv = process.env): DemoHost {
  return { phpFpm: env['HATTER_DEMO_PHP'] !== 'off' && existsSync(DEFAULT_PHP_FPM_BINARY) };
}

/**
 * The demo without its PHP pages, for a host without php-fpm: the locations whose handler needs a
 * PHP-FPM master are dropped (so /php/ falls back to the site's static handler, where no index.html
 * exists: 404/403, never the PHP source, since the PHP files are outside the document root).
 */
export function withoutPhpFpmLocations(config: ServeConfig): ServeConfig {
  return {
    ...config,
    sites: config.sites.map((site) => ({ ...site, locations: site.locations.filter((location) => !wantsPhpFpm(location.handler)) })),
  };
}

export interface PreparedServe {
  readonly config: ServeConfig;
  readonly hats: PolicyHats;
  readonly diagnostics: readonly Diagnostic[];
}

/** Configuration + policy hats, with every diagnostic; `config` undefined on errors. */
export function prepareServe(loaded: { config?: ServeConfig; diagnostics: readonly Diagnostic[] }, overrides: ServeOverrides, demo: boolean, demoHost: DemoHost = detectDemoHost()): { prepared?: PreparedServe; diagnostics: readonly Diagnostic[] } {
  if (!loaded.config) return { diagnostics: loaded.diagnostics };
  let config = applyOverrides(loaded.config, overrides);
  if (demo && !demoHost.phpFpm) config = withoutPhpFpmLocations(config);
  if (demo && config.policy.file) {
    try {
      config = { ...config, policy: { ...config.policy, file: concreteDemoPolicy(config.policy.file, config.configDir) } };
    } catch (error) {
      const file = config.policy.file ?? config.source;
      return { diagnostics: [...loaded.diagnostics, { file, line: 1, col: 1, severity: 'error', code: 'serve/demo-policy-unwritable', message: `cannot write the demo policy's concrete copy in ${tmpdir()}: ${(error as Error).message}` }] };
    }
  }
  const logProblem = accessLogDiagnostic(config, overrides);
  if (logProblem) return { diagnostics: [...loaded.diagnostics, logProblem] };
  const policy = loadPolicyHats(config);
  const diagnostics = [...loaded.diagnostics, ...policy.diagnostics];
  if (!policy.hats) return { diagnostics };
  return { prepared: { config, hats: policy.hats, diagnostics }, diagnostics };
}

/** An access log file that cannot be opened, reported at its `accessLog` key (or its command-line option). */
function accessLogDiagnostic(config: ServeConfig, overrides: ServeOverrides): Diagnostic | undefined {
  const problem = accessLogProblem(config.accessLog);
  if (problem === undefined) return undefined;
  const why = problem === 'ENOENT' ? `its directory ${dirname(config.accessLog)} does not exist` : problem === 'EACCES' ? 'permission denied' : problem === 'EISDIR' ? 'it is a directory' : problem;
  const message = `cannot open the access log ${config.accessLog}: ${why}`;
  if (overrides.accessLog) return { file: '--access-log', line: 1, col: 1, severity: 'error', code: 'serve/access-log-unwritable', message };
  const at = yamlKeyPosition(config.source, 'accessLog');
  return { file: config.source, line: at.line, col: at.col, severity: 'error', code: 'serve/access-log-unwritable', message };
}

/** Where a top-level key of a YAML file is (1:1 when it cannot be found). */
function yamlKeyPosition(file: string, key: string): { line: number; col: number } {
  try {
    const lines = new LineCounter();
    const document = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lines });
    const map = document.contents;
    if (isMap(map)) {
      for (const pair of map.items) {
        if (isScalar(pair.key) && pair.key.value === key && pair.key.range) return lines.linePos(pair.key.range[0]);
      }
    }
  } catch { /* unreadable now: the position is only for the message */ }
  return { line: 1, col: 1 };
}

export interface BackendSelection {
  /** `hatter serve --load-policy`: the AppArmor backend loads (replaces) the policy with apparmor_parser -r. */
  readonly loadPolicy?: boolean;
}

export async function selectBackend(config: ServeConfig, hats: PolicyHats, selection: BackendSelection = {}): Promise<{ backend?: ConfinementBackend; reason: string }> {
  if (config.backend === 'none') return { backend: createBackend('none'), reason: 'none (requested)' };
  if (selection.loadPolicy && !config.policy.file) return { reason: '--load-policy needs a policy file (policy.file in the configuration)' };
  const firstHat = config.sites[0] ? (config.sites[0].defaultHat ?? config.sites[0].serverName) : null;
  return chooseBackend(config.backend, {
    ...(config.policy.file ? { policyFile: config.policy.file } : {}),
    profile: hats.profile,
    hat: firstHat !== null && hats.hats.includes(firstHat) ? firstHat : null,
    runtime: { read: [], write: [], exec: [] },
  }, selection.loadPolicy ? { apparmor: { loadPolicy: true } } : {});
}

export interface RunningServer {
  readonly supervisor: Supervisor;
  readonly backend: ConfinementBackend;
  readonly backendReason: string;
}

/** Start a supervisor for a prepared configuration (throws ServeError on a busy port and the like). */
export async function startServer(prepared: PreparedServe, backend: ConfinementBackend, backendReason: string, output: SupervisorOutput, reloadFrom?: { file: string; overrides: ServeOverrides; demo: boolean; demoHost?: DemoHost }, options: { verbose?: boolean } = {}): Promise<RunningServer> {
  const supervisor = new Supervisor({
    ...(options.verbose ? { verbose: true } : {}),
    config: prepared.config,
    hats: prepared.hats,
    backend,
    backendReason,
    output,
    ...(reloadFrom ? {
      reload: async () => {
        const result = prepareServe(loadConfigFile(reloadFrom.file), reloadFrom.overrides, reloadFrom.demo, reloadFrom.demoHost);
        return { ...(result.prepared ? { config: result.prepared.config, hats: result.prepared.hats } : {}), diagnostics: result.diagnostics };
      },
    } : {}),
  });
  try {
    await supervisor.start();
  } catch (error) {
    await supervisor.stop();
    throw error;
  }
  return { supervisor, backend, backendReason };
}
