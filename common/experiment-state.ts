/**
 * An experiment's life, as the platforms in the field already record it. Only forward moves:
 * PENDING -> IN_PROCESS -> one terminal state (or PENDING straight to a terminal state when it is stopped,
 * or rejected, before it ever ran).
 */
export const ExperimentState = {
  pending: 'PENDING',
  inProcess: 'IN_PROCESS',
  completed: 'COMPLETED',
  finishedWithError: 'FINISHED_WITH_ERROR',
  timeoutExceeded: 'TIMEOUT_EXCEEDED',
  stopped: 'STOPPED',
} as const;

export type ExperimentState = (typeof ExperimentState)[keyof typeof ExperimentState];

export const EXPERIMENT_STATES: readonly ExperimentState[] = Object.values(ExperimentState);

export const TERMINAL_STATES: readonly ExperimentState[] = [
  ExperimentState.completed,
  ExperimentState.finishedWithError,
  ExperimentState.timeoutExceeded,
  ExperimentState.stopped,
];

export function isTerminal(state: ExperimentState): boolean {
  return TERMINAL_STATES.includes(state);
}

/** The states an experiment may be in just before it moves to `to`. */
export function previousStates(to: ExperimentState): readonly ExperimentState[] {
  if (to === ExperimentState.pending) return [];
  if (to === ExperimentState.inProcess) return [ExperimentState.pending];
  return [ExperimentState.pending, ExperimentState.inProcess];
}
