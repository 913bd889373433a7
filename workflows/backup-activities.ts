import { type ActivityInterfaceFor, proxyActivities } from '@temporalio/workflow';
import type { DbActivities } from '../activities/db';
import type { DockerActivities } from '../activities/docker';
import { Failure, PERMANENT_FAILURE_TYPES } from '../common/failures';
import { nodeQueue, Queue } from '../common/queues';

/**
 * Bounded: the failures listed end an activity at once (what no retry fixes: a tool's error, a bad URL, the
 * engine's 4xx), anything else is retried 5 times (a dead worker, a lost connection), so that services paused
 * around it are never held at 0 by a retry loop: the run fails and resumes them.
 */
const retry = {
  maximumInterval: '30s',
  maximumAttempts: 5,
  nonRetryableErrorTypes: [Failure.backupFailed, Failure.backupCorrupt, Failure.targetNotEmpty, ...PERMANENT_FAILURE_TYPES],
};

/**
 * The timeout profiles, by the kind of work. `streaming`: what takes as long as the data does (dumps,
 * restores, verifies and checksums, counting a volume's files or a database's documents, removing whole runs)
 * and a paused service's drain, which waits its stop grace period; they heartbeat, so a dead worker is noticed
 * within 30 s. `quick`: bookkeeping and checks that answer in seconds (manifests, listing runs, a client's or
 * server's version, which tables hold rows, finding a task or an engine), which do not heartbeat: a minute
 * each, which is also how soon a dead worker is noticed.
 */
const Profile = {
  streaming: { startToCloseTimeout: '24h', heartbeatTimeout: '30s', retry },
  quick: { startToCloseTimeout: '1m', retry },
} as const;

/** One queue's activities under each profile: `db.streaming.dumpPostgres`, `manager.quick.writeManifest`. */
function byProfile<A>(queue: {
  taskQueue: string;
  scheduleToStartTimeout?: string;
}): Record<keyof typeof Profile, ActivityInterfaceFor<A>> {
  return {
    streaming: proxyActivities<A>({ ...queue, ...Profile.streaming }),
    quick: proxyActivities<A>({ ...queue, ...Profile.quick }),
  };
}

/** The db queue's worker (next to pg_dump, psql and the MongoDB driver): dumps and restores of PostgreSQL and MongoDB. */
export const db = byProfile<DbActivities>({ taskQueue: Queue.db });

/** The manager's docker worker: backup files (manifests, checksums, pruning) and pausing services. */
export const manager = byProfile<DockerActivities>({ taskQueue: Queue.docker });

/**
 * The docker worker of the node that holds a volume (its `docker@<node>` queue), or the manager's when no node
 * is named. A node whose worker does not take the task within 5 minutes fails the run (naming the queue)
 * instead of holding it, and its paused services, forever.
 */
export function dockerOn(node: string | undefined) {
  return node === undefined ? manager : byProfile<DockerActivities>({ taskQueue: nodeQueue(node), scheduleToStartTimeout: '5m' });
}
