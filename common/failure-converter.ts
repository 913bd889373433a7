import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces travel as an encoded payload, so the payload codec encrypts them too when a
 * key is configured (without one they are plain JSON, and every client decodes them the same way). Loaded by
 * path (`failureConverterPath`) into the workflow bundle and the worker, which is why it is a file of its own.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
