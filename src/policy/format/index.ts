// Public surface of policy/format: the canonical formatter and its document IR.
//   const { text, changed, diagnostics } = formatPolicy(source, 'usr.sbin.apache2');
export { formatPolicy, canonicalPermissions, type FormatResult } from './format.js';
export { printDoc, concat, indent, hardline, join, lineSuffix, verbatim, type Doc, type PrintOptions } from './doc.js';
