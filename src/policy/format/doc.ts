// A tiny document IR (after Prettier's builders) and its printer. Policy is one statement per line,
// so there is no width fitting: the formatter decides the lines, the printer does indentation,
// trailing comments and whitespace hygiene.

export type Doc =
  | string
  | { readonly kind: 'concat'; readonly parts: readonly Doc[] }
  | { readonly kind: 'indent'; readonly contents: Doc }
  | { readonly kind: 'hardline' }
  /** Text that goes at the end of the current line, before the next line break (trailing comments). */
  | { readonly kind: 'lineSuffix'; readonly text: string }
  /** Source text printed exactly (may span lines; only its first line gets the current indentation). */
  | { readonly kind: 'verbatim'; readonly text: string };

export const hardline: Doc = { kind: 'hardline' };

export function concat(...parts: Doc[]): Doc {
  return { kind: 'concat', parts };
}

export function indent(...parts: Doc[]): Doc {
  return { kind: 'indent', contents: parts.length === 1 ? parts[0]! : concat(...parts) };
}

export function lineSuffix(text: string): Doc {
  return { kind: 'lineSuffix', text };
}

export function verbatim(text: string): Doc {
  return { kind: 'verbatim', text };
}

export function join(separator: Doc, docs: readonly Doc[]): Doc {
  const parts: Doc[] = [];
  docs.forEach((d, i) => {
    if (i) parts.push(separator);
    parts.push(d);
  });
  return { kind: 'concat', parts };
}

export interface PrintOptions {
  /** Spaces per indentation level (default 2). */
  readonly indentWidth?: number;
}

/** Lay out a Doc as text. Iterative (explicit stack), so deeply nested documents cannot overflow the JS stack. */
export function printDoc(doc: Doc, options: PrintOptions = {}): string {
  const unit = ' '.repeat(options.indentWidth ?? 2);
  const out: string[] = [];
  let lineStart = true;
  let suffix: string[] = [];
  const stack: { doc: Doc; level: number }[] = [{ doc, level: 0 }];
  const endLine = () => {
    if (suffix.length) {
      out.push(lineStart ? suffix.join(' ') : ` ${suffix.join(' ')}`);
      suffix = [];
    }
  };
  while (stack.length) {
    const { doc: d, level } = stack.pop()!;
    if (typeof d === 'string') {
      if (!d) continue;
      if (lineStart) { out.push(unit.repeat(level)); lineStart = false; }
      out.push(d);
      continue;
    }
    switch (d.kind) {
      case 'concat':
        for (let i = d.parts.length - 1; i >= 0; i--) stack.push({ doc: d.parts[i]!, level });
        break;
      case 'indent':
        stack.push({ doc: d.contents, level: level + 1 });
        break;
      case 'hardline':
        endLine();
        out.push('\n');
        lineStart = true;
        break;
      case 'lineSuffix':
        if (lineStart) { out.push(unit.repeat(level)); lineStart = false; out.push(d.text); }
        else suffix.push(d.text);
        break;
      case 'verbatim':
        if (!d.text) break;
        if (lineStart) { out.push(unit.repeat(level)); lineStart = false; }
        out.push(d.text);
        break;
    }
  }
  endLine();
  // Indentation is written lazily before text, so formatted lines never end in blanks.
  return out.join('');
}
