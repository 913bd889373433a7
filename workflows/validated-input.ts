import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
import { InputError } from '../common/errors';
import { parseInput } from '../common/validate';

/** The failure type of an input rejected at the top of a workflow; never retried. */
export const INVALID_INPUT = 'InvalidInput';

/**
 * The workflow-side twin of the CLI's validation: the same schema and message, as a non-retryable
 * ApplicationFailure whose details list the field-named issues.
 */
export function validatedInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  try {
    return parseInput(schema, value, what);
  } catch (err) {
    if (err instanceof InputError) {
      throw ApplicationFailure.create({ type: INVALID_INPUT, message: err.message, nonRetryable: true, details: [err.issues] });
    }
    throw err;
  }
}
