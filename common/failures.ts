/**
 * Failure types that any activity may end with when no retry can fix what failed. The workflows list them
 * among their non-retryable types; `activities/classify-failures.ts` is where raw errors become them.
 */
export const PermanentFailure = {
  /** The Docker engine refused the request itself (HTTP 400, 404, 409, 501): the same request fails again. */
  engineRefused: 'EngineRefused',
  /** A setting on the worker or a field of the input cannot be used (a malformed URL, a missing variable). */
  configInvalid: 'ConfigInvalid',
  /** The activity met data it cannot handle (a TypeError or RangeError): a retry runs the same code on the same data. */
  programError: 'ProgramError',
  /** PostgreSQL refused the statement or the login for good (SQLSTATE class 22, 28, 42 or 3D000). */
  databaseRefused: 'DatabaseRefused',
} as const;

/** Every permanent type, for a retry policy's nonRetryableErrorTypes. */
export const PERMANENT_FAILURE_TYPES: readonly string[] = Object.values(PermanentFailure);
