import { type KeyPath, put } from './issues';

/**
 * Variable substitution in compose values, as the Compose Specification's interpolation rules define it:
 * `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}` (unset), `${VAR:?message}` (error when unset or
 * empty), `${VAR?message}` (error when unset), defaults and messages that hold further substitutions
 * (`${A:-${B:-x}}`), and `$$` for a literal `$`. A `$` that starts neither a name nor `${` is kept as it is; an unset
 * variable without a default becomes the empty string. Other shell forms (`${VAR/a/b}`, `${VAR:+x}`) are refused.
 */

/** Why a substitution failed; the message says what to do. */
export class InterpolationError extends Error {
  override readonly name = 'InterpolationError';
}

/** Looks a variable up: its value, or undefined when it is not set. */
export type Lookup = (name: string) => string | undefined;

const NAME_START = /[_a-zA-Z]/;
const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;

/** Substitutes the variables in one string. Throws InterpolationError. */
export function substitute(template: string, lookup: Lookup, unset?: (name: string) => void): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if (c !== '$') {
      out += c;
      i += 1;
      continue;
    }
    const next = template[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      const end = closingBrace(template, i + 2);
      if (end < 0)
        throw new InterpolationError(
          `unterminated "\${" in ${JSON.stringify(template)}: close it with "}", or write "$$" for a literal "$"`,
        );
      out += braced(template.slice(i + 2, end), template, lookup, unset);
      i = end + 1;
    } else if (next !== undefined && NAME_START.test(next)) {
      const name = (NAME.exec(template.slice(i + 1)) as RegExpExecArray)[0];
      out += variableValue(name, lookup, unset);
      i += 1 + name.length;
    } else {
      out += '$';
      i += 1;
    }
  }
  return out;
}

/** The index of the `}` closing a `${` whose body starts at `from`, counting nested `${`; -1 when there is none. */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let j = from; j < text.length; j++) {
    if (text[j] === '$' && text[j + 1] === '$') j += 1;
    else if (text[j] === '$' && text[j + 1] === '{') {
      depth += 1;
      j += 1;
    } else if (text[j] === '}') {
      depth -= 1;
      if (depth === 0) return j;
    }
  }
  return -1;
}

function braced(body: string, template: string, lookup: Lookup, unset?: (name: string) => void): string {
  const match = NAME.exec(body);
  const invalid = () =>
    new InterpolationError(
      `invalid interpolation "\${${body}}" in ${JSON.stringify(template)}: use \${VAR}, \${VAR:-default}, \${VAR-default}, \${VAR:?message} or \${VAR?message}, or write "$$" for a literal "$"`,
    );
  if (!match) throw invalid();
  const name = match[0];
  const rest = body.slice(name.length);
  if (rest === '') return variableValue(name, lookup, unset);
  const op = /^(:-|-|:\?|\?)/.exec(rest)?.[0];
  if (op === undefined) throw invalid();
  const arg = rest.slice(op.length);
  const value = lookup(name);
  switch (op) {
    case ':-':
      return value === undefined || value === '' ? substitute(arg, lookup, unset) : value;
    case '-':
      return value === undefined ? substitute(arg, lookup, unset) : value;
    default: {
      const missing = op === ':?' ? value === undefined || value === '' : value === undefined;
      if (!missing) return value as string;
      const message = substitute(arg, lookup, unset);
      const what = op === ':?' ? 'is unset or empty' : 'is unset';
      const fix = message === '' ? `set ${name} in the environment or the env file` : message;
      throw new InterpolationError(`required variable ${name} ${what}: ${fix}`);
    }
  }
}

function variableValue(name: string, lookup: Lookup, unset?: (name: string) => void): string {
  const value = lookup(name);
  if (value === undefined) {
    unset?.(name);
    return '';
  }
  return value;
}

/**
 * Interpolates every string value of a parsed document (keys are left as written), as docker does after YAML parsing.
 * A failed substitution is reported through `onError` with its key path, and the value is kept as written, so that
 * every failure of a file is reported in one run.
 */
export function interpolateValue(
  value: unknown,
  path: KeyPath,
  lookup: Lookup,
  onError: (path: KeyPath, message: string) => void,
  unset?: (name: string, path: KeyPath) => void,
): unknown {
  if (typeof value === 'string') {
    try {
      return substitute(value, lookup, unset ? (name) => unset(name, path) : undefined);
    } catch (e) {
      if (!(e instanceof InterpolationError)) throw e;
      onError(path, e.message);
      return value;
    }
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolateValue(item, [...path, i], lookup, onError, unset));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) put(out, key, interpolateValue(item, [...path, key], lookup, onError, unset));
    return out;
  }
  return value;
}
