import type { z } from 'zod';
import { InputError } from './errors';
import { Failure, permanent } from './failures';

/** Renders a zod issue path as the field an operator would look for: `services[2].image`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(input)' : out;
}

/**
 * Validates `value` against `schema`. Returns the parsed value, or throws an InputError whose issues each
 * name the field and the problem. The same function runs in the CLI before start and at the top of each
 * workflow, so an input typed into the Web UI gets the same message as one given to the CLI.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    if (keys.length > 0) {
      const where = issue.path.length > 0 ? `${fieldPath(issue.path)}.` : '';
      return keys.map((key) => `${where}${key}: unknown field; remove it or check its spelling`).join('; ');
    }
    // A record key that breaks its rule: zod nests the rule's own message.
    const nested = issue.code === 'invalid_key' ? issue.issues.map((i) => i.message).join('; ') : '';
    return `${fieldPath(issue.path)}: ${nested || issue.message}`;
  });
  throw new InputError(what, issues);
}

/**
 * parseInput for workflows and the activities that validate for them: the same schema and message, as a
 * non-retryable ApplicationFailure whose details list the field-named issues.
 */
export function validatedInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  try {
    return parseInput(schema, value, what);
  } catch (err) {
    if (err instanceof InputError) {
      throw permanent(Failure.invalidInput, err.message, { details: [err.issues] });
    }
    throw err;
  }
}
