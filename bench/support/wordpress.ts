// One WordPress site from Debian's `wordpress` package, with its own MariaDB on a private UNIX socket,
// in a work directory: the setup of `npm run bench -- wordpress` and of the confined-WordPress test
// (test/server/wordpress.test.ts). It installs nothing: the packages must be there (missingWordPress()
// says which is not). The site is a copy of /usr/share/wordpress (WordPress finds wp-config.php next to
// the real path of its own files, so a tree of symbolic links would load Debian's configuration), and
// the database a fresh `mariadb-install-db` datadir served by `mariadbd --skip-networking`, as root.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const WORDPRESS = '/usr/share/wordpress';
const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
const MARIADB = '/usr/bin/mariadb';
const PHP_CLI = '/usr/bin/php';
/** The administrator created by the installation. */
export const WORDPRESS_ADMIN = { user: 'admin', password: 'hatter-bench-admin' } as const;

/** Why a WordPress site cannot be set up here (a missing package or privilege), or undefined. */
export function missingWordPress(): string | undefined {
  if (!existsSync(join(WORDPRESS, 'wp-settings.php'))) return `Debian's wordpress package is not installed (${WORDPRESS})`;
  if (!existsSync(MARIADBD) || !existsSync(INSTALL_DB) || !existsSync(MARIADB)) return 'mariadb-server is not installed (mariadbd, mariadb-install-db)';
  if (!existsSync(PHP_CLI)) return 'php-cli is not installed (/usr/bin/php)';
  // Without a theme WordPress answers every page 200 with an empty body. The theme is only a Recommends
  // of Debian's wordpress package, so `apt-get install --no-install-recommends wordpress` leaves it out.
  if (!hasTheme()) return `no WordPress theme is installed in ${join(WORDPRESS, 'wp-content', 'themes')} (apt-get install wordpress-theme-twentytwentythree)`;
  if (process.getuid?.() !== 0) return 'needs root (mariadbd --user=root, PHP-FPM children as www-data)';
  return undefined;
}

function hasTheme(): boolean {
  try {
    return readdirSync(join(WORDPRESS, 'wp-content', 'themes')).some((name) => existsSync(join(WORDPRESS, 'wp-content', 'themes', name, 'style.css')));
  } catch {
    return false;
  }
}

export interface WordPressSite {
  /** The document root (a copy of /usr/share/wordpress with this site's wp-config.php). */
  readonly root: string;
  /** wp-content/uploads, writable by the PHP user. */
  readonly uploads: string;
  /** The database's UNIX socket. */
  readonly socket: string;
  /** URL paths of the generated posts ('/?p=ID'). */
  readonly posts: readonly string[];
  /** Stop the database (the files stay; the caller removes the work directory). */
  stop(): Promise<void>;
}

function run(command: string, args: readonly string[], what: string, input?: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 120_000, ...(input !== undefined ? { input } : {}) });
  if (result.status !== 0) throw new Error(`${what} failed (${result.status ?? result.signal}): ${(result.stderr || result.stdout || result.error?.message || '').trim().split('\n').slice(-3).join(' | ')}`);
  return result.stdout;
}

/**
 * Set up WordPress in `work` (which must exist, readable by www-data): the database under work/db,
 * its socket in work/db-run, the site in work/site, installed with `posts` generated posts.
 */
export async function setUpWordPress(work: string, options: { posts?: number; title?: string } = {}): Promise<WordPressSite> {
  const root = join(work, 'site');
  const datadir = join(work, 'db');
  const runDir = join(work, 'db-run');
  const socket = join(runDir, 'mysqld.sock');
  mkdirSync(runDir, { recursive: true });
  chmodSync(runDir, 0o755); // PHP (www-data) connects to the socket
  // The site: WordPress's code copied, Debian's own wp-config.php (which reads /etc/wordpress) left out.
  mkdirSync(root);
  chmodSync(root, 0o755);
  const entries = readdirSync(WORDPRESS).filter((name) => name !== 'wp-config.php' && name !== '.htaccess' && name !== 'wp-content');
  run('cp', ['-a', ...entries.map((name) => join(WORDPRESS, name)), root], 'copying WordPress');
  mkdirSync(join(root, 'wp-content'));
  run('cp', ['-a', join(WORDPRESS, 'wp-content', 'themes'), join(WORDPRESS, 'wp-content', 'plugins'), join(root, 'wp-content')], 'copying wp-content');
  const uploads = join(root, 'wp-content', 'uploads');
  mkdirSync(uploads);
  chownSync(uploads, 33, 33); // www-data: PHP writes uploads here
  chmodSync(join(root, 'wp-content'), 0o755);

  run(INSTALL_DB, ['--no-defaults', '--user=root', `--datadir=${datadir}`, '--skip-test-db', '--auth-root-authentication-method=socket'], 'mariadb-install-db');
  const database = spawn(MARIADBD, ['--no-defaults', '--user=root', `--datadir=${datadir}`, `--socket=${socket}`, '--skip-networking',
    `--pid-file=${join(runDir, 'mysqld.pid')}`, `--log-error=${join(work, 'mariadb.log')}`, '--innodb-buffer-pool-size=64M'], { stdio: 'ignore' });
  const stop = () => stopDatabase(database);
  try {
    await waitFor(() => existsSync(socket), database, 'mariadbd did not create its socket', 60_000);
    const password = randomBytes(12).toString('hex');
    run(MARIADB, ['--no-defaults', '-S', socket, '-u', 'root'], 'creating the database',
      `CREATE DATABASE wordpress; CREATE USER 'wordpress'@'localhost' IDENTIFIED BY '${password}'; GRANT ALL ON wordpress.* TO 'wordpress'@'localhost';`);
    writeFileSync(join(root, 'wp-config.php'), wpConfig(socket, password));
    const posts = install(root, options.title ?? 'hatter WordPress', options.posts ?? 5);
    return { root, uploads, socket, posts: posts.map((id) => `/?p=${id}`), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function wpConfig(socket: string, password: string): string {
  const salt = () => randomBytes(32).toString('hex');
  const keys = ['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'];
  return `<?php
// Generated by hatter's WordPress setup (bench/support/wordpress.ts).
define('DB_NAME', 'wordpress');
define('DB_USER', 'wordpress');
define('DB_PASSWORD', '${password}');
define('DB_HOST', 'localhost:${socket}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
${keys.map((key) => `define('${key}', '${salt()}');`).join('\n')}
$table_prefix = 'wp_';
// Every server under comparison listens on its own port: the site is wherever it is asked for.
$hatter_host = $_SERVER['HTTP_HOST'] ?? '127.0.0.1';
define('WP_HOME', 'http://' . $hatter_host);
define('WP_SITEURL', 'http://' . $hatter_host);
define('WP_DEBUG', false);
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
`;
}

/** wp_install() and the posts, through php-cli (wp-cli is not packaged); returns the posts' ids. */
function install(root: string, title: string, count: number): number[] {
  const script = `<?php
define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';
require ${JSON.stringify(join(root, 'wp-load.php'))};
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
$result = wp_install(${JSON.stringify(title)}, ${JSON.stringify(WORDPRESS_ADMIN.user)}, 'admin@example.com', true, '', ${JSON.stringify(WORDPRESS_ADMIN.password)});
if (is_wp_error($result)) { fwrite(STDERR, $result->get_error_message()); exit(1); }
$ids = [];
for ($i = 1; $i <= ${count}; $i++) {
  $paragraphs = [];
  for ($p = 1; $p <= 6; $p++) $paragraphs[] = "<!-- wp:paragraph --><p>Post $i, paragraph $p: " . str_repeat('Confined sites keep their secrets. ', 12) . "</p><!-- /wp:paragraph -->";
  $id = wp_insert_post(['post_title' => "Generated post $i", 'post_content' => implode("\\n", $paragraphs), 'post_status' => 'publish', 'post_author' => 1], true);
  if (is_wp_error($id)) { fwrite(STDERR, $id->get_error_message()); exit(1); }
  $ids[] = $id;
}
echo json_encode($ids);
`;
  const output = run(PHP_CLI, ['-d', 'display_errors=stderr', '--', '/dev/stdin'], 'installing WordPress (wp_install)', script);
  const ids = JSON.parse(output.trim().split('\n').pop() ?? '[]') as number[];
  if (ids.length !== count) throw new Error(`installing WordPress: expected ${count} post ids, got ${output.slice(0, 200)}`);
  return ids;
}

async function waitFor(ready: () => boolean, child: ChildProcess, message: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${message}: it exited (${child.exitCode ?? child.signalCode})`);
    if (Date.now() > deadline) throw new Error(`${message} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopDatabase(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const late = await Promise.race([exited.then(() => false), new Promise<boolean>((resolve) => setTimeout(resolve, 20_000, true))]);
  if (late) { child.kill('SIGKILL'); await exited; }
}

/**
 * hatter serve's configuration for the site: its PHP through hatter's own PHP-FPM master (`children`
 * static children) for every path but static assets, under `backend`. The policy's one hat reads the
 * site, writes its uploads and PHP's upload temporary files (/tmp), and nothing else.
 */
export function hatterWordPressConfig(site: WordPressSite, options: { port: number; admin: number; backend: string; policyFile: string; children: number }): { config: string; policy: string } {
  const policy = `profile hatter-wordpress {
  ^127.0.0.1 {
    ${site.root}/ r,
    ${site.root}/** r,
    ${site.uploads}/ rw,
    ${site.uploads}/** rw,
    # PHP's upload_tmp_dir (clear_env leaves PHP-FPM's children no TMPDIR)
    /tmp/** rw,
  }
}
`;
  const config = [
    `listen: 127.0.0.1:${options.port}`,
    `admin: 127.0.0.1:${options.admin}`,
    `backend: ${options.backend}`,
    `policy: { file: ${options.policyFile}, profile: hatter-wordpress }`,
    'accessLog: off',
    'pool: { min: 2, max: 2 }',
    'sites:',
    '  - serverName: 127.0.0.1',
    `    documentRoot: ${site.root}`,
    `    handler: { type: fastcgi, phpFpm: true, children: ${options.children}, root: ${site.root} }`,
    '    locations:',
    "      - regex: '\\.(css|js|png|jpe?g|gif|svg|ico|webp|woff2?|ttf|eot|txt|map|html)$'",
    `        handler: { type: static, root: ${site.root} }`,
  ].join('\n') + '\n';
  return { config, policy };
}
