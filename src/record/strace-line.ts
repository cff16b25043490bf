// strace's `-o FILE` output with `-f -ttt -yy -qq`, one line at a time, and the merging of a call that
// another thread interrupted (`<unfinished ...>` … `<... NAME resumed>`). Pure: text in, records out.
// Nothing here throws on input: a line it cannot read becomes a diagnostic.

/** A finished system call: `PID TIME NAME(ARGS) = RESULT`. */
export interface StraceCall {
  readonly kind: 'call';
  readonly pid: number;
  /** Seconds since the epoch (with -ttt), or seconds since midnight (with -tt). */
  readonly time: number;
  readonly name: string;
  /** The arguments, split at top level, still in strace's notation. */
  readonly args: readonly string[];
  readonly result: StraceResult;
  readonly line: number;
}

export interface StraceResult {
  /** The return value; undefined for `?` (exit_group, a successful execve seen from another thread). */
  readonly value?: number;
  /** `ENOENT` in `= -1 ENOENT (No such file or directory)`. */
  readonly errno?: string;
  /** `-yy` annotation of a returned fd: `3</tmp/x>` → `/tmp/x` (decoded). */
  readonly annotation?: string;
}

/** `--- SIGCHLD {...} ---`: a signal delivered to PID. */
export interface StraceSignal { readonly kind: 'signal'; readonly pid: number; readonly time: number; readonly signal: string; readonly line: number }
/** `+++ exited with N +++` / `+++ killed by SIG +++`. */
export interface StraceExit { readonly kind: 'exit'; readonly pid: number; readonly time: number; readonly code?: number; readonly signal?: string; readonly line: number }

export type StraceRecord = StraceCall | StraceSignal | StraceExit;

export interface TraceDiagnostic {
  readonly line: number;
  readonly code: 'record/unreadable-line' | 'record/orphan-resumed' | 'record/truncated-string';
  readonly message: string;
}

const HEAD = /^(\d+)\s+(\d+(?:\.\d+)?|\d\d:\d\d:\d\d(?:\.\d+)?)\s+(.*)$/s;

function parseTime(text: string): number {
  if (!text.includes(':')) return Number(text);
  const [h, m, s] = text.split(':');
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

/** One output line: a record, a half of an interrupted call, or a diagnostic. */
export type ParsedLine =
  | StraceRecord
  | { readonly kind: 'unfinished'; readonly pid: number; readonly time: number; readonly name: string; readonly text: string; readonly line: number }
  | { readonly kind: 'resumed'; readonly pid: number; readonly time: number; readonly name: string; readonly text: string; readonly line: number }
  | { readonly kind: 'diagnostic'; readonly diagnostic: TraceDiagnostic }
  | { readonly kind: 'ignored' };

const unreadable = (line: number, why: string): ParsedLine => ({ kind: 'diagnostic', diagnostic: { line, code: 'record/unreadable-line', message: why } });

export function parseStraceLine(text: string, line: number): ParsedLine {
  if (text.trim() === '') return { kind: 'ignored' };
  const head = HEAD.exec(text);
  if (!head) return unreadable(line, `not a 'PID TIME ...' strace line: ${preview(text)}`);
  const pid = Number(head[1]);
  const time = parseTime(head[2]!);
  const rest = head[3]!;
  if (!Number.isSafeInteger(pid) || !Number.isFinite(time)) return unreadable(line, `bad pid or time: ${preview(text)}`);
  if (rest.startsWith('--- ')) {
    const signal = /^--- (SIG[A-Z0-9+]+|\S+)/.exec(rest)?.[1] ?? 'unknown';
    return { kind: 'signal', pid, time, signal, line };
  }
  if (rest.startsWith('+++ ')) {
    const exited = /^\+\+\+ exited with (-?\d+) \+\+\+/.exec(rest);
    if (exited) return { kind: 'exit', pid, time, code: Number(exited[1]), line };
    const killed = /^\+\+\+ killed by (SIG[A-Z0-9]+)/.exec(rest);
    if (killed) return { kind: 'exit', pid, time, signal: killed[1]!, line };
    return unreadable(line, `unknown process event: ${preview(rest)}`);
  }
  const resumed = /^<\.\.\. ([A-Za-z0-9_]+) resumed>(.*)$/s.exec(rest);
  if (resumed) return { kind: 'resumed', pid, time, name: resumed[1]!, text: resumed[2]!, line };
  const call = /^([A-Za-z0-9_]+)\((.*)$/s.exec(rest);
  if (!call) return unreadable(line, `not a system call: ${preview(rest)}`);
  const name = call[1]!;
  const body = call[2]!;
  if (/ <unfinished \.\.\.>\s*$/.test(body)) return { kind: 'unfinished', pid, time, name, text: body.replace(/ <unfinished \.\.\.>\s*$/, ''), line };
  return finishCall(pid, time, name, body, line);
}

/** `ARGS) = RESULT` (the text after `NAME(`) → a call. */
function finishCall(pid: number, time: number, name: string, body: string, line: number): StraceCall | { kind: 'diagnostic'; diagnostic: TraceDiagnostic } {
  const close = matchingClose(body);
  if (close < 0) return { kind: 'diagnostic', diagnostic: { line, code: 'record/unreadable-line', message: `${name}: unbalanced arguments` } };
  const result = parseResult(body.slice(close + 1));
  if (!result) return { kind: 'diagnostic', diagnostic: { line, code: 'record/unreadable-line', message: `${name}: no '= RESULT'` } };
  return { kind: 'call', pid, time, name, args: splitArguments(body.slice(0, close)), result, line };
}

/** Index of the `)` that closes the argument list (top level, outside strings and annotations), or -1. */
function matchingClose(body: string): number {
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '"') { i = skipString(body, i); if (i < 0) return -1; continue; }
    if (c === '/' && body[i + 1] === '*') { const end = body.indexOf('*/', i + 2); if (end < 0) return -1; i = end + 1; continue; }
    if (c === '(' || c === '[' || c === '{' || isAnnotationOpen(body, i)) depth++;
    else if (c === ']' || c === '}' || isAnnotationClose(body, i, depth)) depth--;
    else if (c === ')') { if (depth === 0) return i; depth--; }
  }
  return -1;
}

/** `<` opens a -yy annotation after an fd number or AT_FDCWD; elsewhere (`<` in comparisons) it does not. */
function isAnnotationOpen(text: string, i: number): boolean {
  return text[i] === '<' && i > 0 && /[0-9A-Za-z_]/.test(text[i - 1]!) && text[i + 1] !== ' ' && text[i + 1] !== '=';
}

/** `>` closes an annotation, except the arrow of a connected socket (`TCP:[a->b]`). */
function isAnnotationClose(text: string, i: number, depth: number): boolean {
  return text[i] === '>' && depth > 0 && text[i - 1] !== '-';
}

/** Index of the closing quote of the string starting at `start`, or -1. */
function skipString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') { i++; continue; }
    if (text[i] === '"') return i;
  }
  return -1;
}

const RESULT = /^\s*=\s*(\?|-?\d+|0x[0-9a-f]+)(?:<(.*)>)?(?:\s+([A-Z][A-Z0-9_]+)\b.*)?\s*$/s;

function parseResult(text: string): StraceResult | undefined {
  const match = RESULT.exec(text);
  if (!match) return undefined;
  const raw = match[1]!;
  const value = raw === '?' ? undefined : raw.startsWith('0x') ? Number.parseInt(raw, 16) : Number(raw);
  return {
    ...(value === undefined ? {} : { value }),
    ...(match[3] && value !== undefined && value < 0 ? { errno: match[3] } : {}),
    ...(match[2] !== undefined ? { annotation: decodeAnnotation(match[2]) } : {}),
  };
}

/** Split an argument list at its top-level commas. */
export function splitArguments(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') { const end = skipString(text, i); if (end < 0) break; i = end; continue; }
    if (c === '/' && text[i + 1] === '*') { const end = text.indexOf('*/', i + 2); if (end < 0) break; i = end + 1; continue; }
    if (c === '(' || c === '[' || c === '{' || isAnnotationOpen(text, i)) depth++;
    else if (c === ')' || c === ']' || c === '}' || isAnnotationClose(text, i, depth)) depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) { args.push(text.slice(start, i).trim()); start = i + 1; }
  }
  const last = text.slice(start).trim();
  if (last !== '' || args.length) args.push(last);
  return args;
}

/** Joins the halves of interrupted calls, per pid; everything else passes through. */
export class StraceAssembler {
  private readonly pending = new Map<number, { name: string; text: string; line: number }>();

  /** The complete record this line finishes, if any, or a diagnostic. */
  push(parsed: ParsedLine): StraceRecord | TraceDiagnostic | undefined {
    switch (parsed.kind) {
      case 'ignored': return undefined;
      case 'diagnostic': return parsed.diagnostic;
      case 'unfinished':
        this.pending.set(parsed.pid, { name: parsed.name, text: parsed.text, line: parsed.line });
        return undefined;
      case 'resumed': {
        const start = this.pending.get(parsed.pid);
        if (!start || start.name !== parsed.name) {
          return { line: parsed.line, code: 'record/orphan-resumed', message: `<... ${parsed.name} resumed> of pid ${parsed.pid} without its start` };
        }
        this.pending.delete(parsed.pid);
        const done = finishCall(parsed.pid, parsed.time, parsed.name, start.text + parsed.text, start.line);
        return done.kind === 'diagnostic' ? done.diagnostic : done;
      }
      case 'exit':
        // A thread that exits inside a call (exit_group from another thread, execve) never resumes it.
        this.pending.delete(parsed.pid);
        return parsed;
      default: return parsed;
    }
  }
}

// ---------- values in strace's notation ----------

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { n: 10, t: 9, r: 13, v: 11, f: 12, a: 7, b: 8, e: 27, '\\': 92, '"': 34, "'": 39, '<': 60, '>': 62, '|': 124 };

/** Decode C escapes (`\"`, `\\`, `\n`, `\xHH`, octal) to bytes, then UTF-8 (invalid bytes become U+FFFD). */
export function decodeEscapes(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\' || i + 1 >= text.length) { for (const b of new TextEncoder().encode(c)) bytes.push(b); continue; }
    const next = text[i + 1]!;
    if (next === 'x' && /^[0-9a-fA-F]{1,2}/.test(text.slice(i + 2))) {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 2))![0];
      bytes.push(Number.parseInt(hex, 16));
      i += 1 + hex.length;
    } else if (/[0-7]/.test(next)) {
      const oct = /^[0-7]{1,3}/.exec(text.slice(i + 1))![0];
      bytes.push(Number.parseInt(oct, 8) & 0xff);
      i += oct.length;
    } else {
      bytes.push(SIMPLE_ESCAPES[next] ?? next.charCodeAt(0) & 0xff);
      i += 1;
    }
  }
  return new TextDecoder('utf-8').decode(new Uint8Array(bytes));
}

/** A quoted string argument: its value and whether strace cut it (`"..."...`). */
export function stringArgument(arg: string | undefined): { readonly value: string; readonly truncated: boolean } | undefined {
  if (arg === undefined || !arg.startsWith('"')) return undefined;
  const end = skipString(arg, 0);
  if (end < 0) return undefined;
  return { value: decodeEscapes(arg.slice(1, end)), truncated: arg.slice(end + 1).startsWith('...') };
}

/** An `-yy` annotation's text → the path or socket description (without a device suffix like `<char 1:3>`). */
export function decodeAnnotation(text: string): string {
  const device = /<(?:char|block) \d+:\d+>$/.exec(text);
  return decodeEscapes(device ? text.slice(0, device.index) : text);
}

/** An fd argument: `3</tmp>`, `AT_FDCWD</home/x>`, `3<TCP:[...]>`, `3` → its number (AT_FDCWD = -100) and annotation. */
export function fdArgument(arg: string | undefined): { readonly fd: number; readonly annotation?: string } | undefined {
  if (arg === undefined) return undefined;
  const match = /^(AT_FDCWD|-?\d+)(?:<(.*)>)?$/s.exec(arg.trim());
  if (!match) return undefined;
  const fd = match[1] === 'AT_FDCWD' ? -100 : Number(match[1]);
  return match[2] !== undefined ? { fd, annotation: decodeAnnotation(match[2]) } : { fd };
}

/** `O_WRONLY|O_CREAT|O_TRUNC` → the set of names; numbers stay as their text. */
export function flagSet(arg: string | undefined): ReadonlySet<string> {
  return new Set((arg ?? '').split('|').map((f) => f.trim()).filter(Boolean));
}

function preview(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
