// From a resolved object's origin (file, offset) back to the statement that wrote it. The resolved
// policy carries origins as data; passes that need the syntax as well (the checker) look it up here
// in the parsed files the resolver returned, instead of holding references into the tree.
import type * as Ast from '../model/index.js';
import { isRule } from '../model/index.js';
import type { ParsedFile } from './parse-cache.js';

export interface SyntaxIndex {
  /** The rule statement starting at `offset`. */
  rule(offset: number): Ast.Rule | undefined;
  /** The profile (or hat, or child) header starting at `offset`. */
  profile(offset: number): Ast.Profile | undefined;
}

export function indexSyntax(file: ParsedFile): SyntaxIndex {
  const rules = new Map<number, Ast.Rule>();
  const profiles = new Map<number, Ast.Profile>();
  const stack: Ast.Statement[] = [...file.policy.items];
  while (stack.length) {
    const statement = stack.pop()!;
    if (statement.kind === 'Profile') {
      profiles.set(statement.span.offset, statement);
      stack.push(...statement.body);
    } else if (statement.kind === 'QualifierBlock') {
      stack.push(...statement.body);
    } else if (statement.kind === 'Conditional') {
      for (const branch of statement.branches) stack.push(...branch.body);
    } else if (isRule(statement)) {
      rules.set(statement.span.offset, statement);
    }
  }
  return { rule: (offset) => rules.get(offset), profile: (offset) => profiles.get(offset) };
}
