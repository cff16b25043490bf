// The one user-facing problem type, shared by every part of hatter (policy, web configs, server config,
// CLI). Anything a user or attacker can feed in ends as Diagnostics in a returned result, never a throw.

export type Severity = 'error' | 'warning' | 'info';

/** A place in a source file. Lines and columns are 1-based; columns count UTF-16 code units. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface Diagnostic extends SourceLocation {
  /** Stable, area-prefixed kebab code, e.g. `syntax/unclosed-block`; documented in docs/diagnostics.md. */
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  /** Offset (UTF-16 code units) of the start in the file's text, when known. */
  readonly offset?: number;
  /** Length of the offending text, when known. */
  readonly length?: number;
  /** A fix suggestion derived from data ("did you mean @{HOME}?"). */
  readonly hint?: string;
  /** Where this file was included from, outermost first (file:line of each include statement). */
  readonly includeChain?: readonly SourceLocation[];
}

/** Maps offsets in a text to 1-based line and column, in O(log lines) per lookup. */
export class LineIndex {
  private readonly starts: number[];

  constructor(text: string) {
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) starts.push(i + 1);
    }
    this.starts = starts;
  }

  location(offset: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.starts[lo]! + 1 };
  }

  get lineCount(): number {
    return this.starts.length;
  }
}

export function makeDiagnostic(
  file: string,
  index: LineIndex,
  offset: number,
  length: number,
  severity: Severity,
  code: string,
  message: string,
  extra: { hint?: string; includeChain?: readonly SourceLocation[] } = {},
): Diagnostic {
  const { line, col } = index.location(offset);
  return { file, line, col, offset, length, severity, code, message, ...extra };
}

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/** Text quoted from user input must not reach a terminal raw (ESC sequences) or break the one-line form. */
function printable(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** `file:line:col: severity: message [code]`, then the include chain and hint on indented lines. */
export function formatDiagnostic(d: Diagnostic): string {
  let text = `${printable(d.file)}:${d.line}:${d.col}: ${d.severity}: ${printable(d.message)} [${d.code}]`;
  for (const via of [...(d.includeChain ?? [])].reverse()) {
    text += `\n  included from ${via.file}:${via.line}:${via.col}`;
  }
  if (d.hint) text += `\n  hint: ${printable(d.hint)}`;
  return text;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** The JSON shape scripts read (`--json` outputs). */
export function diagnosticToJson(d: Diagnostic): Record<string, unknown> {
  const json: Record<string, unknown> = {
    file: d.file, line: d.line, col: d.col, severity: d.severity, code: d.code, message: d.message,
  };
  if (d.hint) json.hint = d.hint;
  if (d.includeChain?.length) json.includeChain = d.includeChain;
  return json;
}

/**
 * Decode a policy or config file. UTF-8 when the bytes are valid UTF-8 (the common case, and what
 * names in JSON output should show); otherwise latin1, which maps every byte to one code unit so that
 * printing with `encodeSource` gives back the exact bytes.
 */
export function decodeSource(bytes: Uint8Array): { text: string; encoding: 'utf8' | 'latin1' } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), encoding: 'utf8' };
  } catch {
    return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'), encoding: 'latin1' };
  }
}

export function encodeSource(text: string, encoding: 'utf8' | 'latin1'): Buffer {
  return Buffer.from(text, encoding);
}
