// Small readers over the CST for assertions: node outlines and statement kinds.
import { parsePolicy, SyntaxNode, type ParseResult } from '../../../src/policy/syntax/index.js';

/** Node kinds only, one per line, two spaces per depth (tokens and trivia left out). */
export function outline(text: string): string {
  const lines: string[] = [];
  const visit = (node: SyntaxNode, depth: number) => {
    lines.push(`${'  '.repeat(depth)}${node.kind}`);
    for (const child of node.childNodes()) visit(child, depth + 1);
  };
  visit(new SyntaxNode(parsePolicy(text).root), 0);
  return lines.join('\n');
}

export function codes(result: ParseResult): string[] {
  return result.diagnostics.map((d) => d.code);
}

export function errorCodes(text: string): string[] {
  return parsePolicy(text, 't').diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);
}

/** Kinds of the statements in the first profile's body. */
export function bodyKinds(text: string): string[] {
  const root = new SyntaxNode(parsePolicy(text).root);
  const profile = root.childNodes().find((n) => n.kind === 'Profile');
  const block = profile?.childNodes().find((n) => n.kind === 'Block');
  return block ? block.childNodes().map((n) => n.kind) : [];
}
