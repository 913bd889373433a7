import { proxyActivities } from '@temporalio/workflow';
import type { DbActivities } from '../activities/db';
import type { DockerActivities } from '../activities/docker';
import type { GitlabActivities } from '../activities/gitlab/runners';
import { nodeQueue, Queue } from '../common/queues';
import { SEALED_BOX_UNREADABLE_TYPE } from '../common/sealed-box-failures';
import {
  CONFIG_REJECTED_TYPE,
  MIGRATION_FAILED_TYPE,
  NOT_CONVERGED_TYPE,
  REGISTRY_AUTH_FAILED_TYPE,
  RUNNER_FAILED_TYPE,
  SECRET_REJECTED_TYPE,
  SERVICE_REJECTED_TYPE,
  SWARM_CONFLICT_TYPE,
} from '../common/stack-failures';

const retry = {
  maximumInterval: '10s',
  nonRetryableErrorTypes: [
    NOT_CONVERGED_TYPE,
    SECRET_REJECTED_TYPE,
    CONFIG_REJECTED_TYPE,
    REGISTRY_AUTH_FAILED_TYPE,
    MIGRATION_FAILED_TYPE,
    SERVICE_REJECTED_TYPE,
    SWARM_CONFLICT_TYPE,
    RUNNER_FAILED_TYPE,
    SEALED_BOX_UNREADABLE_TYPE,
  ],
};

/** The manager's docker activities (swarm objects), with the timeouts deploys need. */
export const manager = proxyActivities<DockerActivities>({ taskQueue: Queue.docker, startToCloseTimeout: '1m', retry });

/** Waiting for convergence: long, heartbeating. */
export const converging = proxyActivities<DockerActivities>({
  taskQueue: Queue.docker,
  startToCloseTimeout: '2h',
  heartbeatTimeout: '20s',
  retry,
});

/**
 * One node's own docker activities (its volumes), on queue docker@<node>; undefined: the manager's engine,
 * on the docker queue. A node whose worker is not running fails after a minute instead of waiting forever.
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

/**
 * GitLab's runner API, through the manager's worker (it holds the access token). Waiting for a runner to come
 * online is long and heartbeats.
 */
export const gitlab = proxyActivities<GitlabActivities>({
  taskQueue: Queue.docker,
  startToCloseTimeout: '2h',
  heartbeatTimeout: '20s',
  retry,
});

/** The engine running a service's task: the manager's (`self`) through the docker queue, any other node through its own. */
export function taskEngine(task: { node: string }, self: string) {
  return onNode(task.node === self ? undefined : task.node);
}

/** The platform database's migrations, on the db queue. */
export const database = proxyActivities<DbActivities>({ taskQueue: Queue.db, startToCloseTimeout: '10m', retry });
