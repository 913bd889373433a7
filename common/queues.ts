/**
 * Task queues name where work can run.
 * - `sciops`: workflow tasks only.
 * - `docker`: activities against a swarm manager's engine.
 * - `docker@<node>`: activities that must run on one node's own engine (volumes, swarm join, containers). The
 *   docker worker polls its own engine's too: a run pins its engine-local steps there after the first one.
 * - `db`, `aws`: activities against PostgreSQL / MongoDB and against AWS.
 */
export const Queue = {
  workflows: 'sciops',
  docker: 'docker',
  db: 'db',
  aws: 'aws',
} as const;

export type QueueKind = (typeof Queue)[keyof typeof Queue];

export const QUEUE_KINDS: readonly QueueKind[] = Object.values(Queue);

const NODE_QUEUE_PREFIX = 'docker@';

/** The queue of the worker running on one swarm node, next to that node's Docker engine. */
export function nodeQueue(node: string): string {
  return `${NODE_QUEUE_PREFIX}${node}`;
}

/** The node of a node-local queue (`docker@gpu-1` -> `gpu-1`); undefined for any other queue. */
export function nodeOfQueue(queue: string): string | undefined {
  return queue.startsWith(NODE_QUEUE_PREFIX) ? queue.slice(NODE_QUEUE_PREFIX.length) : undefined;
}

/** Node names as Docker reports them: hostnames. */
export const NODE_NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,61}[A-Za-z0-9])?$/;

/**
 * Parses a `--queues` list (comma-separated kinds). Throws an Error naming the bad entry and the valid ones.
 * Duplicates are dropped; order is kept.
 */
export function parseQueueKinds(text: string): QueueKind[] {
  const kinds: QueueKind[] = [];
  for (const raw of text.split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    if (!(QUEUE_KINDS as readonly string[]).includes(name)) {
      throw new Error(`unknown queue "${name}": use a comma-separated list of ${QUEUE_KINDS.join(', ')}`);
    }
    if (!kinds.includes(name as QueueKind)) kinds.push(name as QueueKind);
  }
  if (kinds.length === 0) throw new Error(`no queue given: use a comma-separated list of ${QUEUE_KINDS.join(', ')}`);
  return kinds;
}
