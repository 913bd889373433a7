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

/** The running activity's context; undefined when the code runs outside one (a test calling it directly). */
function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * Records, in the activity's heartbeat, that it is about to change `what` (`create volume omics_media`). An
 * attempt that changed the engine but died before its answer reached Temporal leaves this behind for the retry.
 */
export function beginning(what: string): void {
  currentContext()?.heartbeat({ begun: what });
}

/**
 * Whether an earlier attempt of this activity began changing `what` (see `beginning`): the retry then finds
 * the change made and reports it as its own (a deploy's undo must know it made the object), not as "already
 * there". As far as that attempt's heartbeat reached the server; otherwise false, as before.
 */
export function begunBefore(what: string): boolean {
  const info = currentContext()?.info;
  if (info === undefined || info.attempt <= 1) return false;
  const details = info.heartbeatDetails as { begun?: unknown } | undefined;
  return details?.begun === what;
}
