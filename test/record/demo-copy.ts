// The demo (examples/hosting) as the serve --learn tests use it: its scripted workload, and scratch copies
// whose site hats are stripped to what every worker needs, so the sites' own files can only come from a
// recording. Optionally each site gets a PHP location served by hatter's own PHP-FPM master.
import { chmodSync, cpSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findLauncher } from '../../src/confine/launcher.js';
import { LearningBackend } from '../../src/cli/learn-backend.js';
import { RecordingSession, StraceRecorder } from '../../src/record/index.js';
import { loadConfigFile, prepareServe, startServer } from '../../src/server/serve.js';
import { repoRoot } from '../support/repo.js';
import { get } from '../server/helpers.js';

export const demo = join(repoRoot, 'examples', 'hosting');
export const SITES = ['alice', 'bob'] as const;

export interface WorkloadReply {
  readonly host: string;
  readonly path: string;
  readonly status: number;
  readonly body: string;
}

/** The demo's workload: every kind of handler of both sites (`php`: the PHP pages of a copy with PHP). */
export async function demoWorkload(port: number, options: { php?: string } = {}): Promise<WorkloadReply[]> {
  const requests: Array<[string, string]> = [];
  for (const site of SITES) {
    const host = `${site}.localhost`;
    requests.push([host, '/'], [host, '/hello'], [host, '/cgi-bin/hello.cgi'], [host, `/read?path=${site}/secret.txt`]);
    if (options.php !== undefined) requests.push([host, '/php/index.php'], [host, `/php/read.php?path=${encodeURIComponent(join(options.php, site, 'secret.txt'))}`]);
  }
  const replies: WorkloadReply[] = [];
  for (const [host, path] of requests) {
    const reply = await get(port, host, path);
    replies.push({ host, path, status: reply.status, body: reply.body.toString() });
  }
  return replies;
}

/** A site's PHP: a page that includes another file of the site and appends to the site's cache dir, and a reader. */
function phpFiles(site: string): Record<string, string> {
  return {
    [`${site}/php/index.php`]: `<?php
require __DIR__ . '/lib.php';
$cache = dirname(__DIR__) . '/cache/visits.txt';
if (file_put_contents($cache, "visit\\n", FILE_APPEND) === false) { http_response_code(500); exit("cannot write $cache\\n"); }
echo greeting(), "\\n";
`,
    [`${site}/php/lib.php`]: `<?php
function greeting(): string { return 'php says hello from ${site}.localhost'; }
`,
    // DELIBERATELY VULNERABLE, like app/read.mjs: any file named by ?path=.
    [`${site}/php/read.php`]: `<?php
$text = @file_get_contents($_GET['path'] ?? '');
if ($text === false) { http_response_code(403); exit("refused: " . (error_get_last()['message'] ?? '') . "\\n"); }
echo $text;
`,
  };
}

export interface ScratchDemo {
  readonly copy: string;
  readonly config: string;
  readonly policy: string;
}

/**
 * A scratch copy of the demo under `root` whose site hats are stripped to what every worker needs (node,
 * hatter's code, the network). The policy's variables are set to real paths, as `serve` does for the
 * embedded demo, so no hat is a glob. `php`: each site gets /php/ served by a PHP-FPM master hatter
 * starts (its children run as www-data: the copy is opened up to them, the cache dir made writable).
 * `pool`: workers per site (fewer workers, fewer traced processes). `policyExtra`: text appended to the
 * policy; `hatExtra`: rules added to each site's hat (`SITE` stands for the site's name).
 */
export function scratchDemo(root: string, options: { php?: boolean; pool?: number; policyExtra?: string; hatExtra?: string } = {}): ScratchDemo {
  const copy = join(root, 'hosting');
  cpSync(demo, copy, { recursive: true });
  const policy = join(copy, 'policy', 'hatter-demo');
  const launcher = findLauncher(process.env, repoRoot);
  let stripped = readFileSync(policy, 'utf8')
    .replace(/^@\{HATTER_DEMO\}=.*$/m, `@{HATTER_DEMO}=${copy}`)
    .replace(/^@\{HATTER_CODE\}=.*$/m, `@{HATTER_CODE}=${realpathSync(join(repoRoot, 'dist'))}`)
    .replace(/^@\{HATTER_MODULES\}=.*$/m, `@{HATTER_MODULES}=${realpathSync(join(repoRoot, 'node_modules'))}`)
    .replace(/^@\{HATTER_LAUNCH\}=.*$/m, (line) => (launcher ? `@{HATTER_LAUNCH}=${realpathSync(launcher)}` : line))
    .split('\n')
    .filter((line) => !/^\s*(@\{HATTER_DEMO\}\/(alice|bob)\/|\/\{usr\/,\}bin\/|\/dev\/null )/.test(line))
    .join('\n');
  if (options.hatExtra !== undefined) {
    for (const site of SITES) stripped = stripped.replace(`^${site}.localhost {\n`, `^${site}.localhost {\n${options.hatExtra.replaceAll('SITE', site)}\n`);
  }
  writeFileSync(policy, stripped + (options.policyExtra ?? ''));
  const config = join(copy, 'hatter.yaml');
  let yaml = readFileSync(config, 'utf8');
  if (options.pool !== undefined) yaml = yaml.replace(/min: 2 .*\n/, `min: ${options.pool}\n`).replace(/max: 2\n/, `max: ${options.pool}\n`);
  if (options.php) {
    for (const site of SITES) {
      for (const [path, text] of Object.entries(phpFiles(site))) {
        mkdirSync(join(copy, path, '..'), { recursive: true });
        writeFileSync(join(copy, path), text, { mode: 0o644 });
      }
      mkdirSync(join(copy, site, 'cache'));
      chmodSync(join(copy, site, 'cache'), 0o777);
      // Two children per master: enough for the workload, and half the processes strace follows.
      yaml = yaml.replace(`      - prefix: /cgi-bin/\n        handler: { type: cgi, root: ${site}/cgi-bin }\n`,
        (cgi) => `${cgi}      - prefix: /php/\n        handler: { type: fastcgi, phpFpm: true, root: ${site}/php, children: 2 }\n`);
    }
    if (!yaml.includes('phpFpm')) throw new Error('the demo configuration changed: no place for the PHP locations');
    // The FPM children (www-data) must reach the copy: mkdtemp made its root private.
    chmodSync(root, 0o755);
  }
  writeFileSync(config, yaml);
  return { copy, config, policy };
}

/**
 * Serve `config` with `serve --learn`'s backend, run the workload, stop, and write the recording (JSON
 * lines) to `log`. Returns the workload's replies and the recorded events.
 */
export async function recordServe(strace: string, config: string, log: string, workload: (port: number) => Promise<WorkloadReply[]>): Promise<{ replies: WorkloadReply[]; events: Array<Record<string, unknown>> }> {
  const chunks: string[] = [];
  const session = new RecordingSession(new StraceRecorder(strace), { write: (text) => { chunks.push(text); } }, { counter: { intervalMs: 60_000, cap: 10_000 } });
  const overrides = { listen: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, accessLog: 'off' as const };
  const prepared = prepareServe(loadConfigFile(config), overrides, false);
  if (!prepared.prepared) throw new Error(prepared.diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`).join('\n'));
  const { supervisor } = await startServer(prepared.prepared, new LearningBackend(session, log), 'learning (test)', { info: () => undefined, warn: () => undefined });
  const running = supervisor.run();
  let replies: WorkloadReply[];
  try {
    replies = await workload(supervisor.addresses[0]!.port);
  } finally {
    supervisor.enqueue('stop');
    await running;
    session.stop();
  }
  const text = chunks.join('');
  writeFileSync(log, text);
  return { replies, events: text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>) };
}
