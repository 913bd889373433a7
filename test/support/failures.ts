import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { expect } from 'vitest';
import { rootCause } from '../../common/failures';

/** The ApplicationFailure at the root of a workflow's failure (through its activity failure, if any). */
export async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = rootCause((err as WorkflowFailedError).cause);
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}
