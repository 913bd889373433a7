import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { ConfigError, InputError } from '../common/errors';
import { Failure, type FailureType, PERMANENT_FAILURE_TYPES, permanent } from '../common/failures';

/** The engine statuses that mean the request itself is wrong; the same request gets the same answer. */
const ENGINE_REFUSALS = new Set([400, 404, 409, 501]);
/** SQLSTATE classes of a statement or login PostgreSQL refuses for good (data, authorization, syntax/access). */
const PG_REFUSED_CLASSES = new Set(['22', '28', '42']);

/**
 * What no retry can fix, as a non-retryable ApplicationFailure with a type (see common/failures.ts);
 * undefined for anything else (a lost connection, a timeout, an engine that is restarting: worth a retry).
 * - an ApplicationFailure or other Temporal failure: already decided, left as it is (undefined);
 * - ConfigError / InputError: a setting or input to fix;
 * - a Docker engine answer of 400, 404, 409 or 501 (dockerode puts the status in `statusCode`);
 * - a PostgreSQL error of class 22, 28 or 42, or 3D000 (no such database);
 * - TypeError / RangeError, except fetch's "fetch failed" (a network error that fetch types as a TypeError).
 */
export function permanentFailure(err: unknown): ApplicationFailure | undefined {
  if (!(err instanceof Error) || err instanceof TemporalFailure) return undefined;
  const fail = (type: FailureType, message: string) => permanent(type, message, { cause: err });
  if (err instanceof ConfigError || err instanceof InputError) return fail(Failure.configInvalid, err.message);
  const status = (err as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && ENGINE_REFUSALS.has(status)) {
    const detail = (err as { json?: { message?: string } }).json?.message ?? err.message;
    return fail(Failure.engineRefused, `the Docker engine refused the request (HTTP ${status}): ${detail}`);
  }
  const code = (err as { code?: unknown; severity?: unknown }).code;
  if (typeof code === 'string' && 'severity' in err && (PG_REFUSED_CLASSES.has(code.slice(0, 2)) || code === '3D000')) {
    return fail(Failure.databaseRefused, `PostgreSQL refused it (SQLSTATE ${code}): ${err.message}`);
  }
  if ((err instanceof TypeError && err.message !== 'fetch failed') || err instanceof RangeError) {
    return fail(Failure.programError, `${err.name}: ${err.message}`);
  }
  return undefined;
}

type Activities = Record<string, unknown>;

/**
 * The same activities, each rethrowing what `permanentFailure` classifies as its non-retryable failure, so
 * that a permanent error ends the activity at once instead of being retried; with `as`, under that type
 * instead (the one the workflow handles, e.g. an experiment run rejected). Everything else is rethrown as
 * it was. Wrapping twice changes nothing.
 */
export function classifyFailures<T extends Activities>(activities: T, as?: FailureType): T {
  const classified = (err: unknown) => {
    const already = err instanceof ApplicationFailure && PERMANENT_FAILURE_TYPES.includes(err.type ?? '');
    const failure = already ? err : permanentFailure(err);
    if (failure === undefined || as === undefined) return failure;
    return permanent(as, failure.message, { cause: failure.cause });
  };
  const wrapped: Activities = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] =
      typeof fn === 'function'
        ? async (...args: unknown[]) => {
            try {
              return await fn(...args);
            } catch (err) {
              throw classified(err) ?? err;
            }
          }
        : fn;
  }
  return wrapped as T;
}
