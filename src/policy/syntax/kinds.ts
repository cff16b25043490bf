// One kind union for every element of the concrete syntax tree: tokens, trivia, nodes and errors.
// PascalCase strings so that tree dumps read like the grammar.

/** Leaf kinds. Trivia (whitespace, newlines, comments, line continuations) are ordinary tokens. */
export type TokenKind =
  | 'Whitespace' // run of spaces and tabs
  | 'Newline' // \n or \r\n
  | 'Comment' // `#` to the end of the line (never `#include`)
  | 'LineContinuation' // `\` + newline inside a variable assignment
  | 'Word' // unquoted word: path, name, value, permission, keyword candidate
  | 'Keyword' // a word the parser recognised as a keyword in its context
  | 'QuotedString' // "…" with `\"` escapes kept raw
  | 'IncludePath' // <…> in include and abi statements
  | 'HashInclude' // the deprecated `#include` spelling
  | 'LBrace' | 'RBrace' | 'LParen' | 'RParen' | 'Comma' | 'Caret'
  | 'Arrow' // ->
  | 'Equals' | 'PlusEquals' | 'QuestionEquals' | 'ColonEquals'
  | 'Operator' // == != < <= > >=
  | 'Unknown'; // a character that starts no token (always inside an Error node)

/** Interior kinds. */
export type NodeKind =
  | 'Policy'
  | 'Abi' | 'Include' | 'Alias' | 'VariableAssignment' | 'BooleanAssignment'
  | 'Conditional' | 'ConditionalBranch'
  | 'AtomExpression' | 'NotExpression' | 'BinaryExpression' | 'CompareExpression' | 'DefinedExpression' | 'ParenExpression'
  | 'Profile' | 'ProfileName' | 'Attachment' | 'Flags' | 'Xattrs' | 'Identities' | 'Block'
  | 'Prefix' | 'Priority' | 'QualifierBlock'
  | 'FileRule' | 'LinkRule' | 'CapabilityRule' | 'NetworkRule' | 'UnixRule' | 'DbusRule' | 'SignalRule'
  | 'PtraceRule' | 'MountRule' | 'RemountRule' | 'UmountRule' | 'PivotRootRule' | 'ChangeProfileRule'
  | 'RlimitRule' | 'UserNsRule' | 'IoUringRule' | 'MqueueRule' | 'AllRule' | 'UnknownRule'
  | 'Condition' | 'List' | 'ExecTarget'
  | 'Error';

export type SyntaxKind = TokenKind | NodeKind;

const TRIVIA: ReadonlySet<string> = new Set(['Whitespace', 'Newline', 'Comment', 'LineContinuation']);

export function isTrivia(kind: SyntaxKind): boolean {
  return TRIVIA.has(kind);
}

export function isError(kind: SyntaxKind): boolean {
  return kind === 'Error' || kind === 'Unknown' || kind === 'UnknownRule';
}

/** Node kinds that are rules (the things that end with a comma inside a profile). */
export const RULE_KINDS: ReadonlySet<NodeKind> = new Set<NodeKind>([
  'FileRule', 'LinkRule', 'CapabilityRule', 'NetworkRule', 'UnixRule', 'DbusRule', 'SignalRule', 'PtraceRule',
  'MountRule', 'RemountRule', 'UmountRule', 'PivotRootRule', 'ChangeProfileRule', 'RlimitRule', 'UserNsRule',
  'IoUringRule', 'MqueueRule', 'AllRule', 'UnknownRule',
]);
