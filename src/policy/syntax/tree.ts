// Green/red tree (rowan style). Green elements are immutable and position-free; a SyntaxNode is a
// cursor that adds the absolute offset and the parent on demand.
import type { NodeKind, SyntaxKind, TokenKind } from './kinds.js';

export interface GreenToken {
  readonly kind: TokenKind;
  readonly text: string;
}

export interface GreenNode {
  readonly kind: NodeKind;
  /** Summed text length of the subtree (UTF-16 code units). */
  readonly width: number;
  readonly children: readonly GreenElement[];
  /** Whether the subtree holds an Error node, an UnknownRule or an Unknown token (computed once, when built). */
  readonly containsErrors: boolean;
}

export type GreenElement = GreenNode | GreenToken;

export function isGreenNode(element: GreenElement): element is GreenNode {
  return (element as GreenNode).children !== undefined;
}

export function elementWidth(element: GreenElement): number {
  return isGreenNode(element) ? element.width : (element as GreenToken).text.length;
}

/**
 * Builds a green tree from the parser's verbs: startNode, token, finishNode, plus checkpoint and
 * startNodeAt to wrap already-emitted children in a node decided later. Iterative, so tree depth
 * never costs JS stack.
 */
export class GreenBuilder {
  private readonly children: GreenElement[] = [];
  private readonly open: { kind: NodeKind; start: number }[] = [];

  startNode(kind: NodeKind): void {
    this.open.push({ kind, start: this.children.length });
  }

  token(kind: TokenKind, text: string): void {
    this.children.push({ kind, text });
  }

  checkpoint(): number {
    return this.children.length;
  }

  startNodeAt(checkpoint: number, kind: NodeKind): void {
    this.open.push({ kind, start: checkpoint });
  }

  finishNode(): void {
    const frame = this.open.pop();
    if (!frame) throw new Error('GreenBuilder: finishNode without startNode');
    const kids = this.children.splice(frame.start);
    let width = 0;
    let containsErrors = frame.kind === 'Error' || frame.kind === 'UnknownRule';
    for (const kid of kids) {
      if (isGreenNode(kid)) {
        width += kid.width;
        if (kid.containsErrors) containsErrors = true;
      } else {
        width += kid.text.length;
        if (kid.kind === 'Unknown') containsErrors = true;
      }
    }
    this.children.push({ kind: frame.kind, width, children: kids, containsErrors });
  }

  get depth(): number {
    return this.open.length;
  }

  finish(): GreenNode {
    while (this.open.length > 1) this.finishNode();
    if (this.open.length === 1) this.finishNode();
    const root = this.children[0];
    if (!root || !isGreenNode(root) || this.children.length !== 1) throw new Error('GreenBuilder: unbalanced tree');
    return root;
  }
}

/** The source text of a green subtree. Iterative; `printTree(parsePolicy(x).root) === x`. */
export function printTree(root: GreenElement | SyntaxNode): string {
  const green = root instanceof SyntaxNode ? root.green : root;
  if (!isGreenNode(green)) return green.text;
  const parts: string[] = [];
  const stack: GreenElement[] = [green];
  while (stack.length) {
    const element = stack.pop()!;
    if (isGreenNode(element)) {
      for (let i = element.children.length - 1; i >= 0; i--) stack.push(element.children[i]!);
    } else {
      parts.push(element.text);
    }
  }
  return parts.join('');
}

/** A token with its absolute position. */
export class SyntaxToken {
  constructor(readonly green: GreenToken, readonly offset: number, readonly parent: SyntaxNode | undefined) {}
  get kind(): TokenKind { return this.green.kind; }
  get text(): string { return this.green.text; }
  get end(): number { return this.offset + this.green.text.length; }
}

/** A node with its absolute position and parent (the "red" tree). */
export class SyntaxNode {
  private cachedChildren: (SyntaxNode | SyntaxToken)[] | undefined;

  constructor(readonly green: GreenNode, readonly offset: number = 0, readonly parent: SyntaxNode | undefined = undefined) {}

  get kind(): NodeKind { return this.green.kind; }
  get width(): number { return this.green.width; }
  get end(): number { return this.offset + this.green.width; }

  /** Direct children, nodes and tokens (trivia included), with offsets. */
  children(): readonly (SyntaxNode | SyntaxToken)[] {
    if (!this.cachedChildren) {
      const out: (SyntaxNode | SyntaxToken)[] = [];
      let offset = this.offset;
      for (const kid of this.green.children) {
        out.push(isGreenNode(kid) ? new SyntaxNode(kid, offset, this) : new SyntaxToken(kid, offset, this));
        offset += elementWidth(kid);
      }
      this.cachedChildren = out;
    }
    return this.cachedChildren;
  }

  childNodes(): SyntaxNode[] {
    return this.children().filter((c): c is SyntaxNode => c instanceof SyntaxNode);
  }

  /** Direct child tokens that are not trivia. */
  significantTokens(): SyntaxToken[] {
    return this.children().filter((c): c is SyntaxToken => c instanceof SyntaxToken && !TRIVIA_KINDS.has(c.kind));
  }

  firstChild(kind: SyntaxKind): SyntaxNode | SyntaxToken | undefined {
    return this.children().find((c) => c.kind === kind);
  }

  text(): string {
    return printTree(this.green);
  }

  /** Text without leading or trailing trivia. */
  trimmedRange(): { start: number; end: number } {
    const tokens: SyntaxToken[] = [];
    collectTokens(this, tokens);
    let first = 0;
    while (first < tokens.length && TRIVIA_KINDS.has(tokens[first]!.kind)) first++;
    let last = tokens.length - 1;
    while (last >= first && TRIVIA_KINDS.has(tokens[last]!.kind)) last--;
    if (first > last) return { start: this.offset, end: this.offset };
    return { start: tokens[first]!.offset, end: tokens[last]!.end };
  }

  /** True when this subtree holds an Error node, an Unknown token or an UnknownRule. */
  hasErrors(): boolean {
    return greenHasErrors(this.green);
  }
}

const TRIVIA_KINDS: ReadonlySet<string> = new Set(['Whitespace', 'Newline', 'Comment', 'LineContinuation']);

/** All tokens of a subtree in order (iterative). */
export function collectTokens(node: SyntaxNode, out: SyntaxToken[]): void {
  const stack: (SyntaxNode | SyntaxToken)[] = [node];
  while (stack.length) {
    const element = stack.pop()!;
    if (element instanceof SyntaxToken) out.push(element);
    else {
      const kids = element.children();
      for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
    }
  }
}

export function greenHasErrors(root: GreenNode): boolean {
  return root.containsErrors;
}
