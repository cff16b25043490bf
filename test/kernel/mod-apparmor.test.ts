// The original system as a live oracle (issue #22 item 5, part of `npm run test:kernel`): in one boot of
// a stock Debian kernel with AppArmor, Debian's Apache prefork + mod_php + mod_apparmor serves generated
// configurations (./web/configs.ts) and every request's PHP script prints the label it really ran in;
// `hatter which-hat` must predict each label. Then php-fpm masters start pools with apparmor_hat, and
// the labels their workers really get (or their exit code 70) must be what `which-hat --fpm` says.
// Infrastructure problems (no qemu, no kernel package, no apache2/mod_apparmor/php-fpm, boot failure,
// timeout) skip with one line; every disagreement fails, naming the request and hatter's reasoning.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheRoot, unavailableReason, type VmResult } from './harness/vm.js';
import { bootForTest, vmSkipReason } from './harness/boot.js';
import { generateWebSetup, type ApacheInstance, type WebRequest, type WebSetup } from './web/configs.js';
import { webGuestScript } from './web/guest-script.js';
import { runCli } from '../support/cli.js';
import { nodeFileReader } from '../../src/policy-node/index.js';
import {
  fpmPoolTargets, nodeFileSystem, profileTreesFromPolicy, readApacheConfig, readFpmConfig, whichHat,
  type ApacheConfig, type FpmPoolTarget, type ProfileTree, type ProfileTreeWithAttachment,
} from '../../src/web/index.js';

const packages: Record<string, string> = {
  '/usr/sbin/apache2': 'apache2', '/usr/lib/apache2/modules/libphp8.2.so': 'libapache2-mod-php8.2',
  '/usr/lib/apache2/modules/mod_apparmor.so': 'libapache2-mod-apparmor', '/usr/sbin/php-fpm8.2': 'php8.2-fpm',
  '/usr/bin/aa-exec': 'apparmor', '/usr/bin/curl': 'curl',
};
const missing = Object.entries(packages).filter(([file]) => !existsSync(file)).map(([, pkg]) => pkg);
const unavailable = process.env.HATTER_SKIP_KERNEL ? 'skipped: HATTER_SKIP_KERNEL is set'
  : missing.length ? `skipped: not installed: ${missing.join(', ')}` : unavailableReason();
// HATTER_KERNEL_WEB_REUSE=DIR re-checks a run kept with HATTER_KEEP_KERNEL_WORK=1 (no boot; same seed).
const reuse = process.env.HATTER_KERNEL_WEB_REUSE;
const work = reuse ?? mkdtempSync(join(tmpdir(), 'hatter-kweb-'));
const seed = Number(process.env.HATTER_KERNEL_WEB_SEED ?? 22);

let setup: WebSetup | undefined;
let vm: VmResult | undefined;

function readIf(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

function policyTrees(file: string): ProfileTreeWithAttachment[] {
  const { trees, diagnostics } = profileTreesFromPolicy(file, { reader: nodeFileReader(), includeDirs: ['/etc/apparmor.d'] });
  assert.ok(trees.length === 1, `hatter could not read the generated policy ${file}: ${JSON.stringify(diagnostics.slice(0, 3))}`);
  return trees;
}

/** The mode the kernel prints after a label: that of the hat or child entered, or of the profile itself. */
function modeOf(profile: ProfileTree, label: string, learning: boolean): string {
  if (learning) return 'complain';
  const sub = label.startsWith(`${profile.name}//`) ? label.slice(profile.name.length + 2) : undefined;
  if (sub === undefined) return profile.mode;
  return profile.children.find((c) => c.baseName === sub)?.mode ?? '?';
}

interface Observed { readonly status: string; readonly label: string }

function observedApache(): Map<number, Observed> {
  const observed = new Map<number, Observed>();
  for (const a of setup!.apache) {
    for (const line of readIf(join(work, 'results', `apache-${a.name}.codes`)).split('\n')) {
      const [id, status] = line.trim().split(' ');
      if (!id || !status) continue;
      observed.set(Number(id), { status, label: readIf(join(work, 'results', 'apache', `${id}.body`)).trim() });
    }
  }
  return observed;
}

interface Prediction { readonly label: string; readonly outcome: string; readonly why: string; readonly warnings: readonly string[] }

function predict(config: ApacheConfig, profile: ProfileTree, a: ApacheInstance, r: WebRequest): Prediction {
  const fs = nodeFileSystem();
  const result = whichHat(config, { url: `http://127.0.0.1:${a.port}${r.path}`, host: r.host, localAddress: '127.0.0.1' }, profile, { map: { stat: (p) => fs.stat(p) } });
  if (!result.ok) return { label: `(http ${result.status})`, outcome: 'error', why: result.reason, warnings: [] };
  const s = result.selection;
  return {
    label: `${s.label} (${modeOf(profile, s.label, s.outcome === 'learning')})`,
    outcome: s.outcome,
    why: `vhost ${result.mapping.serverName}, uri ${result.mapping.uri}, candidates [${result.candidates.map((c) => c.name).join(', ')}]: ${s.reason}`,
    warnings: [...result.notices, ...s.warnings],
  };
}

/** which-hat's answer for every generated request, per Apache instance. */
function predictAll(): Map<string, Map<number, Prediction>> {
  const all = new Map<string, Map<number, Prediction>>();
  for (const a of setup!.apache) {
    const { config, diagnostics } = readApacheConfig(a.conf, { fs: nodeFileSystem(), env: {} });
    assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), [], `hatter could not read ${a.conf}`);
    const [profile] = policyTrees(a.policy);
    const predictions = new Map<number, Prediction>();
    for (const r of setup!.requests.filter((x) => x.instance === a.name)) predictions.set(r.id, predict(config, profile!, a, r));
    all.set(a.name, predictions);
  }
  return all;
}

/** mod_apparmor's lines of an error log after the line count recorded before the requests, without time, pid and client. */
function loggedWarnings(a: ApacheInstance): string[] {
  const before = Number(readIf(join(work, 'results', `apache-${a.name}.log-lines-before`)).trim() || '0');
  return readIf(a.errorLog).split('\n').slice(before)
    .filter((line) => line.includes('[apparmor:'))
    .map((line) => line.replace(/^\[[^\]]*\] /, '').replace(/\[pid [^\]]*\] /, '').replace(/\[client [^\]]*\] /, '').trim());
}

function counts(lines: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of lines) out[line] = (out[line] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([x], [y]) => x.localeCompare(y)));
}

describe('Apache + mod_apparmor and PHP-FPM on a real AppArmor kernel agree with hatter which-hat', { skip: unavailable ?? false }, () => {
  before(async () => {
    setup = generateWebSetup(work, seed, 18500);
    const parserCache = join(cacheRoot(), 'apparmor-parser-cache');
    mkdirSync(parserCache, { recursive: true });
    vm = await bootForTest('mod_apparmor', work, webGuestScript(work, setup, parserCache), { shares: [work, parserCache], cwd: work, timeoutMs: 9 * 60_000, reuse: reuse !== undefined });
  });
  after(() => {
    if (!process.env.HATTER_KEEP_KERNEL_WORK && !reuse) rmSync(work, { recursive: true, force: true });
  });

  function check(name: string, body: () => void | Promise<void>): void {
    test(name, async (t) => {
      const skip = vmSkipReason(vm);
      if (skip) { t.skip(skip); return; }
      await body();
    });
  }

  check('the guest loaded every generated profile and ran to the end', () => {
    assert.match(readIf(join(work, 'results', 'load.out')), /^load 0$/m, readIf(join(work, 'results', 'load.out')));
    assert.match(vm!.stdout, /guest-done/, `guest stdout:\n${vm!.stdout}\nstderr:\n${vm!.stderr.slice(-2000)}`);
  });

  check('the label every PHP request printed under mod_apparmor equals which-hat\'s label and mode (>= 300 requests, 3 Apache instances)', () => {
    const observed = observedApache();
    const mismatches: string[] = [];
    const outcomes = new Map<string, number>();
    let compared = 0;
    const predictions = predictAll();
    for (const a of setup!.apache) {
      for (const r of setup!.requests.filter((x) => x.instance === a.name)) {
        const seen = observed.get(r.id);
        const p = predictions.get(a.name)!.get(r.id)!;
        if (!seen) { mismatches.push(`#${r.id} ${a.name} Host ${r.host} ${r.path}: no response recorded`); continue; }
        const actual = seen.status === '200' ? seen.label : `(http ${seen.status})`;
        compared++;
        outcomes.set(`${a.name}:${p.outcome}`, (outcomes.get(`${a.name}:${p.outcome}`) ?? 0) + 1);
        if (actual !== p.label) mismatches.push(`#${r.id} ${a.name} Host ${r.host} ${r.path}: kernel ${actual}, which-hat ${p.label} (${p.why})`);
      }
    }
    process.stdout.write(`# mod_apparmor oracle: ${compared} requests compared (seed ${seed}); outcomes ${JSON.stringify(Object.fromEntries(outcomes))}\n`);
    assert.ok(compared >= 300, `only ${compared} requests compared`);
    assert.deepEqual(mismatches, []);
  });

  check("mod_apparmor's error-log lines (aa_change_hatv failures with errno, AAHatName/AADefaultHatName warnings) are the ones which-hat predicts, counted per message", () => {
    const predictions = predictAll();
    const wrong: string[] = [];
    let lines = 0;
    for (const a of setup!.apache) {
      const predicted = [...predictions.get(a.name)!.values()].flatMap((p) => p.warnings);
      const logged = loggedWarnings(a);
      lines += logged.length;
      try { assert.deepEqual(counts(logged), counts(predicted)); } catch { wrong.push(`${a.name}: Apache logged ${JSON.stringify(counts(logged))}, which-hat predicts ${JSON.stringify(counts(predicted))}`); }
    }
    process.stdout.write(`# mod_apparmor error-log lines compared: ${lines}\n`);
    assert.deepEqual(wrong, []);
  });

  check('the which-hat CLI (--apache --policy --url --host --address --json) gives the library\'s label for a sample of the requests', async () => {
    const observed = observedApache();
    const wrong: string[] = [];
    for (const a of setup!.apache) {
      const sample = setup!.requests.filter((x) => x.instance === a.name).filter((_, i) => i % 25 === 0);
      for (const r of sample) {
        const out = await runCli(['which-hat', '--apache', a.conf, '--policy', a.policy, '--profile', a.profile, '--url', `http://127.0.0.1:${a.port}${r.path}`, '--host', r.host, '--address', '127.0.0.1', '--json']);
        const json = JSON.parse(out.stdout) as { label: string };
        const seen = observed.get(r.id)?.label ?? '';
        if (!seen.startsWith(`${json.label} (`)) wrong.push(`#${r.id} Host ${r.host} ${r.path}: CLI ${json.label}, kernel ${seen}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  /** The workers php-fpm forked for each pool: label per pool name. */
  function fpmWorkers(name: string): { master: string; pools: Map<string, string[]> } {
    const pools = new Map<string, string[]>();
    let master = '';
    for (const line of readIf(join(work, 'results', 'fpm', `${name}.processes`)).split('\n')) {
      const [, label, cmdline] = line.split('\t');
      if (!cmdline) continue;
      const pool = /php-fpm: pool (\S+)/.exec(cmdline)?.[1];
      if (pool) pools.set(pool, [...(pools.get(pool) ?? []), (label ?? '').trim()]);
      else if (/php-fpm: master/.test(cmdline)) master = (label ?? '').trim();
    }
    return { master, pools };
  }

  check('every PHP-FPM pool worker runs in the label which-hat --fpm predicts; pools it says cannot start log exit code 70 (3 masters, 15 pools)', async () => {
    const wrong: string[] = [];
    let compared = 0;
    for (const f of setup!.fpm) {
      const [profile] = policyTrees(f.policy);
      const { config } = readFpmConfig(f.conf, { fs: nodeFileSystem(), env: {} });
      const targets = fpmPoolTargets(config, profile!);
      const cli = await runCli(['which-hat', '--fpm', f.conf, '--policy', f.policy, '--profile', f.profile, '--json']);
      const cliPools = (JSON.parse(cli.stdout) as { pools: FpmPoolTarget[] }).pools;
      const { master, pools } = fpmWorkers(f.name);
      const log = readIf(join(work, 'fpm', f.name, 'fpm.log'));
      if (master !== `${profile!.name} (${profile!.mode})`) wrong.push(`${f.name}: master runs in ${master || '(not found)'}`);
      for (const t of targets) {
        compared++;
        const cliTarget = cliPools.find((p) => p.pool === t.pool);
        if (cliTarget?.outcome !== t.outcome || cliTarget.target !== t.target) wrong.push(`${f.name}[${t.pool}]: CLI says ${cliTarget?.outcome} ${cliTarget?.target}, library ${t.outcome} ${t.target}`);
        const labels = pools.get(t.pool) ?? [];
        const exited70 = new RegExp(`\\[pool ${t.pool}\\] child \\d+ exited with code 70`).test(log);
        const expected = t.outcome === 'exit-70' ? undefined
          : t.outcome === 'unchanged' ? `${profile!.name} (${profile!.mode})`
            : t.outcome === 'learning' ? `${profile!.name}//null-${t.target} (complain)`
              : `${t.target} (${modeOf(profile!, t.target!, false)})`;
        if (expected === undefined) {
          if (!exited70) wrong.push(`${f.name}[${t.pool}]: which-hat says exit 70 (${t.reason}); no "exited with code 70" in the log; workers: ${labels.join(', ') || 'none'}`);
        } else if (labels.length === 0 || labels.some((l) => l !== expected)) {
          wrong.push(`${f.name}[${t.pool}]: workers ${labels.join(', ') || 'none'}${exited70 ? ' (exit 70 logged)' : ''}, which-hat ${expected} (${t.reason})`);
        }
      }
    }
    assert.ok(compared >= 15, `only ${compared} pools compared`);
    assert.deepEqual(wrong, [], `php-fpm logs:\n${setup!.fpm.map((f) => readIf(join(work, 'fpm', f.name, 'fpm.log')).split('\n').slice(-8).join('\n')).join('\n')}`);
  });
});
