import { ActivityCancellationType, patched, proxyActivities } from '@temporalio/workflow';
import type { AwsActivities } from '../activities/aws';
import type { DockerActivities } from '../activities/docker';
import { queueTimeoutSeconds } from '../common/batch-jobs';
import type { ExperimentSpec, RunOutcome } from '../common/experiment';
import { Failure } from '../common/failures';
import { nodeQueue, Queue } from '../common/queues';

/** One backend's three moves; each activity finds the experiment's container, service or job by its id. */
export interface ExperimentBackend {
  /**
   * What the worker that would run it refuses in the spec (its mounts, capabilities, output directory), each
   * reason naming the setting that would allow it; empty: nothing. The run itself checks again.
   */
  check(): Promise<string[]>;
  /**
   * Until the run has begun: Batch submits the job and waits, under batch.queueTimeoutSeconds, until it is
   * RUNNING, so that the soft limit does not count the time in the queue. Docker and swarm begin in run().
   */
  start?(): Promise<void>;
  run(): Promise<RunOutcome>;
  /** SIGTERM, then SIGKILL after the grace period (TerminateJob on Batch); undefined when it never started. */
  stop(reason: string): Promise<RunOutcome | undefined>;
  /** Frees what the run left behind, once its result is recorded. */
  remove(): Promise<void>;
}

/** The docker worker's policy check: quick, and waits for a docker worker to answer (waiting is no attempt). Bounded: 10 attempts. */
const CHECK_OPTIONS = { startToCloseTimeout: '60s', retry: { maximumInterval: '30s', maximumAttempts: 10 } } as const;
const checkSpec = proxyActivities<DockerActivities>({ ...CHECK_OPTIONS, taskQueue: Queue.docker });

/**
 * Docker runs started before their steps were pinned to the engine of the worker that took the first one replay
 * on the docker queue, where any manager's worker could take each step.
 */
const ENGINE_PINNED = 'experiment-engine-pinned';

/** A worker that dies is noticed within this, and the retry re-attaches to the run. */
const HEARTBEAT_TIMEOUT = '20s';

/** Batch runs started before the wait for RUNNING existed replay without it (their timer counted the queue). */
const BATCH_LIMIT_FROM_RUNNING = 'batch-limit-from-running';

/** Runs started before a stop or an expired limit waited for the run activity to let go replay as they ran. */
export const RUN_LETS_GO = 'experiment-run-lets-go';

/**
 * The activities of the experiment's backend, with timeouts fitted to its time limit: a run may take the soft
 * limit, the grace period and an hour of queueing on top; a dead worker is detected by its missing heartbeat;
 * retries are re-attachments after a worker died, bounded to 20 (what the engine refuses for good is a run
 * rejected, and ends it at once).
 */
export function experimentBackend(spec: ExperimentSpec, timeLimitSeconds: number): ExperimentBackend {
  const longest = `${timeLimitSeconds + spec.stopGraceSeconds + 3600}s`;
  const retry = {
    initialInterval: '1s',
    maximumInterval: '10s',
    maximumAttempts: 20,
    nonRetryableErrorTypes: [Failure.experimentRunRejected],
  };
  const options = (taskQueue: string, startToCloseTimeout: string) =>
    ({ taskQueue, startToCloseTimeout, heartbeatTimeout: HEARTBEAT_TIMEOUT, retry }) as const;
  // A stop (or the soft limit) cancels the activity that starts the run, then stops what it started. Until
  // that activity has let go it may still create the container, service or job: stopping before then finds
  // nothing, and what it creates afterwards runs unsupervised. So the cancel waits for it to end.
  const letsGo = patched(RUN_LETS_GO) ? { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } : {};
  const starting = (taskQueue: string, startToCloseTimeout: string) => ({ ...options(taskQueue, startToCloseTimeout), ...letsGo });
  const stopTimeout = `${spec.stopGraceSeconds + 600}s`;

  if (spec.backend === 'batch') {
    const start = proxyActivities<AwsActivities>(starting(Queue.aws, `${queueTimeoutSeconds(spec) + 600}s`));
    const run = proxyActivities<AwsActivities>(starting(Queue.aws, longest));
    const stop = proxyActivities<AwsActivities>(options(Queue.aws, stopTimeout));
    let jobId: string | undefined;
    const known = () => (jobId === undefined ? {} : { jobId });
    return {
      check: async () => [], // no host mounts on Batch (the schema refuses them); its EFS volumes are the job's own
      start: async () => {
        if (patched(BATCH_LIMIT_FROM_RUNNING)) ({ jobId } = await start.startBatchJob({ spec, timeLimitSeconds }));
      },
      run: () => run.runBatchJob({ spec, timeLimitSeconds, ...known() }),
      stop: (reason) => stop.terminateBatchJob({ spec, reason, ...known() }),
      remove: async () => {}, // Batch keeps finished jobs for a while and then forgets them by itself.
    };
  }
  if (spec.backend === 'swarm') {
    // A service is the swarm's: any manager's worker finds it.
    const run = proxyActivities<DockerActivities>(starting(Queue.docker, longest));
    const stop = proxyActivities<DockerActivities>(options(Queue.docker, stopTimeout));
    return {
      check: async () => (await checkSpec.checkExperimentSpec({ spec })).refusals,
      run: () => run.runExperimentService({ spec }),
      stop: () => stop.stopExperimentService({ spec }),
      remove: () => stop.removeExperimentService({ spec }),
    };
  }
  // A container is one engine's: the worker that takes the check names its node queue, and every later step
  // (the run, its retries, the stop, the removal) goes there, never to another manager's worker on docker.
  let queue: string = Queue.docker;
  const onEngine = () => ({
    check: proxyActivities<DockerActivities>({ ...CHECK_OPTIONS, taskQueue: queue }),
    run: proxyActivities<DockerActivities>(starting(queue, longest)),
    stop: proxyActivities<DockerActivities>(options(queue, stopTimeout)),
  });
  return {
    check: async () => {
      if (patched(ENGINE_PINNED)) {
        const { node } = await checkSpec.engineNode();
        if (node !== undefined) queue = nodeQueue(node);
      }
      return (await onEngine().check.checkExperimentSpec({ spec })).refusals;
    },
    run: () => onEngine().run.runExperimentContainer({ spec }),
    stop: () => onEngine().stop.stopExperimentContainer({ spec }),
    remove: () => onEngine().stop.removeExperimentContainer({ spec }),
  };
}
