import { TimeoutType } from '@temporalio/common';
import { ActivityFailure, proxyActivities, TimeoutFailure } from '@temporalio/workflow';
import type { AwsActivities } from '../activities/aws';
import type { DbActivities } from '../activities/db';
import type { DockerActivities } from '../activities/docker';
import { type CheckResult, type DoctorReport, doctorInputSchema, noWorkerResult, overallStatus } from '../common/doctor';
import { nodeQueue, Queue } from '../common/queues';
import { trackProgress } from './progress-tracker';
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

  // Each check is named after the task queue it runs on.
  const plan: Array<{ queue: string; run: () => Promise<CheckResult> }> = [
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
  ];

  const progress = trackProgress(plan.map((p) => p.queue));

  const checks = await Promise.all(
    plan.map(async ({ queue, run }): Promise<CheckResult> => {
      progress.start(queue, `on task queue ${queue}`);
      const result = await run().catch((err: unknown) => failedCheck(queue, waitSeconds, err));
      progress.finish(queue, result.status === 'fail' ? 'failed' : 'done', result.summary);
      return result;
    }),
  );
  const status = overallStatus(checks);
  progress.end('completed');
  return { status, checks };
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
