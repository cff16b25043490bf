// `hatter logs`: read AppArmor audit lines of every format; print grouped events, events as JSON, the
// libapparmor test-suite view, or follow a growing log.
import { createReadStream } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { constants } from 'node:fs';
import { basename } from 'node:path';
import { formatDiagnostic } from '../policy/index.js';
import {
  addStats, EventReader, eventFilter, eventToJson, formatAalogparse, isMalformed, isoTimestamp, KeptEvents,
  mergeSummarizerStates, objectOf, newReadStats, parseSince, Summarizer, SummarySink,
  type EventFilterSpec,
  type AuditEvent, type EventGroup, type EventType, type Flood, type ReadStats, type SkippedLine,
  type Summary,
} from '../logs/index.js';
import { followFile, summarizeFileInParts } from '../logs-node/index.js';
import { EXIT_FINDING, EXIT_OK, EXIT_USAGE, parseOptions, UsageError, type CliIo, type Command } from './io.js';
import { Progress, readingProgress } from './progress.js';

const help = `hatter logs: read AppArmor audit logs of every format; group, summarize, follow

Usage: hatter logs [FILE...|-] [OPTIONS]

Reads auditd (raw and enriched), syslog/kern.log, dmesg, journalctl -o json, dbus-daemon and the old
REJECTING/PERMITTING text format, in any mix. Without FILE, reads stdin when it is a pipe, else
/var/log/audit/audit.log, /var/log/kern.log or /var/log/syslog, whichever exists.

Output (default): a table of grouped events, floods first; a flood is the same event more than
--flood times in one second, or a change_hat loop into a missing hat.

Options:
  --json                one normalized event per line (flat; fields in docs/logs.md)
  --summary             the grouped summary (the default table; with --json, as one JSON object)
  --format FORMAT       table | json | summary-json | aalogparse (libapparmor's test-suite format,
                        one record per FILE, as in its log-tests/*.out)
  --since TIME          only events at or after TIME: 2026-11-22, 2026-11-22T10:00:00Z, @EPOCH,
                        or a duration ago: 90s, 15m, 2h, 3d
  --profile GLOB        only events whose label matches (with its hats): apache2, 'apache2//*',
                        '/usr/sbin/*', '**php**'
  --type TYPE           only DENIED, ALLOWED, AUDIT, KILLED, HINT, STATUS or ERROR (repeatable)
  --follow, -f          keep reading as the file grows (rotation and truncation handled) or stdin
                        stays open; prints each event as it arrives and floods as they start
  --flood N             events per second that make a flood (default 50)
  --limit N             table rows to print (default 100; 0 for all)
  --width N             fit the table in N columns, shortening long profiles and objects in the
                        middle with '…' (default: the terminal's width on a terminal, else 0: no limit)
  --no-progress         no progress line on stderr (it is shown only when stderr is a terminal,
                        while reading files and stdin; never with --follow)
  -h, --help            this help

Examples:
  hatter logs /var/log/audit/audit.log
  hatter logs --since 1h --profile apache2 /var/log/kern.log
  journalctl -k -o json | hatter logs --json -
  hatter logs --summary --json /var/log/syslog > summary.json
  hatter logs --follow --profile 'php-fpm//*' /var/log/audit/audit.log
  hatter logs --format aalogparse testcase01.in

Exit codes: 0 no denials among the events shown; 1 at least one DENIED or KILLED event (or a flood);
2 usage error or unreadable input.
`;

const OPTIONS = {
  json: { type: 'boolean' },
  summary: { type: 'boolean' },
  format: { type: 'string' },
  since: { type: 'string' },
  profile: { type: 'string' },
  type: { type: 'string', multiple: true },
  follow: { type: 'boolean', short: 'f' },
  flood: { type: 'string' },
  width: { type: 'string' },
  limit: { type: 'string' },
  'no-progress': { type: 'boolean' },
} as const;

type Format = 'table' | 'json' | 'summary-json' | 'aalogparse';

/** The filter as data (threads rebuild it) and as the predicate. */
interface Filter {
  readonly spec: EventFilterSpec;
  readonly accepts: (event: AuditEvent) => boolean;
}

const EVENT_TYPE_NAMES = new Set(['DENIED', 'ALLOWED', 'AUDIT', 'KILLED', 'HINT', 'STATUS', 'ERROR']);

function positiveInt(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} needs a whole number, got '${text}'`);
  return Number(text);
}

export const command: Command = {
  name: 'logs',
  summary: 'read AppArmor audit logs of every format; group, summarize, follow',
  help,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, OPTIONS);
    let format: Format;
    if (values.format !== undefined) {
      if (!['table', 'json', 'summary-json', 'aalogparse'].includes(values.format)) {
        throw new UsageError(`--format must be table, json, summary-json or aalogparse, not '${values.format}'`);
      }
      format = values.format as Format;
    } else if (values.json) {
      format = values.summary ? 'summary-json' : 'json';
    } else {
      format = 'table';
    }
    const floodPerSecond = positiveInt(values.flood, 'flood', 50);
    const limit = positiveInt(values.limit, 'limit', 100);
    const terminalWidth = io.stdoutIsTTY ? Number(io.env.COLUMNS) || process.stdout.columns || 0 : 0;
    const width = positiveInt(values.width, 'width', terminalWidth);
    let since: number | undefined;
    if (values.since !== undefined) {
      since = parseSince(values.since);
      if (since === undefined) throw new UsageError(`--since: cannot read '${values.since}' (try 2026-11-22, 2026-11-22T10:00:00Z, @1700000000, 2h)`);
    }
    let types: Set<EventType> | undefined;
    if (values.type) {
      types = new Set();
      for (const t of values.type.flatMap((v) => v.split(','))) {
        const upper = t.trim().toUpperCase();
        if (!EVENT_TYPE_NAMES.has(upper)) throw new UsageError(`--type: unknown event type '${t}' (DENIED, ALLOWED, AUDIT, KILLED, HINT, STATUS, ERROR)`);
        types.add(upper as EventType);
      }
    }
    const spec: EventFilterSpec = {
      ...(since !== undefined ? { since } : {}),
      ...(values.profile !== undefined ? { profile: values.profile } : {}),
      ...(types ? { types: [...types] } : {}),
    };
    const filter: Filter = { spec, accepts: eventFilter(spec) };

    if (format === 'aalogparse') {
      if (positionals.length === 0) throw new UsageError('--format aalogparse needs at least one FILE');
      return aalogparse(positionals, io);
    }

    let inputs = positionals;
    if (inputs.length === 0) inputs = await defaultInputs(io);
    if (values.follow) {
      if (inputs.length !== 1) throw new UsageError('--follow reads exactly one FILE (or - for stdin)');
      return follow(inputs[0]!, io, format, filter, floodPerSecond);
    }
    // JSON events stream to stdout while reading: on the same terminal a progress line would cut into them
    const progress = new Progress(io, values['no-progress'] !== true && !(format === 'json' && io.stdoutIsTTY));
    return readAll(inputs, io, format, filter, floodPerSecond, limit, width, progress);
  },
};

/** The logs to read when none is named: stdin when it is a pipe, else the first readable system log (also hatter learn's default). */
export async function defaultInputs(io: CliIo): Promise<string[]> {
  if (!(io.stdin as { isTTY?: boolean }).isTTY) return ['-'];
  for (const candidate of ['/var/log/audit/audit.log', '/var/log/kern.log', '/var/log/syslog']) {
    try {
      await access(candidate, constants.R_OK);
      return [candidate];
    } catch { /* next */ }
  }
  throw new UsageError('no FILE given and none of /var/log/audit/audit.log, /var/log/kern.log, /var/log/syslog is readable');
}

async function aalogparse(files: string[], io: CliIo): Promise<number> {
  let code = EXIT_OK;
  for (const file of files) {
    let text: string;
    try {
      text = file === '-' ? (await readStream(io.stdin)).toString('utf8') : await readFile(file, 'utf8');
    } catch (error) {
      io.stderr.write(`hatter logs: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`);
      code = EXIT_USAGE;
      continue;
    }
    io.stdout.write(formatAalogparse(text, file === '-' ? 'stdin' : basename(file)));
  }
  return code;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

const MAX_DIAGNOSTICS = 10;

/** The warning printed for a malformed line. */
function skippedDiagnostic(file: string, skipped: SkippedLine): string {
  return `${formatDiagnostic({ file, line: skipped.line, col: 1, severity: 'warning', code: `logs/${skipped.reason}`, message: `line skipped: ${skipped.message}` })}\n`;
}

/**
 * A regular file at least this large is summarized by one thread per core (logs-node/parallel.ts); smaller
 * ones are not worth starting threads for. The summary is the same either way.
 */
function parallelMinBytes(io: CliIo): number {
  return Number(io.env.HATTER_LOGS_PARALLEL_MIN_BYTES) || 32 * 1024 * 1024;
}
const PARALLEL_PARTS = Math.min(4, availableParallelism());

/** The size of a regular file, or 0 (not one, or unreadable: the sequential path reports it). */
async function regularFileSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : 0;
  } catch {
    return 0;
  }
}

async function readAll(inputs: string[], io: CliIo, format: Format, filter: Filter, floodPerSecond: number, limit: number, width: number, progress: Progress): Promise<number> {
  const out = new Output(io);
  let summarizer = new Summarizer({ floodPerSecond });
  const stats = newReadStats();
  let diagnostics = 0;
  let inputError = false;
  let denied = false;
  for (const input of inputs) {
    const file = input === '-' ? 'stdin' : input;
    const size = input === '-' ? 0 : await regularFileSize(input);
    const name = basename(file);
    if (format !== 'json' && size >= parallelMinBytes(io) && PARALLEL_PARTS > 1) {
      try {
        let bytes = 0;
        let lines = 0;
        const onProgress = (moreBytes: number, moreLines: number) => {
          bytes += moreBytes;
          lines += moreLines;
          progress.show(() => readingProgress(name, bytes, size, lines));
        };
        const part = await summarizeFileInParts(input, size, { file, filter: filter.spec, floodPerSecond, parts: PARALLEL_PARTS, maxSamples: MAX_DIAGNOSTICS, onProgress });
        summarizer = Summarizer.fromState(mergeSummarizerStates(summarizer.state(), part.state), { floodPerSecond });
        addStats(stats, part.stats);
        for (const skipped of part.samples) {
          if (diagnostics++ < MAX_DIAGNOSTICS) progress.warn(skippedDiagnostic(file, skipped));
        }
        diagnostics += part.malformed - part.samples.length;
        denied ||= part.denied;
      } catch (error) {
        progress.warn(`hatter logs: cannot read ${input}: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`);
        inputError = true;
      }
      continue;
    }
    // JSON: each kept event printed; otherwise read straight into the summary (SummarySink)
    const kept = format === 'json' ? new KeptEvents(filter.accepts, (event) => out.write(`${JSON.stringify(eventToJson(event))}\n`)) : undefined;
    const sink = kept === undefined ? new SummarySink(summarizer, filter.spec) : undefined;
    const reader = new EventReader({
      file,
      stats,
      sink,
      onSkip: (skipped) => {
        if (!isMalformed(skipped)) return;
        if (diagnostics++ < MAX_DIAGNOSTICS) progress.warn(skippedDiagnostic(file, skipped));
      },
    });
    try {
      const stream = input === '-' ? io.stdin : createReadStream(input, { highWaterMark: 1 << 20 });
      let bytes = 0;
      const linesBefore = stats.lines;
      for await (const chunk of stream as AsyncIterable<Buffer | string>) {
        bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
        const events = reader.push(chunk);
        kept?.take(events);
        progress.show(() => readingProgress(name, bytes, size, stats.lines - linesBefore));
        await out.flush();
        if (out.closed) break;
      }
      const events = reader.end();
      kept?.take(events);
    } catch (error) {
      progress.warn(`hatter logs: cannot read ${input}: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`);
      inputError = true;
    }
    denied ||= (kept ?? sink)!.denied;
  }
  progress.clear();
  if (diagnostics > MAX_DIAGNOSTICS) io.stderr.write(`hatter logs: ... and ${diagnostics - MAX_DIAGNOSTICS} more skipped lines\n`);
  if (format !== 'json') {
    const summary = summarizer.result();
    if (format === 'summary-json') out.write(`${JSON.stringify(summaryToJson(summary, stats), null, 2)}\n`);
    else out.write(renderTable(summary, stats, limit, width));
    if (summary.floods.length) denied = true;
  }
  await out.flush(true);
  if (inputError) return EXIT_USAGE;
  return denied ? EXIT_FINDING : EXIT_OK;
}

async function follow(input: string, io: CliIo, format: Format, filter: Filter, floodPerSecond: number): Promise<number> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const summarizer = new Summarizer({ floodPerSecond });
  const out = new Output(io);
  const file = input === '-' ? 'stdin' : input;
  const reader = new EventReader({
    file,
    immediate: true,
    onSkip: (skipped) => {
      if (isMalformed(skipped)) {
        io.stderr.write(skippedDiagnostic(file, skipped));
      }
    },
  });
  const kept = new KeptEvents(filter.accepts, (event) => {
    const flood = summarizer.add(event);
    if (format === 'json') out.write(`${JSON.stringify(eventToJson(event))}\n`);
    else out.write(`${eventLine(event)}\n`);
    if (flood) out.write(format === 'json' ? `${JSON.stringify({ flood: floodToJson(flood) })}\n` : `!! ${flood.message}\n`);
  });
  try {
    // a partial last line of a rotated or truncated file is not glued to the next file's first line
    const source = input === '-'
      ? (io.stdin as AsyncIterable<Buffer | string>)
      : followFile(input, { signal: controller.signal, onReopen: () => kept.take(reader.end()) });
    for await (const chunk of source) {
      kept.take(reader.push(chunk));
      await out.flush(true);
      if (controller.signal.aborted || out.closed) break;
    }
    kept.take(reader.end());
    await out.flush(true);
  } catch (error) {
    io.stderr.write(`hatter logs: cannot read ${input}: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`);
    return EXIT_USAGE;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
  return EXIT_OK;
}

/**
 * Buffered stdout that respects back-pressure, so `--json` over a million events into a slow pipe
 * does not pile up in memory, and a closed pipe (`| head`) ends quietly.
 */
class Output {
  private parts: string[] = [];
  private size = 0;
  closed = false;

  constructor(private readonly io: CliIo) {
    const stream = io.stdout as Partial<NodeJS.WritableStream>;
    stream.on?.('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') this.closed = true;
    });
  }

  write(text: string): void {
    this.parts.push(text);
    this.size += text.length;
  }

  /** Flush when enough is buffered (or always, with force); waits for the pipe to drain. */
  async flush(force = false): Promise<void> {
    if (!force && this.size < 1 << 16) return;
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (this.closed) return;
    const stream = this.io.stdout as Partial<NodeJS.WritableStream> & { write(chunk: string): unknown };
    if (stream.write(text) === false && stream.once) {
      await new Promise<void>((resolve) => {
        stream.once!('drain', resolve);
        stream.once!('error', () => resolve());
        stream.once!('close', () => resolve());
      });
    }
  }
}

// --- rendering ---

function isoTime(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return isoTimestamp(ms).replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function permsOf(group: { type: EventType; requested?: { raw: string; perms: readonly string[] }; denied?: { raw: string; perms: readonly string[] }; owner?: boolean }): string {
  const set = group.type === 'DENIED' || group.type === 'KILLED' ? group.denied ?? group.requested : group.requested ?? group.denied;
  if (!set) return '';
  const text = set.perms.some((p) => p.length > 1) ? set.perms.join(',') : set.perms.join('');
  return group.owner ? `owner ${text}` : text;
}

function eventLine(e: AuditEvent): string {
  const ms = e.time ? e.time.epoch * 1000 + e.time.millis : undefined;
  const parts = [isoTime(ms), e.type, e.label?.text ?? '-', e.operation ?? '-'];
  const object = objectOf(e);
  if (object) parts.push(object);
  const perms = permsOf({ type: e.type, ...(e.requested ? { requested: e.requested } : {}), ...(e.denied ? { denied: e.denied } : {}), ...(e.owner !== undefined ? { owner: e.owner } : {}) });
  if (perms) parts.push(perms);
  if (e.comm !== undefined) parts.push(`comm=${e.comm}`);
  if (e.pid !== undefined) parts.push(`pid=${e.pid}`);
  if (e.info !== undefined) parts.push(`info="${e.info}"`);
  return parts.join('  ');
}

/** Columns that give way, in this order, when the table is wider than asked; never below these widths. */
const SHRINKABLE: readonly { readonly column: number; readonly min: number }[] = [{ column: 5, min: 24 }, { column: 2, min: 20 }];

/** Shorten in the middle: a path's start and its file name both stay readable. */
function shorten(text: string, width: number): string {
  if (text.length <= width) return text;
  const tail = Math.floor((width - 1) / 2);
  return `${text.slice(0, width - 1 - tail)}…${tail > 0 ? text.slice(text.length - tail) : ''}`;
}

function renderTable(summary: Summary, stats: ReadStats, limit: number, maxWidth = 0): string {
  const out: string[] = [];
  for (const flood of summary.floods) out.push(`!! FLOOD  ${flood.message}`);
  if (summary.floods.length) out.push('');
  const shown = limit === 0 ? summary.groups : summary.groups.slice(0, limit);
  if (shown.length) {
    const header = ['COUNT', 'TYPE', 'PROFILE', 'CLASS', 'OPERATION', 'OBJECT', 'PERMS', 'FIRST', 'LAST'];
    const rows = shown.map((g: EventGroup) => [
      g.count.toLocaleString('en-US'), g.type, g.label ?? '-', g.class ?? '-', g.operation ?? '-', g.object || '-',
      permsOf(g) || '-', isoTime(g.first), isoTime(g.last),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    let excess = maxWidth > 0 ? widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1) - maxWidth : 0;
    let shortened = false;
    for (const { column, min } of SHRINKABLE) {
      if (excess <= 0) break;
      const cut = Math.min(excess, Math.max(0, widths[column]! - Math.max(min, header[column]!.length)));
      if (cut === 0) continue;
      widths[column]! -= cut;
      excess -= cut;
      for (const row of rows) {
        if (row[column]!.length > widths[column]!) { row[column] = shorten(row[column]!, widths[column]!); shortened = true; }
      }
    }
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padStart(widths[i]!) : i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
    out.push(line(header));
    for (const row of rows) out.push(line(row));
    if (shown.length < summary.groups.length) out.push(`... ${summary.groups.length - shown.length} more groups (--limit 0 shows all)`);
    if (shortened) out.push(`(long profiles and objects shortened with '…' to fit ${maxWidth} columns; --width 0 shows them whole)`);
    out.push('');
  }
  const types = Object.entries(summary.byType).map(([t, n]) => `${n.toLocaleString('en-US')} ${t}`).join(', ');
  let footer = `${summary.events.toLocaleString('en-US')} events in ${summary.groups.length.toLocaleString('en-US')} groups`;
  if (types) footer += ` (${types})`;
  if (summary.first !== undefined) footer += `, ${isoTime(summary.first)} to ${isoTime(summary.last)}`;
  footer += `; ${stats.lines.toLocaleString('en-US')} lines read`;
  const skipped = Object.entries(stats.skipped).filter(([reason]) => reason !== 'empty');
  if (skipped.length) footer += `, skipped: ${skipped.map(([reason, n]) => `${n!.toLocaleString('en-US')} ${reason}`).join(', ')}`;
  if (stats.invalidUtf8) footer += `, ${stats.invalidUtf8} with invalid UTF-8 (read leniently)`;
  out.push(footer);
  return `${out.join('\n')}\n`;
}

function floodToJson(flood: Flood): Record<string, unknown> {
  return { ...flood, group: undefined, since: flood.since === undefined ? undefined : isoTimestamp(flood.since) };
}

function summaryToJson(summary: Summary, stats: ReadStats): Record<string, unknown> {
  return {
    events: summary.events,
    byType: summary.byType,
    first: summary.first === undefined ? undefined : isoTimestamp(summary.first),
    last: summary.last === undefined ? undefined : isoTimestamp(summary.last),
    floods: summary.floods.map(floodToJson),
    groups: summary.groups.map((g) => ({
      count: g.count,
      type: g.type,
      label: g.label,
      profile: g.profile,
      hat: g.hat,
      class: g.class,
      operation: g.operation,
      object: g.object,
      requested: g.requested?.raw,
      denied: g.denied?.raw,
      requestedPerms: g.requested?.perms,
      deniedPerms: g.denied?.perms,
      owner: g.owner,
      comms: g.comms,
      peakPerSecond: g.peakPerSecond,
      first: g.first === undefined ? undefined : isoTimestamp(g.first),
      last: g.last === undefined ? undefined : isoTimestamp(g.last),
      file: g.file,
      firstLine: g.firstLine,
      lastLine: g.lastLine,
    })),
    lines: stats.lines,
    skipped: stats.skipped,
    invalidUtf8: stats.invalidUtf8,
  };
}
