// Public surface of policy/syntax: kinds, the green/red tree, the lexer's helpers, parsePolicy and printTree.
//   const { root, diagnostics } = parsePolicy(text, 'usr.sbin.apache2');
//   printTree(root) === text            // always, for any input
//   new SyntaxNode(root)                // positioned view for walking the tree
export type { SyntaxKind, TokenKind, NodeKind } from './kinds.js';
export { isTrivia, isError, RULE_KINDS } from './kinds.js';
export type { GreenNode, GreenToken, GreenElement } from './tree.js';
export { GreenBuilder, SyntaxNode, SyntaxToken, printTree, isGreenNode, collectTokens, greenHasErrors } from './tree.js';
export { parsePolicy, MAX_NESTING, type ParseResult } from './parser.js';
export { isPermissionWord } from './lexer.js';
export { dumpTree } from './dump.js';
export { escapeControlCharacters } from './display.js';
