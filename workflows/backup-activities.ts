import { proxyActivities } from '@temporalio/workflow';
import type { DbActivities } from '../activities/db';
import type { DockerActivities } from '../activities/docker';
import { Failure, PERMANENT_FAILURE_TYPES } from '../common/failures';
import { nodeQueue, Queue } from '../common/queues';

/**
 * Dumps and restores stream for as long as the data takes; a dead worker is noticed by its silent heartbeat.
 * Bounded: the failures listed end it at once (what no retry fixes: a tool's error, a bad URL, the engine's
 * 4xx), anything else is retried 5 times (a dead worker, a lost connection), so that services paused around
 * it are never held at 0 by a retry loop: the run fails and resumes them.
 */
const long = {
  startToCloseTimeout: '24h',
  heartbeatTimeout: '30s',
  retry: {
    maximumInterval: '30s',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [Failure.backupFailed, Failure.backupCorrupt, Failure.targetNotEmpty, ...PERMANENT_FAILURE_TYPES],
  },
};

/** The db queue's worker (next to pg_dump, psql and the MongoDB driver): dumps and restores of PostgreSQL and MongoDB. */
export const db = proxyActivities<DbActivities>({ taskQueue: Queue.db, ...long });

/** The manager's docker worker: backup files (manifests, checksums, pruning) and pausing services. */
export const manager = proxyActivities<DockerActivities>({ taskQueue: Queue.docker, ...long });

/**
 * The docker worker of the node that holds a volume (its `docker@<node>` queue), or the manager's when no node
 * is named. A node whose worker does not take the task within 5 minutes fails the run (naming the queue)
 * instead of holding it, and its paused services, forever.
 */
export function dockerOn(node: string | undefined) {
  return node === undefined
    ? manager
    : proxyActivities<DockerActivities>({ taskQueue: nodeQueue(node), scheduleToStartTimeout: '5m', ...long });
}
