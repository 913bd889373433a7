import { ApplicationFailure } from '@temporalio/common';

/**
 * Every failure type a workflow or activity ends with on purpose, in one place: the types a retry policy
 * lists as non-retryable, the CLI maps to exit codes, and tests compare with; and the one way to make such a
 * failure (`permanent`, with `backupFailed` and `experimentRunRejected` for the types thrown in many places).
 * Raw errors become the permanent ones in `activities/classify-failures.ts`. No Node imports: workflows use it.
 */
export const Failure = {
  /** An input rejected at the top of a workflow (schema, or an id it must not run under): never retried. */
  invalidInput: 'InvalidInput',

  /** The Docker engine refused the request itself (HTTP 400, 404, 409, 501): the same request fails again. */
  engineRefused: 'EngineRefused',
  /** A setting on the worker or a field of the input cannot be used (a malformed URL, a missing variable). */
  configInvalid: 'ConfigInvalid',
  /** The activity met data it cannot handle (a TypeError or RangeError): a retry runs the same code on the same data. */
  programError: 'ProgramError',
  /** PostgreSQL refused the statement or the login for good (SQLSTATE class 22, 28, 42 or 3D000). */
  databaseRefused: 'DatabaseRefused',

  /** A dump or restore failed in a way no retry fixes (a tool's error, a missing variable): the run stops. */
  backupFailed: 'BackupFailed',
  /** A backup file does not match its manifest (corrupted or truncated): refused before anything is changed. */
  backupCorrupt: 'BackupCorrupt',
  /** The restore target holds data and `force` was not given: nothing was changed. */
  targetNotEmpty: 'TargetNotEmpty',

  /** A service did not converge (its update paused or rolled back, its tasks failing, or out of time). */
  serviceNotConverged: 'ServiceNotConverged',
  /** A secret's value cannot be had on the manager's worker, or its source is not allowed. */
  secretRejected: 'SecretRejected',
  /** The spec cannot be deployed on this swarm (a volume on an unknown node, a changed network): nothing was touched. */
  stackRejected: 'StackRejected',
  /** A migration or exec step failed; nothing of that step was applied. */
  migrationFailed: 'MigrationFailed',
  /** The swarm refused a service's spec (HTTP 400: a port in use, an invalid constraint...): retrying cannot help. */
  serviceRejected: 'ServiceRejected',
  /** A node belongs to another swarm, or the docker queue's engine is a swarm worker: an operator must decide. */
  swarmConflict: 'SwarmConflict',
  /** A GitLab runner did not come online in time, or GitLab refused a request that no retry can fix. */
  runnerFailed: 'RunnerFailed',
  /** A config's content cannot be had on the manager's worker (its file is unreadable, its variable unset). */
  configRejected: 'ConfigRejected',
  /** The manager worker's docker config (registry credentials) cannot be read or a credential helper failed. */
  registryAuthFailed: 'RegistryAuthFailed',
  /** A sealed value could not be opened (its box is gone from the worker, or it was altered): seal it again. */
  sealedBoxUnreadable: 'SealedBoxUnreadable',

  /** Docker, the swarm or Batch refused to run the experiment (no such image, bad mount): retrying will not help. */
  experimentRunRejected: 'ExperimentRunRejected',
  /** The experiment id is taken by an experiment with another spec. */
  experimentSpecConflict: 'ExperimentSpecConflict',
  /** A state change the experiment state machine forbids (e.g. out of a terminal state). */
  illegalTransition: 'IllegalStateTransition',

  /** An EFS file system or mount target did not become `available` in time, or went to `error` or `deleting`. */
  efsNotAvailable: 'EfsNotAvailable',
  /** The EFS access point found by its client token serves another directory or user than asked. */
  efsAccessPointMismatch: 'EfsAccessPointMismatch',
} as const;

export type FailureType = (typeof Failure)[keyof typeof Failure];

/** The types any activity may end with when no retry can fix what failed, for a retry policy's nonRetryableErrorTypes. */
export const PERMANENT_FAILURE_TYPES: readonly string[] = [
  Failure.engineRefused,
  Failure.configInvalid,
  Failure.programError,
  Failure.databaseRefused,
];

/** What a failure may carry besides its type and message. */
export interface FailureOptions {
  /** Values for code that reads the failure (a plan's problems, a schema's issues), so it need not parse the message. */
  readonly details?: unknown[];
  /** The error it stands for, kept on the chain the UI shows (the message should still say what went wrong). */
  readonly cause?: Error;
}

/**
 * Thrown (or returned to be thrown) by an activity or workflow when no retry can fix what failed: an
 * ApplicationFailure of `type` with `nonRetryable` set, so it ends the activity at once whatever its retry
 * policy. The message speaks to the operator: what failed, on which resource, what to do.
 */
export function permanent(type: FailureType, message: string, options: FailureOptions = {}): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, ...options });
}

/** Thrown when a dump, copy or restore step fails in a way no retry fixes (see `Failure.backupFailed`). */
export const backupFailed = (message: string): ApplicationFailure => permanent(Failure.backupFailed, message);

/** Thrown when Docker, the swarm or Batch refuses to run an experiment (see `Failure.experimentRunRejected`). */
export const experimentRunRejected = (message: string): ApplicationFailure => permanent(Failure.experimentRunRejected, message);

/**
 * The failure that says what went wrong: down a failure's cause chain (workflow → activity or child →
 * ...), the first ApplicationFailure, which an activity or workflow threw on purpose; else the deepest cause.
 * Duck-typed (`name`), so it works on failures from any copy of the SDK. Pure.
 */
export function rootCause(err: unknown): unknown {
  let at = err;
  while (at instanceof Error && at.name !== 'ApplicationFailure' && at.cause !== undefined) at = at.cause;
  return at;
}

/** The message of `rootCause(err)`: what went wrong in the activity's or child workflow's own words. Pure. */
export function rootMessage(err: unknown): string {
  const cause = rootCause(err);
  return cause instanceof Error ? cause.message : String(cause);
}
