import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  CancellationScope,
  type ChildWorkflowHandle,
  condition,
  ParentClosePolicy,
  patched,
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

/**
 * Runs that take their locks all at once (and wait for them to close when they let go): runs started before
 * took them one by one and let go without waiting.
 */
const LOCKS_AT_ONCE = 'locks-at-once';

type Lock = ChildWorkflowHandle<typeof backupTargetLock>;

function start(key: string): Promise<Lock> {
  return startChild(backupTargetLock, { workflowId: targetLockWorkflowId(key), parentClosePolicy: ParentClosePolicy.TERMINATE });
}

function isHeld(err: unknown): boolean {
  return err instanceof WorkflowExecutionAlreadyStartedError;
}

/** Starts the lock workflow of `key`, waiting (with backoff) while another workflow holds it. */
async function acquire(key: string, waiting: (key: string) => void): Promise<Lock> {
  for (let delay = 2_000; ; delay = Math.min(delay * 2, 30_000)) {
    try {
      return await start(key);
    } catch (err) {
      if (!isHeld(err)) throw err;
      waiting(key);
      await sleep(delay);
    }
  }
}

/**
 * Every lock in one go, or none: the locks started, or, when another workflow holds one of them, an empty
 * list after letting go of those this try took (so it never waits holding a part).
 */
async function acquireAtOnce(keys: readonly string[], release: (locks: readonly Lock[]) => Promise<void>): Promise<Lock[]> {
  const tries = await Promise.allSettled(keys.map(start));
  const taken = tries.flatMap((t) => (t.status === 'fulfilled' ? [t.value] : []));
  const failed = tries.flatMap((t) => (t.status === 'rejected' ? [t.reason as unknown] : []));
  if (failed.length === 0) return taken;
  await release(taken);
  const other = failed.find((err) => !isHeld(err));
  if (other !== undefined) throw other;
  return [];
}

/**
 * Runs `body` holding the locks of every key: one backup, restore or verification of a target at a time.
 * All are tried at once; when another workflow holds one, they are taken one by one in one order (sorted),
 * so two workflows that need the same targets never wait for each other in a circle; `waiting` hears each
 * key another workflow holds. They are released afterwards whatever happens, also on cancellation, and the
 * run ends after its locks did.
 */
export async function withTargetLocks<T>(keys: readonly string[], waiting: (key: string) => void, body: () => Promise<T>): Promise<T> {
  const atOnce = patched(LOCKS_AT_ONCE);
  const release = (locks: readonly Lock[]) =>
    CancellationScope.nonCancellable(async () => {
      await Promise.all(locks.map((lock) => lock.signal(releaseTargetSignal).catch(() => undefined)));
      if (atOnce) await Promise.all(locks.map((lock) => lock.result().catch(() => undefined)));
    });
  const sorted = [...new Set(keys)].sort();
  const held: Lock[] = atOnce ? await acquireAtOnce(sorted, release) : [];
  try {
    if (held.length === 0) for (const key of sorted) held.push(await acquire(key, waiting));
    return await body();
  } finally {
    await release(held);
  }
}
