// Conditional expressions of `if … { } else { }` (policy-language.md §2.6).
import type { BuiltinValues, VariableProblem, VariableTable } from './variables.js';

export type ComparisonOperator = '==' | '!=' | 'in' | '>' | '>=' | '<' | '<=';

export type ConditionExpression =
  | { readonly kind: 'literal'; readonly value: boolean }
  | { readonly kind: 'boolean'; readonly name: string }
  | { readonly kind: 'defined'; readonly target: 'set' | 'boolean'; readonly name: string }
  | { readonly kind: 'not'; readonly operand: ConditionExpression }
  | { readonly kind: 'and' | 'or'; readonly left: ConditionExpression; readonly right: ConditionExpression }
  /** Operands are raw words: `@{var}` references or literal text. */
  | { readonly kind: 'compare'; readonly operator: ComparisonOperator; readonly left: string; readonly right: string };

/** Evaluate a condition against the variables; undefined booleans and mixed comparisons are problems. */
export function evaluateCondition(expression: ConditionExpression, variables: VariableTable, builtins: BuiltinValues = {}): boolean | VariableProblem {
  switch (expression.kind) {
    case 'literal':
      return expression.value;
    case 'boolean': {
      const value = variables.boolean(expression.name);
      if (value === undefined) {
        return { code: 'resolve/undefined-boolean', message: `boolean $${expression.name} is not defined`, hint: `define it with '$${expression.name} = true' or test it with 'defined $${expression.name}'` };
      }
      return value;
    }
    case 'defined':
      return expression.target === 'set' ? variables.hasSet(expression.name) : variables.hasBoolean(expression.name);
    case 'not': {
      const value = evaluateCondition(expression.operand, variables, builtins);
      return typeof value === 'boolean' ? !value : value;
    }
    case 'and':
    case 'or': {
      const left = evaluateCondition(expression.left, variables, builtins);
      if (typeof left !== 'boolean') return left;
      const right = evaluateCondition(expression.right, variables, builtins);
      if (typeof right !== 'boolean') return right;
      return expression.kind === 'and' ? left && right : left || right;
    }
    case 'compare':
      return compare(expression.operator, expression.left, expression.right, variables, builtins);
  }
}

function compare(operator: ComparisonOperator, leftText: string, rightText: string, variables: VariableTable, builtins: BuiltinValues): boolean | VariableProblem {
  const left = variables.expandAll(leftText, builtins);
  if (!Array.isArray(left)) return left;
  const right = variables.expandAll(rightText, builtins);
  if (!Array.isArray(right)) return right;
  const leftSet = [...new Set(left)].sort();
  const rightSet = [...new Set(right)].sort();
  switch (operator) {
    case '==': return sameSet(leftSet, rightSet);
    case '!=': return !sameSet(leftSet, rightSet);
    case 'in': return leftSet.every((v) => rightSet.includes(v));
    default: break;
  }
  const leftNumber = leftSet.length === 1 ? parseInteger(leftSet[0]!) : undefined;
  const rightNumber = rightSet.length === 1 ? parseInteger(rightSet[0]!) : undefined;
  let order: number;
  if (leftNumber !== undefined && rightNumber !== undefined) {
    order = leftNumber < rightNumber ? -1 : leftNumber > rightNumber ? 1 : 0;
  } else if (leftNumber === undefined && rightNumber === undefined) {
    order = compareSets(leftSet, rightSet);
  } else {
    return { code: 'resolve/compare-number-with-text', message: `can only compare numbers with numbers: '${leftText}' ${operator} '${rightText}' mixes a number and text` };
  }
  switch (operator) {
    case '>': return order > 0;
    case '>=': return order >= 0;
    case '<': return order < 0;
    default: return order <= 0;
  }
}

/** An integer in C's base auto-detection (`0x1f`, `017`, `42`, optional sign), else undefined. */
export function parseInteger(text: string): bigint | undefined {
  const match = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!match) return undefined;
  const digits = match[2]!;
  let value: bigint;
  if (/^0[xX]/.test(digits)) value = BigInt(digits);
  else if (digits.length > 1 && digits.startsWith('0')) value = BigInt(`0o${digits.slice(1)}`);
  else value = BigInt(digits);
  return match[1] === '-' ? -value : value;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function compareSets(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return a.length - b.length;
}
