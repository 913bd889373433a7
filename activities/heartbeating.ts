import { Context } from '@temporalio/activity';

/** How often a long wait tells Temporal it is alive; well under the heartbeat timeouts the workflows set. */
export const HEARTBEAT_INTERVAL_MS = 2000;

/**
 * Runs `work` while heartbeating `details` every couple of seconds. When Temporal cancels the activity (the
 * workflow stopped it, or the worker is shutting down) the signal given to `work` aborts, and this rejects
 * with the cancellation, so the activity ends at once and a retry can re-attach.
 */
export async function heartbeating<T>(details: unknown, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  ctx.heartbeat(details);
  const timer = setInterval(() => ctx.heartbeat(details), HEARTBEAT_INTERVAL_MS);
  const abort = new AbortController();
  try {
    return await Promise.race([work(abort.signal), ctx.cancelled]);
  } finally {
    clearInterval(timer);
    abort.abort();
  }
}

/** Sleeps `ms`, or rejects at once when the activity is cancelled. */
export function pause(ms: number): Promise<void> {
  return Context.current().sleep(ms);
}
