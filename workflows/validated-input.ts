import type { z } from 'zod';
import { InputError } from '../common/errors';
import { Failure, permanent } from '../common/failures';
import { parseInput } from '../common/validate';

/**
 * The workflow-side twin of the CLI's validation: the same schema and message, as a non-retryable
 * ApplicationFailure whose details list the field-named issues.
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
