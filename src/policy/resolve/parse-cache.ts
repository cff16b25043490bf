// Parse each file once per run: abstractions and tunables are included by many profiles.
import { LineIndex, decodeSource, type Diagnostic } from '../diagnostic/index.js';
import { parsePolicy } from '../syntax/index.js';
import { buildPolicyModel } from '../model/index.js';
import type { Policy } from '../model/index.js';

export interface ParsedFile {
  readonly path: string;
  /** How diagnostics name the file (the path as the user wrote it for the input). */
  readonly display: string;
  readonly text: string;
  readonly policy: Policy;
  /** Syntax diagnostics of this file (reported once per file per policy). */
  readonly diagnostics: readonly Diagnostic[];
  readonly lines: LineIndex;
}

/** Parsed files by absolute path; share one between the files of a `hatter check` run. */
export interface ParseCache {
  get(path: string): ParsedFile | undefined;
  set(path: string, file: ParsedFile): void;
}

export function createParseCache(): ParseCache {
  return new Map<string, ParsedFile>();
}

/** Parse policy bytes (UTF-8, else latin1) into the model, with its syntax diagnostics. */
export function parseBytes(bytes: Uint8Array, path: string, displayName = path): ParsedFile {
  const { text } = decodeSource(bytes);
  return parseText(text, path, displayName);
}

export function parseText(text: string, path: string, displayName = path): ParsedFile {
  const lines = new LineIndex(text);
  try {
    const syntax = parsePolicy(text, displayName);
    const model = buildPolicyModel(syntax);
    const diagnostics = [...syntax.diagnostics, ...model.diagnostics];
    return { path, display: displayName, text, policy: model.policy, diagnostics, lines };
  } catch (error) {
    // The parser promises never to throw; if it does (e.g. a stack overflow on pathological input),
    // the file is rejected with a diagnostic instead of crashing the whole check.
    const reason = error instanceof Error ? error.message : String(error);
    const empty = { kind: 'Policy', file: displayName, items: [], span: { file: displayName, offset: 0, length: text.length } } as unknown as Policy;
    return {
      path, display: displayName, text, policy: empty, lines,
      diagnostics: [{ file: displayName, line: 1, col: 1, severity: 'error', code: 'resolve/unparsable-file', message: `this file could not be parsed (${reason}); it is too large or too deeply structured` }],
    };
  }
}
