/** Exit codes of the `sciops` CLI and the worker process, for scripts to rely on. */
export const ExitCode = {
  /** Done, and what was asked for is healthy. */
  ok: 0,
  /** The operation ran and failed, or a service could not be reached. */
  failed: 1,
  /** Bad input or configuration: nothing was changed. */
  badInput: 2,
  /** The named workflow, backup or resource does not exist. */
  notFound: 3,
  /** Stopped by Ctrl-C. */
  interrupted: 130,
} as const;
