import { ActivityCancellationType, patched, proxyActivities } from '@temporalio/workflow';
import type { DbActivities } from '../activities/db';
import type { DockerActivities } from '../activities/docker';
import type { GitlabActivities } from '../activities/gitlab/runners';
import { Failure, PERMANENT_FAILURE_TYPES } from '../common/failures';
import { nodeQueue, Queue } from '../common/queues';

/**
 * Every stack activity's retries are bounded: the failures listed here end it at once (the activities throw
 * them for what no retry fixes, including the engine's 4xx, see activities/classify-failures), and anything
 * else, a lost connection or an engine restarting, is retried MAX_ATTEMPTS times (about a minute and a half
 * of backoff) before the deploy fails and its undo runs. Waiting for a worker to take the task is no attempt.
 */
const MAX_ATTEMPTS = 10;
const retry = {
  maximumInterval: '10s',
  maximumAttempts: MAX_ATTEMPTS,
  nonRetryableErrorTypes: [
    Failure.serviceNotConverged,
    Failure.secretRejected,
    Failure.configRejected,
    Failure.registryAuthFailed,
    Failure.migrationFailed,
    Failure.serviceRejected,
    Failure.swarmConflict,
    Failure.runnerFailed,
    Failure.sealedBoxUnreadable,
    ...PERMANENT_FAILURE_TYPES,
  ],
};

/** The manager's docker activities (swarm objects), with the timeouts deploys need. Bounded: `retry`. */
export const manager = proxyActivities<DockerActivities>({ taskQueue: Queue.docker, startToCloseTimeout: '1m', retry });

/** Waiting for convergence: long, heartbeating. Bounded: a handful of attempts (each one a dead worker, or a lost engine). */
const convergingOptions = {
  taskQueue: Queue.docker,
  startToCloseTimeout: '2h',
  heartbeatTimeout: '20s',
  retry: { ...retry, maximumAttempts: 5 },
} as const;
export const converging = proxyActivities<DockerActivities>(convergingOptions);

/** The same waits, whose cancellation resolves only once the activity has ended (it stopped watching). */
export const convergingUntilStopped = proxyActivities<DockerActivities>({
  ...convergingOptions,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/**
 * One node's own docker activities (its volumes), on queue docker@<node>; undefined: the manager's engine,
 * on the docker queue. A node whose worker is not running fails after a minute instead of waiting forever.
 * Bounded: 3 attempts.
 */
export function onNode(node: string | undefined, waitForWorker = '1m') {
  if (node === undefined) return manager;
  return proxyActivities<DockerActivities>({
    taskQueue: nodeQueue(node),
    scheduleToStartTimeout: waitForWorker,
    startToCloseTimeout: '2m',
    retry: { ...retry, maximumAttempts: 3 },
  });
}

/** GitLab's API calls (list, find, issue, delete): they do not heartbeat, so none is asked of them. Bounded: `retry`. */
const gitlabCalls = proxyActivities<GitlabActivities>({ taskQueue: Queue.docker, startToCloseTimeout: '5m', retry });

/** Waiting for a runner to come online: long, heartbeating. Bounded: a handful of attempts. */
const gitlabWaits = proxyActivities<GitlabActivities>({
  taskQueue: Queue.docker,
  startToCloseTimeout: '2h',
  heartbeatTimeout: '20s',
  retry: { ...retry, maximumAttempts: 5 },
});

/**
 * GitLab's runner API, through the manager's worker (it holds the access token): each call with the options
 * of its kind of work, the wait for a runner to come online long and heartbeating, the others short.
 */
export const gitlab: typeof gitlabCalls = new Proxy(gitlabCalls, {
  get: (calls, name) => (name === 'waitRunnerOnline' ? gitlabWaits.waitRunnerOnline : Reflect.get(calls, name)),
});

/**
 * Deploys started before the manager's own engine-local work (its volumes, its tasks' exec, sealed boxes) went to
 * its node queue replay on the docker queue, where another manager's worker could take a step.
 */
const SELF_ON_NODE_QUEUE = 'stack-self-on-node-queue';

/**
 * The engine of `node`, through its own queue (docker@<node>); the manager's own (`self`, the engine that
 * observed the swarm) too, whose worker polls its node queue beside docker. Runs started before that replay
 * with the manager's work on the docker queue.
 */
export function engineOn(node: string, self: string, waitForWorker?: string) {
  return onNode(node === self && !patched(SELF_ON_NODE_QUEUE) ? undefined : node, waitForWorker);
}

/** The engine running a service's task (see engineOn). */
export function taskEngine(task: { node: string }, self: string) {
  return engineOn(task.node, self);
}

/** The platform database's migrations, on the db queue. Bounded: a handful of attempts (each may take minutes). */
export const database = proxyActivities<DbActivities>({
  taskQueue: Queue.db,
  startToCloseTimeout: '10m',
  retry: { ...retry, maximumAttempts: 5 },
});
