import { TimeoutType } from '@temporalio/common';
import { ActivityFailure, proxyActivities, setHandler, TimeoutFailure } from '@temporalio/workflow';
import type { AwsActivities } from '../activities/aws';
import type { DbActivities } from '../activities/db';
import type { DockerActivities } from '../activities/docker';
import { type CheckResult, type DoctorReport, doctorInputSchema, noWorkerResult, overallStatus } from '../common/doctor';
import { progressQuery } from '../common/progress';
import { nodeQueue, Queue } from '../common/queues';
import { ProgressTracker } from './progress-tracker';
import { validatedInput } from './validated-input';

/** A check's activity options: it must be picked up within `waitSeconds`, and a broken check is reported, not retried. */
function checkOptions(taskQueue: string, waitSeconds: number) {
  return {
    taskQueue,
    scheduleToStartTimeout: `${waitSeconds}s`,
    startToCloseTimeout: '60s',
    retry: { maximumAttempts: 1 },
  } as const;
}

/**
 * Runs one activity on each queue sciops uses (docker, db, aws, and docker@<node> for each node asked for)
 * and returns one report. A queue no worker polls, or a check that throws, becomes a failed line in the
 * report; the workflow itself only fails on invalid input.
 */
export async function doctor(rawInput?: unknown): Promise<DoctorReport> {
  const { nodes, waitSeconds } = validatedInput(doctorInputSchema, rawInput ?? {}, 'doctor input');

  const plan: Array<{ check: string; queue: string; run: () => Promise<CheckResult> }> = [
    {
      check: 'docker',
      queue: Queue.docker,
      run: () => proxyActivities<DockerActivities>(checkOptions(Queue.docker, waitSeconds)).checkDockerEngine({ check: 'docker' }),
    },
    ...nodes.map((node) => {
      const queue = nodeQueue(node);
      return {
        check: queue,
        queue,
        run: () =>
          proxyActivities<DockerActivities>(checkOptions(queue, waitSeconds)).checkDockerEngine({ check: queue, expectedNode: node }),
      };
    }),
    { check: 'db', queue: Queue.db, run: () => proxyActivities<DbActivities>(checkOptions(Queue.db, waitSeconds)).checkDatabase() },
    { check: 'aws', queue: Queue.aws, run: () => proxyActivities<AwsActivities>(checkOptions(Queue.aws, waitSeconds)).checkAws() },
  ];

  const progress = new ProgressTracker(plan.map((p) => p.check));
  setHandler(progressQuery, () => progress.snapshot());

  const checks = await Promise.all(
    plan.map(async ({ check, queue, run }): Promise<CheckResult> => {
      progress.start(check, `on task queue ${queue}`);
      const result = await run().catch((err: unknown) => failedCheck(check, queue, waitSeconds, err));
      progress.finish(check, result.status === 'fail' ? 'failed' : 'done', result.summary);
      return result;
    }),
  );
  const status = overallStatus(checks);
  progress.end('completed');
  return { status, checks };
}

/** What an activity failure means for the report: no worker on the queue, or a check that broke. */
function failedCheck(check: string, queue: string, waitSeconds: number, err: unknown): CheckResult {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure && cause.timeoutType === TimeoutType.SCHEDULE_TO_START) {
    return noWorkerResult(check, queue, waitSeconds);
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return {
    check,
    status: 'fail',
    summary: `the check failed on task queue "${queue}": ${message}`,
    fix: 'see the worker log for this queue',
    facts: [['task queue', queue]],
  };
}
