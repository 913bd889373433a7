/**
 * Every workflow and schedule id sciops gives, in one place. An id is how Temporal keeps one of a kind
 * running: one run per experiment, one deploy per stack, one lock holder per target. Pure.
 */

/** UTC to the second, `20261122T030000Z`: the time part of a backup's or restore's id. */
const stamp = (at: Date) =>
  at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** An experiment's run: one id per experiment, so it can never run twice at once. */
export function experimentWorkflowId(id: string): string {
  return `experiment-${id}`;
}

/** A stack's deploy: one at a time per stack. */
export function deployWorkflowId(stack: string): string {
  return `deploy-${stack}`;
}

/** A plan of a stack (`sciops deploy --plan`): changes nothing, so any number may run. */
export function planWorkflowId(stack: string, at: Date): string {
  return `plan-${stack}-${at.toISOString()}`;
}

export function teardownWorkflowId(stack: string, at: Date): string {
  return `teardown-${stack}-${at.toISOString()}`;
}

/** A backup started by hand (`sciops backup run`). */
export function backupWorkflowId(backup: string, at: Date): string {
  return `backup-${backup}-${stamp(at)}`;
}

/** A backup started by its schedule: Temporal appends the scheduled time to this id. */
export function scheduledBackupWorkflowId(backup: string): string {
  return `backup-${backup}`;
}

export function restoreWorkflowId(backup: string, run: string, at: Date): string {
  return `restore-${backup}-${run}-${stamp(at)}`;
}

/** An import of a file as a run of a backup's target (`sciops backup import`). */
export function importWorkflowId(backup: string, target: string, at: Date): string {
  return `import-${backup}-${target}-${stamp(at)}`;
}

export function doctorWorkflowId(at: Date): string {
  return `doctor-${at.toISOString()}`;
}

/** The workflow that holds a target's lock while it runs (one such workflow can run at a time). */
export function targetLockWorkflowId(key: string): string {
  return `sciops-lock-${key}`;
}

const BACKUP_SCHEDULE_PREFIX = 'backup-';

/** The Temporal Schedule of a backup schedule NAME (`sciops backup schedule create NAME`). */
export function backupScheduleId(name: string): string {
  return `${BACKUP_SCHEDULE_PREFIX}${name}`;
}

/** The backup schedule NAME a schedule id names, or undefined when it is not a backup schedule's. */
export function backupScheduleName(scheduleId: string): string | undefined {
  return scheduleId.startsWith(BACKUP_SCHEDULE_PREFIX) ? scheduleId.slice(BACKUP_SCHEDULE_PREFIX.length) : undefined;
}

/** The schedule that runs recoverExperiments every SCIOPS_RECOVERY_MINUTES. */
export const RECOVERY_SCHEDULE_ID = 'sciops-recover-experiments';
