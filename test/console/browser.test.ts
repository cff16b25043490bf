// The console page in headless Chromium (the Debian package, driven by playwright-core, which uses the
// system browser and downloads nothing) against a real `hatter serve` demo under Landlock: Sites,
// Denials (live, within 2 s), Learn (apply in the page = `hatter learn --apply --write`, visible in
// `hatter diff`), Isolation, Policy. Screenshots of each page go to test-output/console/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBackend } from '../../src/confine/index.js';
import { createConsoleHandler, startConsoleListener } from '../../src/console/server.js';
import { consoleServices } from '../../src/cli/console.js';
import { followLandlockDenials, type DenialsFollower } from '../../src/cli/serve-denials.js';
import { kernelLandlockAuditUnavailable } from '../support/kernel-audit.js';
import { runCli } from '../support/cli.js';
import { repoRoot } from '../support/repo.js';
import { get, startFromFile, type TestServer } from '../server/helpers.js';

function findChromium(): string | undefined {
  for (const path of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (existsSync(path)) return path;
  return undefined;
}
const chromium = findChromium();
const landlock = await createBackend('landlock').probe();
const driver = await import('playwright-core').catch(() => undefined);
const skip = !chromium ? 'skipped: Chromium is not installed (apt-get install chromium)'
  : !landlock.available ? `skipped: Landlock is not available (${landlock.reason})`
    : !driver ? 'skipped: playwright-core is not installed (npm install)' : false;
/** Why the kernel's own Landlock denials cannot be shown here (then that step is skipped), or undefined. */
const noKernelDenials = skip ? undefined : await kernelLandlockAuditUnavailable();

/** Screenshots and the demo copy live here (not in /tmp: abstractions/user-tmp would cover the demo's paths there). */
const output = join(repoRoot, 'test-output', 'console');

type Browser = import('playwright-core').Browser;
type Page = import('playwright-core').Page;

let server: TestServer | undefined;
let stopConsole: (() => Promise<void>) | undefined;
let browser: Browser | undefined;
let page: Page | undefined;
let consoleUrl = '';
let demo = '';
let policyFile = '';
let auditLog = '';
let denialsLog = '';
let denials: DenialsFollower | undefined;

/** The audit record AppArmor writes for a denied file access (what an AppArmor host logs). */
function avc(serial: number, operation: string, hat: string, name: string, mask: string): string {
  const now = Date.now() / 1000;
  return `type=AVC msg=audit(${now.toFixed(3)}:${serial}): apparmor="DENIED" operation="${operation}" class="file" profile="hatter-demo//${hat}" name="${name}" pid=4242 comm="node" requested_mask="${mask}" denied_mask="${mask}" fsuid=1000 ouid=1000\n`;
}

before(async () => {
  if (skip) return;
  rmSync(output, { recursive: true, force: true });
  // A copy of the demo whose policy the Learn page may change; the path still ends in examples/hosting.
  demo = join(output, 'run', 'examples', 'hosting');
  mkdirSync(demo, { recursive: true });
  cpSync(join(repoRoot, 'examples', 'hosting'), demo, { recursive: true });
  policyFile = join(demo, 'policy', 'hatter-demo');
  auditLog = join(output, 'run', 'audit.log');
  writeFileSync(auditLog, '');
  // serve --denials-log: the kernel's Landlock denials, attributed to hats, followed from before the workers start.
  denialsLog = join(output, 'run', 'denials.jsonl');
  writeFileSync(denialsLog, '');
  if (noKernelDenials === undefined) {
    denials = followLandlockDenials({
      source: '/dev/kmsg', denialsLog, intervalMs: 10_000, pollMs: 100,
      confinedProcesses: () => server?.supervisor.confinedProcesses() ?? new Map(),
      warn: (line) => process.stderr.write(`${line}\n`),
    });
  }
  server = await startFromFile(join(demo, 'hatter.yaml'), true, { backend: 'landlock' });
  const supervisor = server.supervisor;
  const services = consoleServices({
    policy: policyFile, policyFromConfig: true, config: join(demo, 'hatter.yaml'), includeDirs: [], logs: [auditLog, denialsLog],
    inProcess: { status: () => supervisor.status(), reload: () => supervisor.enqueue('reload') },
  }, { cwd: repoRoot, env: process.env });
  const started = await startConsoleListener('127.0.0.1', 0, (allowedHosts) => createConsoleHandler({ services, allowedHosts }));
  consoleUrl = `http://127.0.0.1:${started.port}/`;
  stopConsole = async () => {
    started.handler.close();
    started.server.closeAllConnections();
    await new Promise<void>((done) => started.server.close(() => done()));
  };
  browser = await driver!.chromium.launch({ executablePath: chromium!, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
});

after(async () => {
  await browser?.close();
  await stopConsole?.();
  denials?.stop();
  await server?.stop();
});

async function screenshot(name: string): Promise<void> {
  await page!.screenshot({ path: join(output, `${name}.png`), fullPage: true });
}

async function open(panel: string): Promise<void> {
  await page!.goto(`${consoleUrl}#${panel}`);
  await page!.waitForSelector(`#${panel} .body[aria-busy="false"]`, { timeout: 60_000 });
}

test('Sites shows both demo sites, their hats and their workers', { skip, timeout: 120_000 }, async () => {
  await open('sites');
  const text = await page!.locator('#sites').innerText();
  assert.match(text, /alice\.localhost/);
  assert.match(text, /bob\.localhost/);
  assert.match(text, /hatter-demo\/\/alice\.localhost/);
  assert.match(text, /landlock/i);
  for (const site of ['alice.localhost', 'bob.localhost']) {
    const rows = await page!.locator(`[data-site="${site}"] tbody tr`).count();
    assert.ok(rows >= 2, `${site}: ${rows} worker rows (the demo starts 2 per site)`);
  }
  await screenshot('sites');
});

test('a denial from bob\'s /read?path= request appears on Denials within 2 s', { skip, timeout: 120_000 }, async (t) => {
  await open('denials');
  await page!.waitForSelector('#live:has-text("live")', { timeout: 10_000 });
  // The kernel's printk rate limit (5 s, burst 10) drops audit records on their way to /dev/kmsg: let the
  // workers' start-up denials age out first.
  if (noKernelDenials === undefined) await new Promise((r) => setTimeout(r, 5500));
  const secret = join(demo, 'alice', 'secret.txt');
  const bob = await get(server!.port, 'bob.localhost', `/read?path=${encodeURIComponent(secret)}`);
  assert.equal(bob.status, 403, 'Landlock refuses bob');
  assert.match(bob.body.toString(), /EACCES/);
  if (noKernelDenials !== undefined) {
    t.skip(`the kernel's denial is not shown: ${noKernelDenials}`);
    return;
  }
  // The kernel logged the denial while bob's request ran: the page shows it, attributed to bob's hat.
  const started = Date.now();
  const row = page!.locator('#denials tr', { hasText: secret });
  await row.waitFor({ timeout: 2000 });
  const elapsed = Date.now() - started;
  assert.ok(elapsed <= 2000, `shown after ${elapsed} ms`);
  assert.match(await page!.locator('#denials').innerText(), /hatter-demo\/\/bob\.localhost/);
  process.stderr.write(`# console: the kernel's denial shown ${elapsed} ms after bob's response\n`);
  await screenshot('denials');
});

test('Learn: applying the defaults in the page writes what hatter learn --apply --write writes; hatter diff shows it', { skip, timeout: 300_000 }, async () => {
  appendFileSync(auditLog, avc(12, 'mknod', 'bob.localhost', join(demo, 'bob', 'public', 'uploads', 'cat.png'), 'c'));
  // The page and the CLI below must read the same logs: applying reloads the pools, and the new workers'
  // start-up denials would reach the denials log between the two.
  denials?.stop();
  denials = undefined;
  // Without the kernel's records, bob's crossing read comes as an AppArmor host would log it.
  if (noKernelDenials !== undefined) appendFileSync(auditLog, avc(11, 'open', 'bob.localhost', join(demo, 'alice', 'secret.txt'), 'r'));
  const original = readFileSync(policyFile, 'utf8');
  await open('learn');
  await page!.waitForSelector('#learn fieldset.group', { timeout: 60_000 });
  const text = await page!.locator('#learn').innerText();
  assert.match(text, /crosses into another site/, 'bob reading alice\'s secret is marked as tenant-crossing');
  assert.match(text, /cat\.png/);
  // A tenant-crossing alternative without the explicit override is refused by hatter learn itself.
  const crossing = page!.locator('#learn fieldset.group', { hasText: 'secret.txt' });
  await crossing.locator('input[type="radio"]').first().check();
  await page!.getByRole('button', { name: 'Preview diff' }).click();
  await page!.locator('#learn-output', { hasText: 'refused' }).waitFor({ timeout: 60_000 });
  assert.match(await page!.locator('#learn-output').innerText(), /crosses-tenant|another site|alice\.localhost's area/);
  await crossing.getByLabel('ignore (change nothing)').check();
  await page!.getByRole('button', { name: 'Preview diff' }).click();
  await page!.locator('#learn pre.diff').waitFor({ timeout: 60_000 });
  assert.match(await page!.locator('#learn pre.diff').innerText(), /^\+\s+owner .*cat\.png w,$/m);
  assert.equal(readFileSync(policyFile, 'utf8'), original, 'a preview writes nothing');
  await screenshot('learn');
  await page!.getByRole('button', { name: 'Apply to policy' }).click();
  await page!.locator('#learn-output', { hasText: 'written:' }).waitFor({ timeout: 120_000 });
  const fromPage = readFileSync(policyFile, 'utf8');
  assert.notEqual(fromPage, original);
  const backup = readdirSync(join(demo, 'policy')).find((n) => n.startsWith('.hatter-demo.hatter-bak'));
  assert.ok(backup, 'a backup was kept');
  assert.equal(readFileSync(join(demo, 'policy', backup!), 'utf8'), original);

  // hatter diff: the old policy against the new one shows the gained write.
  const diff = await runCli(['diff', join(demo, 'policy', backup!), policyFile]);
  assert.match(diff.stdout + diff.stderr, /cat\.png/);

  // The CLI on the original gives the same file, byte for byte.
  writeFileSync(policyFile, original);
  const cli = await runCli(['learn', '--apply', '--write', '--policy', policyFile, '--config', join(demo, 'hatter.yaml'), auditLog, denialsLog]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(readFileSync(policyFile, 'utf8'), fromPage);
  await screenshot('learn-applied');
});

test('Isolation shows the demo isolated; a cell opens its witnesses', { skip, timeout: 120_000 }, async () => {
  await open('isolation');
  const text = await page!.locator('#isolation').innerText();
  assert.match(text, /Every site is isolated/);
  await page!.getByRole('button', { name: /bob\.localhost to alice\.localhost/ }).click();
  assert.match(await page!.locator('#isolation-witness').innerText(), /cannot reach/);
  await screenshot('isolation');
});

test('Policy shows the files with their include chains and lint findings; the page works at phone width', { skip, timeout: 120_000 }, async () => {
  await open('policy');
  const text = await page!.locator('#policy').innerText();
  assert.match(text, /hatter-demo/);
  assert.match(text, /lint finding/);
  await screenshot('policy');
  await page!.setViewportSize({ width: 390, height: 844 });
  await open('sites');
  const overflow = await page!.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as number;
  assert.ok(overflow <= 0, `no sideways scrolling of the page at phone width (overflow ${overflow}px)`);
  // Keyboard: the tabs move with the arrow keys.
  await page!.focus('#tab-sites');
  await page!.keyboard.press('ArrowRight');
  assert.equal(await page!.evaluate('location.hash'), '#denials');
  await screenshot('phone');
});
