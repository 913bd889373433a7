import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  CancellationScope,
  type ChildWorkflowHandle,
  condition,
  ParentClosePolicy,
  setHandler,
  sleep,
  startChild,
} from '@temporalio/workflow';
import { releaseTargetSignal } from '../common/backup-signals';
import { targetLockWorkflowId } from '../common/workflow-ids';

/**
 * A target's lock: a workflow whose id is the target's (see targetLockWorkflowId), so Temporal runs at most
 * one at a time. It is started as a child of the backup or restore that takes the lock and ends when that
 * workflow releases it, or, whatever happens to that workflow (failed, cancelled, terminated), when it closes.
 */
export async function backupTargetLock(): Promise<void> {
  let released = false;
  setHandler(releaseTargetSignal, () => {
    released = true;
  });
  await condition(() => released);
}

/** The patch that gave deploys and teardowns their stack's lock: runs started before it replay without. */
export const STACK_LOCK = 'stack-lock';

/** Starts the lock workflow of `key`, waiting (with backoff) while another workflow holds it. */
async function acquire(key: string, waiting: (key: string) => void): Promise<ChildWorkflowHandle<typeof backupTargetLock>> {
  for (let delay = 2_000; ; delay = Math.min(delay * 2, 30_000)) {
    try {
      return await startChild(backupTargetLock, {
        workflowId: targetLockWorkflowId(key),
        parentClosePolicy: ParentClosePolicy.TERMINATE,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      waiting(key);
      await sleep(delay);
    }
  }
}

/**
 * Runs `body` holding the locks of every key: one backup, restore or verification of a target at a time.
 * The locks are taken in one order (sorted), so two workflows that need the same targets never wait for each
 * other in a circle; `waiting` hears each key another workflow holds. They are released afterwards whatever
 * happens, also on cancellation.
 */
export async function withTargetLocks<T>(keys: readonly string[], waiting: (key: string) => void, body: () => Promise<T>): Promise<T> {
  const held: Array<ChildWorkflowHandle<typeof backupTargetLock>> = [];
  try {
    for (const key of [...new Set(keys)].sort()) held.push(await acquire(key, waiting));
    return await body();
  } finally {
    await CancellationScope.nonCancellable(() => Promise.all(held.map((lock) => lock.signal(releaseTargetSignal).catch(() => undefined))));
  }
}
