// Benchmark: hatter's audit-log reader against Debian's python3-libapparmor on the same generated file,
// in the same run. Each measurement runs in its own child process so its peak RSS can be read.
//
//   npm run bench -- logs            (HATTER_BENCH_LOG_LINES overrides the 1,000,000 lines)
import { isAscii } from 'node:buffer';
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownTable, machineLine, median, writeBenchSection } from './support/report.js';
import { LineSplitter, newReadStats, parseLine, readEvents, summarize, Summarizer } from '../src/logs/index.js';
import { summarizeFileInParts } from '../src/logs-node/index.js';
import { RawRecord, scanRecord } from '../src/logs/scan.js';

// --- the generated log: deterministic, a fixed mix of groups, every format hatter reads ---

/** xorshift32: the same file on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

const SITES = Array.from({ length: 60 }, (_, i) => `www.site${i}.example`);
const POOLS = Array.from({ length: 20 }, (_, i) => `pool${i}`);
const FILES = ['index.php', 'wp-config.php', '.htaccess', 'uploads/a.jpg', 'cache/x.tmp', 'vendor/autoload.php', 'data.db', 'log/error.log'];
const CAPS = ['dac_override', 'dac_read_search', 'setuid', 'setgid', 'net_bind_service', 'sys_ptrace'];
const hex = (s: string) => Buffer.from(s).toString('hex').toUpperCase();

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

/** One AppArmor record body (after the audit header), and whether it is from a 6.12 kernel (class=). */
function body(r: () => number, serial: number): string {
  const modern = r() < 0.5;
  const cls = (c: string) => (modern ? ` class="${c}"` : '');
  const type = r() < 0.8 ? 'DENIED' : 'ALLOWED';
  const kind = r();
  const siteIndex = Math.floor(r() * SITES.length);
  const site = SITES[siteIndex]!;
  // mostly its own files, sometimes one of two neighbours: a bounded set of groups
  const other = SITES[(siteIndex + (r() < 0.7 ? 0 : r() < 0.5 ? 1 : 2)) % SITES.length]!;
  const pid = 1000 + Math.floor(r() * 30000);
  if (kind < 0.55) {
    const fileIndex = Math.floor(r() * FILES.length);
    const file = FILES[fileIndex]!;
    const mask = ['r', 'r', 'r', 'w', 'rw', 'c', 'k', 'wc'][fileIndex]!;
    const name = r() < 0.05 ? `name=${hex(`/srv/${other}/my docs/${file}`)}` : `name="/srv/${other}/htdocs/${file}"`;
    const op = mask === 'c' ? 'mknod' : mask === 'k' ? 'file_lock' : mask.includes('w') ? 'open' : fileIndex === 0 ? 'open' : 'getattr';
    return `apparmor="${type}" operation="${op}"${cls('file')} profile="apache2//${site}" ${name} pid=${pid} comm="apache2" requested_mask="${mask}" denied_mask="${mask}" fsuid=33 ouid=${r() < 0.5 ? 33 : 0}`;
  }
  if (kind < 0.7) {
    const pool = pick(r, POOLS);
    return `apparmor="${type}" operation="exec"${cls('file')} profile="php-fpm//${pool}" name="/usr/bin/${pick(r, ['curl', 'sendmail', 'convert', 'git'])}" pid=${pid} comm="php-fpm8.2" requested_mask="x" denied_mask="x" fsuid=${1000 + (serial % 20)} ouid=0 target="php-fpm//${pool}//null-/usr/bin/x"`;
  }
  if (kind < 0.8) {
    return `apparmor="${type}" operation="capable"${cls('cap')} profile="php-fpm//${pick(r, POOLS)}" pid=${pid} comm="php-fpm8.2" capability=1  capname="${pick(r, CAPS)}"`;
  }
  if (kind < 0.9) {
    const n = Math.floor(r() * 3);
    const op = ['create', 'connect', 'sendmsg'][n]!;
    const family = ['unix', 'inet', 'inet6'][n]!;
    return `apparmor="${type}" operation="${op}"${cls('net')} profile="apache2//${site}" pid=${pid} comm="apache2" family="${family}" sock_type="stream" protocol=${family === 'unix' ? 0 : 6} requested_mask="${op === 'sendmsg' ? 'send' : op}" denied_mask="${op === 'sendmsg' ? 'send' : op}"`;
  }
  if (kind < 0.95) {
    return `apparmor="${type}" operation="signal"${cls('signal')} profile="worker//site${serial % 8}" pid=${pid} comm="worker" requested_mask="send" denied_mask="send" signal=term peer="worker//site${(serial + 1) % 8}"`;
  }
  return `apparmor="ALLOWED" operation="change_hat"${cls('file')} info="hat not found" error=-2 profile="apache2" pid=${pid} comm="apache2" name="${pick(r, SITES).replace('site', 'missing')}"`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A line in one of the source formats, plus auditd's SYSCALL/PROCTITLE companions and unrelated lines. */
function lines(r: () => number, serial: number, epochMs: number): string[] {
  const sec = Math.floor(epochMs / 1000);
  const stamp = `${sec}.${String(epochMs % 1000).padStart(3, '0')}:${serial}`;
  const d = new Date(epochMs);
  const f = r();
  if (f < 0.04) return [`${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${d.toISOString().slice(11, 19)} web01 sshd[${serial % 9000}]: Accepted publickey for deploy from 10.0.0.${serial % 250} port ${40000 + (serial % 9999)} ssh2`];
  const b = body(r, serial);
  if (f < 0.40) {
    const out = [`type=AVC msg=audit(${stamp}): ${b}`];
    if (r() < 0.3) out.push(`type=SYSCALL msg=audit(${stamp}): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=7ffd a2=0 a3=0 items=0 ppid=1 pid=${serial % 30000} auid=4294967295 uid=33 gid=33 euid=33 suid=33 fsuid=33 egid=33 sgid=33 fsgid=33 tty=(none) ses=4294967295 comm="apache2" exe="/usr/sbin/apache2" subj=apache2 key=(null)`);
    return out;
  }
  if (f < 0.50) return [`type=AVC msg=audit(${stamp}): ${b}\x1dFSUID="www-data" OUID="root"`];
  if (f < 0.78) return [`${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${d.toISOString().slice(11, 19)} web01 kernel: [${String((serial / 100).toFixed(6)).padStart(12)}] audit: type=1400 audit(${stamp}): ${b}`];
  if (f < 0.88) return [`${d.toISOString().replace('Z', '+00:00')} web01 kernel: audit: type=1400 audit(${stamp}): ${b}`];
  if (f < 0.96) return [`[${String((serial / 100).toFixed(6)).padStart(12)}] audit: type=1400 audit(${stamp}): ${b}`];
  if (f < 0.99) return [JSON.stringify({ __REALTIME_TIMESTAMP: String(epochMs * 1000), _TRANSPORT: 'kernel', SYSLOG_IDENTIFIER: 'kernel', MESSAGE: `audit: type=1400 audit(${stamp}): ${b}` })];
  return [`${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${d.toISOString().slice(11, 19)} web01 dbus-daemon[812]: apparmor="DENIED" operation="dbus_method_call"  bus="system" path="/org/freedesktop/login1" interface="org.freedesktop.login1.Manager" member="${pick(r, ['PowerOff', 'Reboot', 'ListSessions'])}" mask="send" name="org.freedesktop.login1" pid=${serial % 30000} label="php-fpm//${pick(r, POOLS)}" peer_pid=1 peer_label="unconfined"`];
}

/**
 * Write `count` lines; returns the file's size in bytes. `repeatEvery`: after that many audit events the
 * random sequence starts over, so the same events come back with later times, serials and dmesg stamps
 * (a log of a server that keeps hitting the same denials, as in days of complain mode).
 */
export async function generateLog(path: string, count: number, seed = 42, repeatEvery = 0): Promise<number> {
  let r = rng(seed);
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let written = 0;
  let serial = 1000;
  let ms = Date.UTC(2026, 10, 22, 2, 0, 0);
  let batch: string[] = [];
  while (written < count) {
    serial++;
    if (repeatEvery > 0 && serial % repeatEvery === 0) r = rng(seed);
    ms += Math.floor(r() * 40);
    for (const line of lines(r, serial, ms)) {
      if (written >= count) break;
      batch.push(line);
      written++;
    }
    if (batch.length >= 4096) {
      if (!out.write(`${batch.join('\n')}\n`)) await new Promise<void>((res) => out.once('drain', () => res()));
      batch = [];
    }
  }
  if (batch.length) out.write(`${batch.join('\n')}\n`);
  await new Promise<void>((res, rej) => out.end((error?: Error | null) => (error ? rej(error) : res())));
  return statSync(path).size;
}

// --- measured runs (each in a child process) ---

interface Measurement {
  readonly lines: number;
  readonly events: number;
  readonly groups?: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly maxRssKiB: number;
}

/** The public streaming API, as a caller would use it: summarize(readEvents(stream)). */
async function childStreaming(file: string): Promise<Measurement> {
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const stats = newReadStats();
  const summary = await summarize(readEvents(createReadStream(file, { highWaterMark: 1 << 20 }), { stats }));
  return finish(started, cpu0, stats.lines, summary.events, summary.groups.length);
}

/** What `hatter logs --summary` does with a large regular file: one thread per core, states merged. */
async function childThreads(file: string): Promise<Measurement> {
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const size = statSync(file).size;
  const result = await summarizeFileInParts(file, size, { file, filter: {}, floodPerSecond: 50, parts: availableParallelism(), maxSamples: 10 });
  const summary = Summarizer.fromState(result.state).result();
  return finish(started, cpu0, result.stats.lines, summary.events, summary.groups.length);
}

/** A run of lines as one string (ASCII: latin1, several times cheaper than the UTF-8 decoder). */
function decodeRun(bytes: Buffer, from: number, to: number): string {
  return bytes.toString(isAscii(bytes.subarray(from, to)) ? 'latin1' : 'utf8', from, to);
}

async function childParseLine(file: string): Promise<Measurement> {
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  let lineCount = 0;
  let events = 0;
  const splitter = new LineSplitter((bytes, from, to) => {
    const text = decodeRun(bytes, from, to);
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      const record = parseLine(end < 0 ? text.slice(start) : text.slice(start, end), ++lineCount);
      if (record.kind === 'event') events++;
      if (end < 0) break;
      start = end + 1;
    }
  }, () => lineCount++);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) splitter.push(chunk as Buffer);
  splitter.end();
  return finish(started, cpu0, lineCount, events);
}

/** The scanner alone, in place over each decoded piece (no event built): the floor under parseLine. */
async function childScan(file: string): Promise<Measurement> {
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  let lineCount = 0;
  let records = 0;
  const scratch = new RawRecord();
  const splitter = new LineSplitter((bytes, from, to) => {
    const text = decodeRun(bytes, from, to);
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      lineCount++;
      const r = scanRecord(text, scratch, start, end < 0 ? text.length : end);
      if (r.apparmor !== undefined) records++;
      if (end < 0) break;
      start = end + 1;
    }
  }, () => lineCount++);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) splitter.push(chunk as Buffer);
  splitter.end();
  return finish(started, cpu0, lineCount, records);
}

function finish(started: number, cpu0: NodeJS.CpuUsage, lineCount: number, events: number, groups?: number): Measurement {
  const cpu = process.cpuUsage(cpu0);
  return {
    lines: lineCount,
    events,
    ...(groups !== undefined ? { groups } : {}),
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    maxRssKiB: process.resourceUsage().maxRSS,
  };
}

// argv[2] = 'group' also groups the accepted records (event, profile, operation, object) with counts and
// first/last time, the work hatter's summarize does, so the streaming row has a like-for-like reference.
const PYTHON_REFERENCE = `
import sys, time, resource
import LibAppArmor
started = time.perf_counter(); cpu0 = time.process_time()
lines = events = 0
group = len(sys.argv) > 2 and sys.argv[2] == 'group'
groups = {}
with open(sys.argv[1], 'rb') as f:
    for raw in f:
        lines += 1
        record = LibAppArmor.parse_record(raw.decode('utf-8', 'replace'))
        if record.event != LibAppArmor.AA_RECORD_INVALID:
            events += 1
            if group:
                key = (record.event, record.profile, record.operation, record.name, record.net_family, record.signal)
                t = record.epoch
                g = groups.get(key)
                if g is None:
                    groups[key] = [1, t, t, record.requested_mask, record.denied_mask]
                else:
                    g[0] += 1
                    if t < g[1]: g[1] = t
                    if t > g[2]: g[2] = t
        LibAppArmor.free_record(record)
import json
print(json.dumps({'lines': lines, 'events': events, 'groups': len(groups), 'seconds': time.perf_counter() - started,
                  'cpuSeconds': time.process_time() - cpu0,
                  'maxRssKiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
`;

function runChild(mode: string, file: string): Measurement {
  const self = fileURLToPath(import.meta.url);
  const result = spawnSync(process.execPath, [self, '--child', mode, file], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (result.status !== 0) throw new Error(`bench child ${mode} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Measurement;
}

/** `copies` children of one mode started together; resolves with each one's measurement. */
function runChildrenTogether(mode: string, file: string, copies: number): Promise<Measurement[]> {
  const self = fileURLToPath(import.meta.url);
  return Promise.all(Array.from({ length: copies }, () => new Promise<Measurement>((resolve, reject) => {
    const child = spawn(process.execPath, [self, '--child', mode, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => { out += text; });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Measurement) : reject(new Error(`bench child ${mode} exited with ${code}`))));
  })));
}

function runReference(file: string, mode: 'parse' | 'group' = 'parse'): Measurement | string {
  const result = spawnSync('/usr/bin/python3', ['-c', PYTHON_REFERENCE, file, mode], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (result.error || result.status !== 0) return `python3-libapparmor unavailable (${(result.stderr || String(result.error)).trim().split('\n').pop()})`;
  return JSON.parse(result.stdout) as Measurement;
}

/** The run with the median wall time. */
function middle(runs: readonly Measurement[]): Measurement {
  return [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]!;
}

/** The repeating log: the random sequence starts over after this many audit events. */
const REPEAT_EVERY = 5000;

/** Rounds of every reader, interleaved, so that a slow spell of the machine hits all of them alike. */
const ROUNDS = 3;

type HatterMode = 'streaming' | 'threads' | 'parseLine' | 'scan';

export async function run(repoRoot: string): Promise<void> {
  const count = Number(process.env['HATTER_BENCH_LOG_LINES'] ?? 1_000_000);
  const small = Math.max(1000, Math.floor(count / 10));
  const dir = mkdtempSync(join(tmpdir(), 'hatter-bench-logs-'));
  try {
    const big = join(dir, 'audit-big.log');
    const little = join(dir, 'audit-small.log');
    const repeating = join(dir, 'audit-repeating.log');
    const bytes = await generateLog(big, count);
    await generateLog(little, small);
    await generateLog(repeating, count, 42, REPEAT_EVERY);
    process.stdout.write(`generated ${count.toLocaleString('en-US')} lines (${(bytes / 2 ** 20).toFixed(0)} MiB), ${small.toLocaleString('en-US')} lines of the same mix, and ${count.toLocaleString('en-US')} repeating lines\n`);

    const modes: HatterMode[] = ['streaming', 'threads', 'parseLine', 'scan'];
    const runs = new Map<HatterMode, Measurement[]>(modes.map((m) => [m, []]));
    const refParse: Measurement[] = [];
    const refGroup: Measurement[] = [];
    const repeatingRuns = { streaming: [] as Measurement[], threads: [] as Measurement[], reference: [] as Measurement[] };
    let referenceError: string | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      process.stdout.write(`round ${round + 1} of ${ROUNDS}\n`);
      for (const mode of modes) runs.get(mode)!.push(runChild(mode, big));
      const parse = runReference(big);
      const group = runReference(big, 'group');
      if (typeof parse === 'string') referenceError = parse;
      else refParse.push(parse);
      if (typeof group === 'string') referenceError = group;
      else refGroup.push(group);
      repeatingRuns.streaming.push(runChild('streaming', repeating));
      repeatingRuns.threads.push(runChild('threads', repeating));
      const repeatingGroup = runReference(repeating, 'group');
      if (typeof repeatingGroup !== 'string') repeatingRuns.reference.push(repeatingGroup);
    }
    const streamingSmall = runChild('streaming', little);
    // How much two cores give here: two scanner processes at once, against one alone.
    const cores = availableParallelism();
    const together = await runChildrenTogether('scan', big, cores);
    const alone = middle(runs.get('scan')!);
    const scaling = together.reduce((sum, m) => sum + m.lines, 0) / Math.max(...together.map((m) => m.seconds)) / (alone.lines / alone.seconds);

    const rate = (m: Measurement) => m.lines / m.seconds;
    const cpuRate = (m: Measurement) => m.lines / m.cpuSeconds;
    // Ratios are medians of the ratios within each round (hatter and the reference measured back to
    // back), in wall time (what a user waits for) and in CPU time (the process's own work).
    const pairedRatio = (mine: readonly Measurement[], base: readonly Measurement[], by: (m: Measurement) => number) =>
      base.length === mine.length ? median(mine.map((m, i) => by(m) / by(base[i]!))) : NaN;
    const show = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');
    const mib = (m: Measurement) => `${(m.maxRssKiB / 1024).toFixed(0)} MiB`;
    const row = (name: string, mode: HatterMode, base: readonly Measurement[], mine: readonly Measurement[] = runs.get(mode)!) => {
      const m = middle(mine);
      return [name, Math.round(rate(m)), Math.round(cpuRate(m)), m.events, mib(m), show(pairedRatio(mine, base, rate)), show(pairedRatio(mine, base, cpuRate))];
    };
    const rows: (string | number)[][] = [
      row(`hatter readEvents + summarize (${count.toLocaleString('en-US')} lines)`, 'streaming', refGroup),
      row(`hatter logs --summary path: ${availableParallelism()} threads, states merged`, 'threads', refGroup),
      ['hatter readEvents + summarize (' + small.toLocaleString('en-US') + ' lines, same mix; one run)', Math.round(rate(streamingSmall)), Math.round(cpuRate(streamingSmall)), streamingSmall.events, mib(streamingSmall), '', ''],
      row('hatter parseLine (read, split, parse)', 'parseLine', refParse),
      row('hatter scanner alone (read, split, scan; no event built; events = lines with apparmor=)', 'scan', refParse),
    ];
    rows.push(
      row(`repeating log: hatter readEvents + summarize`, 'streaming', repeatingRuns.reference, repeatingRuns.streaming),
      row(`repeating log: hatter logs --summary path, ${availableParallelism()} threads`, 'threads', repeatingRuns.reference, repeatingRuns.threads),
    );
    for (const [name, list] of [
      ['python3-libapparmor parse_record + free_record (reference for parsing)', refParse],
      ['python3-libapparmor parse_record + grouping in a dict (reference for summarizing)', refGroup],
      ['repeating log: python3-libapparmor parse_record + grouping (reference)', repeatingRuns.reference],
    ] as const) {
      if (list.length === 0) continue;
      const m = middle(list);
      rows.push([name, Math.round(rate(m)), Math.round(cpuRate(m)), m.events, mib(m), '1.00×', '1.00×']);
    }
    const streaming = middle(runs.get('streaming')!);
    const table = { headers: ['reader', 'lines/s (wall)', 'lines/s (CPU)', 'events', 'peak RSS', 'vs reference (wall)', 'vs reference (CPU)'], rows };
    const markdown = [
      '## logs',
      '',
      `${machineLine()}. A generated ${count.toLocaleString('en-US')}-line log (${(bytes / 2 ** 20).toFixed(0)} MiB): auditd raw with SYSCALL records and enriched, kern.log with BSD and RFC 3339 dates, dmesg, journald JSON, dbus-daemon, unrelated lines; file, exec, capability, network, signal and change_hat events of 60 Apache hats, 20 PHP-FPM pools and a worker, half with 6.12's \`class=\`. Each reader runs in its own process on the same file. ${ROUNDS} rounds, each running every reader once, back to back; the rates are the run with the median time, the ratios the median of the ${ROUNDS} ratios within a round, so that a slow spell of this shared machine counts against both sides. The reference counts only the lines it accepts: Debian 12's libapparmor 3.0.8 rejects every line with \`class=\` and the dbus/journald forms, so its \`events\` column is lower (and it does no work on the rejected half). The summarize rows are compared with parse_record plus grouping of the accepted records in a Python dict (the work summarize does); the parseLine and scanner rows with parse_record alone. The scanner row is the floor under parseLine: read, split and scan each line into the reusable record, no event built. The "repeating log" rows read a second file of the same size and mix in which the same ${REPEAT_EVERY.toLocaleString('en-US')} audit events come back over and over with later times, serials and dmesg stamps (a server that keeps hitting the same denials, as in days of complain mode): there the line memo recognizes most lines without parsing them; in the main log it finds about 66,000 distinct kinds of line in random order and helps little.`,
      '',
      markdownTable(table),
      '',
      `Groups found: ${streaming.groups ?? '?'} in ${count.toLocaleString('en-US')} lines, ${streamingSmall.groups ?? '?'} in ${small.toLocaleString('en-US')}: peak memory follows the groups, not the lines.`,
      referenceError !== undefined ? `\nReference not measured in every round: ${referenceError}.` : '',
      `Load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(', ')} on ${cpus().length} cores. "lines/s (CPU)" divides by the process's own CPU time (all its threads).`,
      '',
      `Parallel headroom of this machine: ${cores} scanner processes started together read ${scaling.toFixed(2)}× the lines per second of one alone (${cores}× would be perfect). A single reader already keeps more than one core partly busy (garbage collection, file reads), which is why the threaded row can gain more than this figure, but not twice.`,
      '',
      'Targets (issue 6): at least 500,000 lines/s and at least 4× the reference.',
].join('\n');
    process.stdout.write(`${markdownTable(table)}\n`);
    writeBenchSection(repoRoot, 'logs', markdown);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// child mode: node dist/bench/logs.js --child MODE FILE
if (process.argv[2] === '--child' && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [mode, file] = [process.argv[3]!, process.argv[4]!];
  const measured = mode === 'streaming' ? await childStreaming(file) : mode === 'threads' ? await childThreads(file) : mode === 'scan' ? await childScan(file) : await childParseLine(file);
  process.stdout.write(`${JSON.stringify(measured)}\n`);
}
