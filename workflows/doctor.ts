import { TimeoutType } from '@temporalio/common';
import { ActivityFailure, patched, proxyActivities, TimeoutFailure, uuid4 } from '@temporalio/workflow';
import type { AwsActivities } from '../activities/aws';
import type { DbActivities } from '../activities/db';
import type { DockerActivities } from '../activities/docker';
import { BACKUP_DIR_CHECK, type CheckResult, type DoctorReport, doctorInputSchema, noWorkerResult, overallStatus } from '../common/doctor';
import { nodeQueue, Queue } from '../common/queues';
import { validatedInput } from '../common/validate';
import { trackProgress } from './progress-tracker';

/** A check's activity options: it must be picked up within `waitSeconds`, and a broken check is reported, not retried. */
function checkOptions(taskQueue: string, waitSeconds: number) {
  return {
    taskQueue,
    scheduleToStartTimeout: `${waitSeconds}s`,
    startToCloseTimeout: '60s',
    retry: { maximumAttempts: 1 },
  } as const;
}

/** Doctor runs started before the local backup directory was checked replay without that check. */
const BACKUP_DIR_PROBE = 'doctor-backup-dir-probe';

/**
 * Runs one activity on each queue sciops uses (docker, db, aws, and docker@<node> for each node asked for)
 * and returns one report; then, when the db worker has a SCIOPS_BACKUP_DIR, checks that the docker worker
 * sees the same directory. A queue no worker polls, or a check that throws, becomes a failed line in the
 * report; the workflow itself only fails on invalid input.
 */
export async function doctor(rawInput?: unknown): Promise<DoctorReport> {
  const { nodes, waitSeconds } = validatedInput(doctorInputSchema, rawInput ?? {}, 'doctor input');

  // Each check is named after the task queue it runs on; the backup directory's, which takes two, after what it checks.
  // `run` resolves to undefined for a check that does not apply (it is then left out of the report).
  const plan: Array<{ queue: string; run: () => Promise<CheckResult | undefined> }> = [
    {
      queue: Queue.docker,
      run: () => proxyActivities<DockerActivities>(checkOptions(Queue.docker, waitSeconds)).checkDockerEngine({ check: Queue.docker }),
    },
    ...nodes.map((node) => {
      const queue = nodeQueue(node);
      return {
        queue,
        run: () =>
          proxyActivities<DockerActivities>(checkOptions(queue, waitSeconds)).checkDockerEngine({ check: queue, expectedNode: node }),
      };
    }),
    { queue: Queue.db, run: () => proxyActivities<DbActivities>(checkOptions(Queue.db, waitSeconds)).checkDatabase() },
    { queue: Queue.aws, run: () => proxyActivities<AwsActivities>(checkOptions(Queue.aws, waitSeconds)).checkAws() },
    ...(patched(BACKUP_DIR_PROBE) ? [{ queue: BACKUP_DIR_CHECK, run: () => checkBackupDir(waitSeconds) }] : []),
  ];

  const progress = trackProgress(plan.map((p) => p.queue));

  const results = await Promise.all(
    plan.map(async ({ queue, run }): Promise<CheckResult | undefined> => {
      progress.start(queue, queue === BACKUP_DIR_CHECK ? `on task queues ${Queue.db} and ${Queue.docker}` : `on task queue ${queue}`);
      const result = await run().catch((err: unknown) => failedCheck(queue, waitSeconds, err));
      if (result === undefined) progress.finish(queue, 'skipped', 'not configured');
      else progress.finish(queue, result.status === 'fail' ? 'failed' : 'done', result.summary);
      return result;
    }),
  );
  const checks = results.filter((r): r is CheckResult => r !== undefined);
  const status = overallStatus(checks);
  progress.end('completed');
  return { status, checks };
}

/**
 * The db worker writes a probe in its SCIOPS_BACKUP_DIR, the docker worker must find it in its own and remove it
 * (as it verifies, writes manifests in and prunes what the db worker dumps). Undefined when the db worker has
 * no SCIOPS_BACKUP_DIR, or no db worker answers (the db line says so).
 */
async function checkBackupDir(waitSeconds: number): Promise<CheckResult | undefined> {
  const probe = { name: `.sciops-doctor-${uuid4()}`, token: uuid4() };
  const db = proxyActivities<DbActivities>(checkOptions(Queue.db, waitSeconds));
  const written = await db.writeBackupDirProbe(probe).catch(() => undefined);
  if (written?.dir === undefined) return undefined;
  const facts: Array<[string, string]> = [['db worker', `SCIOPS_BACKUP_DIR=${written.dir}`]];
  if (written.error !== undefined) {
    return {
      check: BACKUP_DIR_CHECK,
      status: 'fail',
      summary: written.error,
      fix: `mount the backup volume (or shared file system) at ${written.dir} on the db worker, writable by its user, or correct SCIOPS_BACKUP_DIR`,
      facts,
    };
  }
  const result = await proxyActivities<DockerActivities>(checkOptions(Queue.docker, waitSeconds))
    .readBackupDirProbe({ ...probe, writerDir: written.dir })
    .catch((err: unknown): CheckResult => {
      const failed = failedCheck(Queue.docker, waitSeconds, err);
      return {
        ...failed,
        check: BACKUP_DIR_CHECK,
        summary: `the docker worker did not look for the db worker's probe: ${failed.summary}`,
        facts,
      };
    });
  if (result.status !== 'ok') await db.removeBackupDirProbe({ name: probe.name }).catch(() => undefined);
  return result;
}

/** What an activity failure means for the report: no worker on the queue, or a check that broke. */
function failedCheck(queue: string, waitSeconds: number, err: unknown): CheckResult {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure && cause.timeoutType === TimeoutType.SCHEDULE_TO_START) {
    return noWorkerResult(queue, waitSeconds);
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return {
    check: queue,
    status: 'fail',
    summary: `the check failed on task queue "${queue}": ${message}`,
    fix: 'see the worker log for this queue',
    facts: [['task queue', queue]],
  };
}
