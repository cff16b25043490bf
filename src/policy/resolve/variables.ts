// Set variables (`@{NAME} = a b`), booleans (`$NAME = true`) and expansion of `@{…}` references
// (policy-language.md §2.4, §2.5, §9). Values are kept unexpanded until use, as apparmor_parser does,
// so a variable may be defined after the profile that uses it.

export type AssignmentOperator = '=' | '+=' | '?=' | ':=';

/** Where something was written; opaque to this module and handed back in problems. */
export type Origin = unknown;

export interface VariableProblem {
  readonly code: string;
  readonly message: string;
  readonly origin?: Origin;
  readonly hint?: string;
}

interface SetVariable {
  values: string[];
  /** How it was first defined: `=` forbids any later plain `=`. */
  operator: AssignmentOperator;
  origin: Origin;
}

const VARIABLE_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Built-in variables; defined per profile, never assignable. */
export const BUILTIN_VARIABLES = ['profile_name', 'attach_path', 'exec_path'] as const;

/** Upper bound on values produced by expanding one text before falling back to alternation text. */
const MAX_EXPANDED_VALUES = 4096;

/** Per-profile values of the built-ins; `undefined` means "not defined for this profile". */
export interface BuiltinValues {
  readonly profile_name?: string;
  readonly attach_path?: string;
  readonly exec_path?: string;
}

export class VariableTable {
  private readonly sets = new Map<string, SetVariable>();
  private readonly booleans = new Map<string, { value: boolean; operator: AssignmentOperator; origin: Origin }>();

  /** Record `@{name} op values`; returns a problem when the assignment is not allowed. */
  assign(name: string, operator: AssignmentOperator, values: readonly string[], origin: Origin): VariableProblem | undefined {
    if (!VARIABLE_NAME.test(name)) {
      return { code: 'resolve/bad-variable-name', message: `'@{${name}}' is not a valid variable name: names start with a letter and contain only letters, digits and '_'`, origin };
    }
    const existing = this.sets.get(name);
    switch (operator) {
      case '=':
        if (existing) {
          return { code: 'resolve/variable-redefined', message: `variable @{${name}} is already defined; use '+=' to add values or ':=' to replace them`, origin };
        }
        this.sets.set(name, { values: [...values], operator, origin });
        return undefined;
      case '+=':
        if (!existing) {
          return { code: 'resolve/variable-append-undefined', message: `cannot add to @{${name}} with '+=' before it is defined`, origin, hint: `define it first with '@{${name}} = …'` };
        }
        existing.values.push(...values);
        return undefined;
      case '?=':
        if (!existing) this.sets.set(name, { values: [...values], operator, origin });
        return undefined;
      case ':=':
        this.sets.set(name, { values: [...values], operator, origin });
        return undefined;
    }
  }

  /** Record `$name op value`. */
  assignBoolean(name: string, operator: AssignmentOperator, value: boolean, origin: Origin): VariableProblem | undefined {
    if (!VARIABLE_NAME.test(name)) {
      return { code: 'resolve/bad-variable-name', message: `'$${name}' is not a valid boolean name`, origin };
    }
    const existing = this.booleans.get(name);
    switch (operator) {
      case '=':
        if (existing) return { code: 'resolve/variable-redefined', message: `boolean $${name} is already defined`, origin };
        this.booleans.set(name, { value, operator, origin });
        return undefined;
      case '+=':
        return { code: 'resolve/boolean-append', message: `'+=' cannot be used with boolean $${name}`, origin };
      case '?=':
        if (!existing) this.booleans.set(name, { value, operator, origin });
        return undefined;
      case ':=':
        this.booleans.set(name, { value, operator, origin });
        return undefined;
    }
  }

  hasSet(name: string): boolean {
    return this.sets.has(name);
  }

  boolean(name: string): boolean | undefined {
    return this.booleans.get(name)?.value;
  }

  hasBoolean(name: string): boolean {
    return this.booleans.has(name);
  }

  setNames(): string[] {
    return [...this.sets.keys()];
  }

  /** The set variables as assigned (values unexpanded), in definition order, with their origins. */
  setEntries(): { readonly name: string; readonly values: readonly string[]; readonly origin: Origin }[] {
    return [...this.sets].map(([name, v]) => ({ name, values: [...v.values], origin: v.origin }));
  }

  /** The booleans' final values, in definition order, with their origins. */
  booleanEntries(): { readonly name: string; readonly value: boolean; readonly origin: Origin }[] {
    return [...this.booleans].map(([name, b]) => ({ name, value: b.value, origin: b.origin }));
  }

  /** A table holding these final values, to expand more text the way the resolver did. */
  static fromValues(sets: readonly { readonly name: string; readonly values: readonly string[] }[]): VariableTable {
    const table = new VariableTable();
    for (const { name, values } of sets) table.sets.set(name, { values: [...values], operator: ':=', origin: undefined });
    return table;
  }

  /**
   * The fully expanded value set of `@{name}` (duplicates removed, assignment order kept), or a
   * problem for an undefined or self-referencing variable.
   */
  values(name: string, builtins: BuiltinValues = {}): string[] | VariableProblem {
    return this.expandVariable(name, builtins, []);
  }

  /**
   * Expand every `@{…}` in `text`. One value is inserted inline, several as `{v1,v2}`; empty values
   * vanish; slashes next to a reference are trimmed so `@{HOME}/x` with `/home/u/` gives `/home/u/x`.
   */
  expand(text: string, builtins: BuiltinValues = {}): string | VariableProblem {
    if (!text.includes('@{')) return text;
    const result = this.expandToValues(text, builtins, [], true);
    if (!Array.isArray(result)) return result;
    return result.length === 1 ? result[0]! : `{${result.join(',')}}`;
  }

  /** Expand `text` into the set of strings it stands for (used for conditionals and value sets). */
  expandAll(text: string, builtins: BuiltinValues = {}): string[] | VariableProblem {
    if (!text.includes('@{')) return [text];
    return this.expandToValues(text, builtins, [], false);
  }

  private expandVariable(name: string, builtins: BuiltinValues, stack: string[]): string[] | VariableProblem {
    if ((BUILTIN_VARIABLES as readonly string[]).includes(name) && (builtins[name as keyof BuiltinValues] !== undefined || !this.sets.has(name))) {
      const value = builtins[name as keyof BuiltinValues];
      if (value === undefined) {
        const why = name === 'profile_name' ? 'outside a profile' : 'in a profile without an attachment';
        return { code: 'resolve/undefined-variable', message: `built-in variable @{${name}} is not defined ${why}` };
      }
      return [value];
    }
    const variable = this.sets.get(name);
    if (!variable) {
      const hint = closestName(name, [...this.sets.keys()]);
      return { code: 'resolve/undefined-variable', message: `variable @{${name}} is not defined`, ...(hint ? { hint: `did you mean @{${hint}}?` } : {}) };
    }
    if (stack.includes(name)) {
      return { code: 'resolve/recursive-variable', message: `variable @{${name}} refers to itself (${[...stack.slice(stack.indexOf(name)), name].map((n) => `@{${n}}`).join(' → ')})`, origin: variable.origin };
    }
    if (variable.values.length === 0) {
      return { code: 'resolve/empty-variable', message: `variable @{${name}} has no value ('@{${name}} =' with nothing after it); write '@{${name}} = ""' for an explicit empty value`, origin: variable.origin };
    }
    const out = new Set<string>();
    for (const raw of variable.values) {
      const expanded = this.expandToValues(raw, builtins, [...stack, name], false);
      if (!Array.isArray(expanded)) return expanded;
      for (const value of expanded) out.add(value);
    }
    return [...out];
  }

  /**
   * Expansion of the references in `text`: the cartesian set of strings, or (when `inline`) one
   * string with each multi-valued reference written as a `{a,b}` alternation, as apparmor_parser does.
   */
  private expandToValues(text: string, builtins: BuiltinValues, stack: string[], inline: boolean): string[] | VariableProblem {
    const parts = splitReferences(text);
    if (parts.length === 1 && typeof parts[0] === 'string') return [parts[0]];
    let partial: string[] = [''];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (typeof part === 'string') {
        partial = partial.map((p) => p + part);
        continue;
      }
      const values = this.expandVariable(part.name, builtins, stack);
      if (!Array.isArray(values)) return values;
      const next = parts[i + 1];
      const after = typeof next === 'string' ? next : '';
      const trimmed = [...new Set(values.map((value) => trimAround(value, after)).filter((value) => value !== ''))];
      if (trimmed.length === 0) continue;
      if (inline) {
        const prefix = partial[0]!;
        const lead = trimsLeading(prefix);
        const inserted = trimmed.map((v) => (lead ? v.replace(/^\/+/, '') : v));
        partial = [prefix + (inserted.length === 1 ? inserted[0]! : `{${inserted.join(',')}}`)];
        continue;
      }
      const product: string[] = [];
      for (const prefix of partial) {
        const lead = trimsLeading(prefix);
        for (const value of trimmed) product.push(prefix + (lead ? value.replace(/^\/+/, '') : value));
      }
      partial = [...new Set(product)];
      if (partial.length > MAX_EXPANDED_VALUES) {
        return { code: 'resolve/expansion-too-large', message: `expanding '${text.slice(0, 80)}' produces more than ${MAX_EXPANDED_VALUES} values` };
      }
    }
    return partial;
  }
}

/** Leading slashes of a value go when the text before the reference ends in `/` (and is not only slashes). */
function trimsLeading(prefix: string): boolean {
  return prefix.endsWith('/') && !/^\/*$/.test(prefix);
}

/** Trailing slashes of a value go when the text after the reference starts with `/`. */
function trimAround(value: string, after: string): string {
  if (after.startsWith('/') && value.length > 1) return value.replace(/\/+$/, '') || value;
  return value;
}

export type TextPart = string | { readonly name: string; readonly offset: number };

/** Split text into literal pieces and `@{name}` references; `\@{` is literal. */
export function splitReferences(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      literal += ch + text[i + 1];
      i += 2;
      continue;
    }
    if (ch === '@' && text[i + 1] === '{') {
      const close = text.indexOf('}', i + 2);
      if (close > 0) {
        const name = text.slice(i + 2, close);
        if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
          if (literal || parts.length === 0) parts.push(literal);
          literal = '';
          parts.push({ name, offset: i });
          i = close + 1;
          continue;
        }
      }
    }
    literal += ch;
    i++;
  }
  if (literal || parts.length === 0 || typeof parts[parts.length - 1] !== 'string') parts.push(literal);
  return parts;
}

/** True when the text contains an `@{…}` reference. */
export function hasReference(text: string): boolean {
  return splitReferences(text).some((p) => typeof p !== 'string');
}

/** `@{profile_name}` escapes AARE metacharacters so the name matches itself literally. */
export function escapeProfileName(name: string): string {
  return name.replace(/[*?[\]{}\\^,]/g, (c) => `\\${c}`);
}

function closestName(name: string, known: string[]): string | undefined {
  const lower = name.toLowerCase();
  return known.find((k) => k.toLowerCase() === lower) ?? known.find((k) => k.toLowerCase().startsWith(lower) || lower.startsWith(k.toLowerCase()));
}
