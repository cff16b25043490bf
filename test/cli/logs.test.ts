// `hatter logs` as users run it: tables, JSON, summaries, the aalogparse view, filters, exit codes, follow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, runCliProcess } from '../support/cli.js';
import { corpus } from '../support/corpora.js';
import { cliMain } from '../support/repo.js';

const deny = (serial: number, sec: number, hat: string, name: string) =>
  `type=AVC msg=audit(${1763776800 + sec}.250:${serial}): apparmor="DENIED" operation="open" class="file" profile="apache2//${hat}" name="${name}" pid=77 comm="apache2" requested_mask="r" denied_mask="r" fsuid=33 ouid=0`;

const LOG = [
  deny(1, 0, 'www.a.org', '/srv/b.org/index.php'),
  deny(2, 5, 'www.a.org', '/srv/b.org/index.php'),
  `Nov 22 10:00:01 web01 kernel: [ 1.0] audit: type=1400 audit(${1763776800 + 60}.000:3): apparmor="ALLOWED" operation="capable" class="cap" profile="php-fpm//shop" pid=5 comm="php-fpm8.2" capability=1  capname="dac_override"`,
  `[ 2.0] audit: type=1400 audit(${1763776800 + 120}.000:4): apparmor="DENIED" operation="connect" class="net" profile="php-fpm//shop" pid=6 comm="php" family="inet" sock_type="stream" protocol=6 requested="connect" denied="connect"`,
  'type=AVC msg=audit(1763776800.000:5): apparmor="DENIED" operation="open" profile="apache2//www.a.org" name="/tru',
  'a line from some other program',
].join('\n');

function tempLog(text: string): { path: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'hatter-logs-cli-'));
  const path = join(dir, 'audit.log');
  writeFileSync(path, text);
  return { path, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('default: an aligned table of groups, a footer with counts and skips, a diagnostic for the truncated line; exit 1 on denials', async () => {
  const log = tempLog(`${LOG}\n`);
  try {
    const r = await runCli(['logs', log.path]);
    assert.equal(r.code, 1);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^COUNT\s+TYPE\s+PROFILE\s+CLASS\s+OPERATION\s+OBJECT\s+PERMS\s+FIRST\s+LAST$/);
    assert.match(lines[1]!, /^\s+2\s+DENIED\s+apache2\/\/www\.a\.org\s+file\s+open\s+\/srv\/b\.org\/index\.php\s+r\s+2025-11-22 02:00:00Z\s+2025-11-22 02:00:05Z$/);
    assert.ok(lines.some((l) => /DENIED\s+php-fpm\/\/shop\s+net\s+connect\s+inet stream tcp\s+connect/.test(l)));
    assert.ok(lines.some((l) => /ALLOWED\s+php-fpm\/\/shop\s+cap\s+capable\s+cap dac_override/.test(l)));
    assert.match(r.stdout, /4 events in 3 groups \(3 DENIED, 1 ALLOWED\).*6 lines read, skipped: 1 unterminated-quote, 1 unknown-prefix/);
    assert.match(r.stderr, /audit\.log:5:1: warning: line skipped: a quoted value has no closing quote.*\[logs\/unterminated-quote\]/);
  } finally {
    log.done();
  }
});

test('--json prints one flat event per line with the fields the kernel suite compares', async () => {
  const r = await runCli(['logs', '--json', '-'], { stdin: `${LOG}\n` });
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(events.length, 4);
  const first = events[0]!;
  assert.equal(first['type'], 'DENIED');
  assert.equal(first['profile'], 'apache2');
  assert.equal(first['hat'], 'www.a.org');
  assert.equal(first['label'], 'apache2//www.a.org');
  assert.equal(first['operation'], 'open');
  assert.equal(first['name'], '/srv/b.org/index.php');
  assert.equal(first['requested'], 'r');
  assert.equal(first['denied'], 'r');
  assert.deepEqual(first['deniedPerms'], ['r']);
  assert.equal(first['serial'], 1);
  assert.equal(first['line'], 1);
  assert.equal(first['file'], 'stdin');
  for (const e of events) for (const v of Object.values(e)) assert.ok(v === null || typeof v !== 'object' || Array.isArray(v), 'flat: no nested objects');
});

test('--summary --json prints the grouped summary; --profile, --type and --since filter', async () => {
  const r = await runCli(['logs', '--summary', '--json', '--profile', 'php-fpm', '-'], { stdin: LOG });
  const s = JSON.parse(r.stdout) as { events: number; groups: { label: string; hat: string; count: number }[]; floods: unknown[]; skipped: Record<string, number> };
  assert.equal(s.events, 2);
  assert.deepEqual(s.groups.map((g) => g.label), ['php-fpm//shop', 'php-fpm//shop']);
  assert.equal(s.groups[0]!.hat, 'shop');
  assert.deepEqual(s.floods, []);
  assert.equal(s.skipped['unterminated-quote'], 1);
  const typed = await runCli(['logs', '--json', '--type', 'allowed', '-'], { stdin: LOG });
  assert.equal(typed.stdout.trim().split('\n').length, 1);
  assert.equal(typed.code, 0, 'no denial shown: exit 0');
  const since = await runCli(['logs', '--json', '--since', '@1763776830', '-'], { stdin: LOG });
  assert.equal(since.stdout.trim().split('\n').length, 2);
  const glob = await runCli(['logs', '--json', '--profile', 'apache2//www.*.org', '-'], { stdin: LOG });
  assert.equal(glob.stdout.trim().split('\n').length, 2);
  const none = await runCli(['logs', '--json', '--profile', 'apache2//*.com', '-'], { stdin: LOG });
  assert.equal(none.stdout, '');
});

test('a flood is printed first and loudly', async () => {
  const lines = [];
  for (let i = 0; i < 120; i++) lines.push(deny(100 + i, 0, 'www.a.org', '/srv/loop'));
  lines.push(deny(999, 1, 'www.a.org', '/srv/once'));
  const r = await runCli(['logs', '--flood', '100', '-'], { stdin: lines.join('\n') });
  assert.equal(r.code, 1);
  assert.match(r.stdout.split('\n')[0]!, /^!! FLOOD {2}flood: DENIED open \/srv\/loop by apache2\/\/www\.a\.org: 120 events in one second/);
  const quiet = await runCli(['logs', '--flood', '500', '-'], { stdin: lines.join('\n') });
  assert.doesNotMatch(quiet.stdout, /FLOOD/);
});

test('usage errors exit 2 with a message; a missing file exits 2', async () => {
  for (const args of [['--format', 'xml', '-'], ['--since', 'yesterday-ish', '-'], ['--type', 'WEIRD', '-'], ['--flood', 'many', '-'], ['--format', 'aalogparse'], ['--follow', 'a', 'b'], ['--bogus']]) {
    const r = await runCli(['logs', ...args], { stdin: '' });
    assert.equal(r.code, 2, args.join(' '));
    assert.ok(r.stderr.length > 0, args.join(' '));
  }
  const missing = await runCli(['logs', '/nonexistent/audit.log']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read \/nonexistent\/audit\.log: ENOENT/);
});

const logTests = corpus('log-tests');

test('--format aalogparse prints exactly NAME.out for every log-tests case', { skip: logTests.skip }, async (t) => {
  const dir = logTests.dir!;
  const cases = readdirSync(dir).filter((f) => f.endsWith('.in')).sort();
  const r = await runCli(['logs', '--format', 'aalogparse', ...cases.map((f) => join(dir, f))]);
  assert.equal(r.code, 0);
  const want = cases.map((f) => readFileSync(join(dir, `${f.slice(0, -3)}.out`), 'utf8'));
  const got = r.stdout.split(/(?=^START$)/m);
  let agree = 0;
  const wrong: string[] = [];
  cases.forEach((f, i) => (got[i] === want[i] ? agree++ : wrong.push(f)));
  t.diagnostic(`log-tests agreement (hatter logs --format aalogparse): ${agree}/${cases.length} cases print exactly NAME.out`);
  assert.deepEqual(wrong, []);
});

test('--follow prints events as the file grows, then stops on SIGTERM', { timeout: 30_000 }, async () => {
  const log = tempLog(`${deny(1, 0, 'www.a.org', '/srv/first')}\n`);
  const child = spawn(process.execPath, [cliMain.replace(/main\.js$/, 'bin.js'), 'logs', '--follow', '--json', log.path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const seen = (needle: string) => new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (stdout.includes(needle)) {
        clearInterval(poll);
        resolve();
      } else if (Date.now() - started > 10_000) {
        clearInterval(poll);
        reject(new Error(`not seen: ${needle}; stdout so far: ${stdout}`));
      }
    }, 20);
  });
  try {
    await seen('/srv/first');
    appendFileSync(log.path, `${deny(2, 1, 'www.a.org', '/srv/second')}\n`);
    await seen('/srv/second');
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exit, 0);
  } finally {
    child.kill('SIGKILL');
    log.done();
  }
  const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string });
  assert.deepEqual(events.map((e) => e.name), ['/srv/first', '/srv/second']);
});

test('--width fits the table: long objects are shortened in the middle, and --width 0 shows them whole', async () => {
  const longPath = `/srv/${'deep/'.repeat(40)}wp-config.php`;
  const log = tempLog(`${deny(1, 0, 'www.a.org', longPath)}\n${deny(2, 1, 'www.a.org', '/srv/short')}\n`);
  try {
    const fitted = await runCli(['logs', '--width', '150', log.path]);
    const table = fitted.stdout.split('\n').filter((line) => /^(COUNT\b|\s+\d)/.test(line));
    assert.equal(table.length, 3, fitted.stdout);
    for (const line of table) assert.ok(line.length <= 150, `${line.length} columns: ${line}`);
    assert.match(fitted.stdout, /\/srv\/deep\/deep[^ ]*…[^ ]*deep\/wp-config\.php/);
    assert.ok(!fitted.stdout.includes(longPath));
    assert.match(fitted.stdout, /--width 0 shows them whole/);
    const whole = await runCli(['logs', '--width', '0', log.path]);
    assert.ok(whole.stdout.includes(longPath));
    assert.ok(!whole.stdout.includes('…'));
    assert.equal((await runCli(['logs', '--width', 'wide', log.path])).code, 2);
  } finally {
    log.done();
  }
});

test('a large file is summarized by threads, with the same output as one reader', () => {
  const lines: string[] = [];
  for (let i = 1; i <= 3000; i++) lines.push(deny(i, Math.floor(i / 40), i % 2 ? 'www.a.org' : 'www.b.org', `/srv/${i % 17}`));
  const log = tempLog(`${lines.join('\n')}\nnot an audit line\n`);
  try {
    const sequential = runCliProcess(['logs', '--summary', '--json', log.path], { env: { HATTER_LOGS_PARALLEL_MIN_BYTES: String(2 ** 40) } });
    const threaded = runCliProcess(['logs', '--summary', '--json', log.path], { env: { HATTER_LOGS_PARALLEL_MIN_BYTES: '1' } });
    assert.equal(threaded.code, sequential.code);
    assert.equal(threaded.stdout, sequential.stdout);
    assert.equal(JSON.parse(threaded.stdout).groups.length, 34);
  } finally {
    log.done();
  }
});

// The progress line: only on a terminal's stderr, erased before diagnostics and before the result.
const ERASE = '\r\x1b[K';

test('progress: on a terminal stderr, a reading line with percent and lines, erased before the diagnostic and at the end; none otherwise', async () => {
  const log = tempLog(`${LOG}\n`);
  try {
    const shown = await runCli(['logs', log.path], { stderrIsTTY: true });
    assert.equal(shown.code, 1);
    const progressLine = new RegExp(`reading audit\\.log: 100% of 1 MiB, 6 lines`);
    assert.match(shown.stderr, progressLine);
    // a progress line is erased before anything else is written (the diagnostic of the truncated
    // line, the result), and nothing is left drawn at the end
    assert.match(shown.stderr, /logs\/unterminated-quote/);
    for (const segment of shown.stderr.split(ERASE)) {
      if (segment.includes('reading')) assert.match(segment, /^reading [^\n\r]*$/);
    }
    assert.ok(shown.stderr.endsWith(ERASE));
    assert.equal(shown.stdout, (await runCli(['logs', log.path])).stdout, 'the result is the same');

    for (const quiet of [
      await runCli(['logs', log.path]),
      await runCli(['logs', '--no-progress', log.path], { stderrIsTTY: true }),
      await runCli(['logs', '--json', log.path], { stderrIsTTY: true, stdoutIsTTY: true }),
    ]) {
      assert.ok(!quiet.stderr.includes('reading'), quiet.stderr);
      assert.ok(!quiet.stderr.includes('\r'));
    }
    // stdin has no size: megabytes and lines only
    const piped = await runCli(['logs', '-'], { stdin: `${LOG}\n`, stderrIsTTY: true });
    assert.match(piped.stderr, /reading stdin: 0 MiB, 6 lines/);
  } finally {
    log.done();
  }
});

test('progress: the threads of a large file report what they read', async () => {
  const lines: string[] = [];
  for (let i = 1; i <= 3000; i++) lines.push(deny(i, Math.floor(i / 40), 'www.a.org', `/srv/${i % 17}`));
  const log = tempLog(`${lines.join('\n')}\n`);
  try {
    const r = await runCli(['logs', '--summary', '--json', log.path], { stderrIsTTY: true, env: { HATTER_LOGS_PARALLEL_MIN_BYTES: '1' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /reading audit\.log: \d+% of 1 MiB, \d[\d,]* lines/);
    assert.ok(r.stderr.endsWith(ERASE));
    assert.equal(JSON.parse(r.stdout).events, 3000);
  } finally {
    log.done();
  }
});

test('a time beyond the date range (audit(99999999999999999999.000:1)) is printed as @SECONDS, not an internal error', async () => {
  const line = 'type=AVC msg=audit(99999999999999999999.000:1): apparmor="DENIED" operation="open" profile="a" name="/x" pid=1';
  for (const args of [['logs', '-'], ['logs', '--json', '-'], ['logs', '--summary', '--json', '-']]) {
    const r = await runCli(args, { stdin: `${line}\n` });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /internal error/);
    assert.match(r.stdout, /@1\d{20}/);
  }
});
