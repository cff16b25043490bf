// `npm run bench -- wordpress`: one WordPress site (Debian's wordpress 6.1 package, a private MariaDB on
// a UNIX socket, a few generated posts; bench/support/wordpress.ts) served by hatter serve under
// Landlock (workers and the site's PHP-FPM master confined to the site's hat), Apache 2.4 prefork +
// mod_php and nginx + php-fpm, in the same run: requests per second and latency of the home page and of
// a post page with wrk on loopback. It installs nothing and skips with the reason when a package is
// missing.
import { existsSync, chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { machineLine, markdownTable, median, writeBenchSection } from './support/report.js';
import { freePort, killAllNow, startApache, startHatterWith, startNginx, stopFpmMasters, waitServing, wrk, type Measurement, type Started } from './support/servers.js';
import { hatterWordPressConfig, missingWordPress, setUpWordPress, type WordPressSite } from './support/wordpress.js';

const SECONDS = Number(process.env.HATTER_BENCH_SECONDS ?? 5);
const RUNS = Number(process.env.HATTER_BENCH_RUNS ?? 3);
/** WordPress pages take tens of milliseconds of PHP each: a few connections keep the children busy. */
const CONNECTIONS = 8;
/** Seconds before wrk gives a request up: a loaded machine takes seconds per WordPress page. */
const WRK_TIMEOUT = 30;
/** PHP children for hatter and nginx alike (Apache prefork runs PHP in each of its processes). */
const PHP_CHILDREN = 4;

/** A WordPress page, not an error page or a redirect. */
const isWordPressPage = (body: string) => body.includes('wp-content/themes/') && !body.includes('Error establishing a database connection');

interface Row {
  readonly server: string;
  readonly home: Measurement | string;
  readonly post: Measurement | string;
}

export async function run(repoRoot: string): Promise<void> {
  const missing = missingWordPress() ?? (existsSync('/usr/bin/wrk') ? undefined : 'wrk is not installed (apt-get install wrk)');
  if (missing) {
    process.stdout.write(`wordpress: skipped: ${missing}\n`);
    return;
  }
  // Under /var/tmp, not /tmp: the site's hat lets PHP write /tmp (upload temporary files).
  const work = mkdtempSync(join('/var/tmp', 'hatter-bench-wordpress-'));
  chmodSync(work, 0o755); // Apache, nginx and FPM children run as www-data
  const onSignal = () => { killAllNow(); process.exit(130); };
  process.on('exit', killAllNow);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const rows: Row[] = [];
  const load: number[] = [loadavg()[0]!];
  let site: WordPressSite | undefined;
  try {
    process.stdout.write('wordpress: setting up the site and its database ...\n');
    site = await setUpWordPress(work, { posts: 5 });
    const served = { dir: work, www: site.root, readyPath: '/', ready: isWordPressPage };
    const wp = site;
    rows.push(await measure('hatter serve + PHP-FPM (landlock)', () => startHatterWordPress(work, repoRoot, wp), wp.posts[0]!));
    rows.push(await measure('Apache 2.4 prefork + mod_php', () => startApache(served), wp.posts[0]!));
    rows.push(await measure('nginx + php-fpm', () => startNginx(served, PHP_CHILDREN), wp.posts[0]!));
    load.push(loadavg()[0]!);
  } catch (error) {
    process.stdout.write(`wordpress: not measured: ${(error as Error).message}\n`);
    return;
  } finally {
    await stopFpmMasters();
    killAllNow();
    await site?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', killAllNow);
    rmSync(work, { recursive: true, force: true });
  }
  report(repoRoot, rows, load);
}

async function startHatterWordPress(work: string, repoRoot: string, site: WordPressSite): Promise<Started> {
  const port = await freePort();
  const admin = await freePort();
  const policyFile = join(work, 'hatter-wordpress.policy');
  const { config, policy } = hatterWordPressConfig(site, { port, admin, backend: 'landlock', policyFile, children: PHP_CHILDREN });
  writeFileSync(policyFile, policy);
  return startHatterWith(work, repoRoot, 'hatter-wordpress', config, port, 'landlock', [['/', isWordPressPage]]);
}

async function measure(name: string, start: () => Promise<Started>, postPath: string): Promise<Row> {
  process.stdout.write(`wordpress: ${name} ...\n`);
  let server: Started;
  try {
    server = await start();
  } catch (error) {
    const reason = `not measured: ${(error as Error).message.split('\n')[0]}`;
    process.stdout.write(`wordpress: ${name}: ${reason}\n`);
    return { server: name, home: reason, post: reason };
  }
  try {
    await waitServing(server.port, postPath, undefined, isWordPressPage, 10_000);
    return { server: name, home: measurePath(server.port, '/'), post: measurePath(server.port, postPath) };
  } catch (error) {
    const reason = `not measured: ${(error as Error).message.split('\n')[0]}`;
    return { server: name, home: reason, post: reason };
  } finally {
    await server.stop();
  }
}

function measurePath(port: number, path: string): Measurement {
  wrk(port, path, 2, CONNECTIONS, WRK_TIMEOUT); // warm-up: opcache, PHP children, MariaDB's buffer pool
  const runs: Measurement[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(wrk(port, path, SECONDS, CONNECTIONS, WRK_TIMEOUT));
  return {
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
  };
}

function report(repoRoot: string, rows: readonly Row[], load: readonly number[]): void {
  const apache = rows.find((r) => r.server.startsWith('Apache'));
  const ratio = (m: Measurement | string, base: Measurement | string | undefined) =>
    typeof m === 'string' || base === undefined || typeof base === 'string' || !(base.requestsPerSecond > 0) ? '' : `${(m.requestsPerSecond / base.requestsPerSecond).toFixed(2)}×`;
  const cells = (m: Measurement | string) => (typeof m === 'string' ? ['not measured', '', ''] : [Math.round(m.requestsPerSecond * 10) / 10, `${m.p50Ms.toFixed(1)} ms`, `${m.p99Ms.toFixed(1)} ms`]);
  const table = markdownTable({
    headers: ['server', 'home req/s', 'home p50', 'home p99', 'home vs Apache', 'post req/s', 'post p50', 'post p99', 'post vs Apache'],
    rows: rows.map((r) => [r.server, ...cells(r.home), ratio(r.home, apache?.home), ...cells(r.post), ratio(r.post, apache?.post)]),
  });
  const errors = rows.flatMap((r) => [r.home, r.post].filter((m): m is Measurement => typeof m !== 'string' && m.errors > 0).map((m) => `${r.server}: ${m.errors} failed responses`));
  const notes = [...new Set(rows.flatMap((r) => [r.home, r.post].filter((m): m is string => typeof m === 'string').map((m) => `${r.server}: ${m}`)))];
  const text = [
    '## wordpress',
    '',
    `${machineLine()}. Debian's WordPress 6.1 (a copy of /usr/share/wordpress), a private MariaDB on a UNIX socket, 5 generated posts, ` +
      `default theme, plain permalinks, no page cache. \`wrk -t1 -c${CONNECTIONS} -d${SECONDS}s --timeout ${WRK_TIMEOUT}s\` on loopback, median of ${RUNS} runs after a 2 s warm-up, ` +
      `servers one after another in the same run: the home page (\`/\`, the latest posts) and one post (\`/?p=ID\`). hatter serve: 2 workers and its own ` +
      `PHP-FPM master with ${PHP_CHILDREN} static children, all confined to the site's hat by Landlock; nginx: php-fpm with ${PHP_CHILDREN} static children; ` +
      'Apache prefork: mod_php in 40 to 150 processes; opcache on everywhere, no access logs. ' +
      `Load average (1 min) before and after: ${load.map((l) => l.toFixed(1)).join(' and ')}` +
      (load.some((l) => l > 2) ? ' — other work was running: compare rows of the same run, not absolute figures.' : '.'),
    '',
    table,
    ...(errors.length ? ['', 'Failed responses:', ...errors.map((e) => `- ${e}`)] : []),
    ...(notes.length ? ['', 'Not measured:', ...notes.map((n) => `- ${n}`)] : []),
  ].join('\n');
  process.stdout.write(`\n${text}\n`);
  writeBenchSection(repoRoot, 'wordpress', text);
}
