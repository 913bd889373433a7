import type { WorkflowHandle } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { DetachedError } from '../common/errors';
import { type Progress, progressQuery, stepText } from '../common/progress';
import { type ProgressDisplay, statusLine, type Transfer, transferOf } from './progress-display';

/** One line per step change: `[12s] run: running (docker, soft time limit 10800s)`. Pure. */
export function progressLines(previous: Progress | undefined, now: Progress, elapsedSeconds: number): string[] {
  const before = new Map((previous?.steps ?? []).map((s) => [s.name, `${s.state}${s.detail ?? ''}`]));
  return now.steps
    .filter((s) => before.get(s.name) !== `${s.state}${s.detail ?? ''}` && s.state !== 'pending')
    .map((s) => `[${elapsedSeconds}s] ${stepText(s)}`);
}

/** The bytes a running activity of the workflow reports streaming (its heartbeat details), decoded as the client decodes. */
async function pendingTransfer(handle: WorkflowHandle): Promise<Transfer | undefined> {
  const { raw } = await handle.describe();
  const { payloadCodecs, payloadConverter } = handle.client.options.loadedDataConverter;
  for (const activity of raw.pendingActivities ?? []) {
    let payloads = (activity.heartbeatDetails?.payloads ?? []) as Payload[];
    if (payloads.length === 0) continue;
    for (const codec of [...payloadCodecs].reverse()) payloads = await codec.decode(payloads);
    const transfer = transferOf(payloadConverter.fromPayload(payloads[0] as Payload));
    if (transfer !== undefined) return transfer;
  }
  return undefined;
}

export interface FollowOptions {
  /** Step lines and a live status line (a terminal, not --json). */
  readonly display?: ProgressDisplay;
  /** What to run to cancel the workflow, said when Ctrl-C detaches. */
  readonly cancelHint?: string;
}

/**
 * Waits for a workflow's result, showing its progress while it runs when a display is given. The progress
 * query and the heartbeat read are best-effort: a workflow between tasks simply answers next time. Ctrl-C
 * detaches (DetachedError, exit 130): the workflow keeps running, and the message says how to cancel it.
 */
export async function follow<R>(handle: WorkflowHandle, options: FollowOptions = {}): Promise<R> {
  const cancelHint = options.cancelHint ?? `temporal workflow cancel --workflow-id ${handle.workflowId}`;
  let onInterrupt = () => {};
  const interrupted = new Promise<never>((_, reject) => {
    onInterrupt = () => reject(new DetachedError(handle.workflowId, cancelHint));
  });
  process.once('SIGINT', onInterrupt);
  const result = handle.result() as Promise<R>;
  try {
    const { display } = options;
    if (display === undefined) return await Promise.race([result, interrupted]);
    const started = Date.now();
    const elapsed = () => Math.round((Date.now() - started) / 1000);
    let last: Progress | undefined;
    let done = false;
    result.then(
      () => (done = true),
      () => (done = true),
    );
    while (!done) {
      const seconds = elapsed();
      const [now, transfer] = await Promise.all([
        handle.query(progressQuery).catch(() => undefined),
        pendingTransfer(handle).catch(() => undefined),
      ]);
      if (now !== undefined) {
        for (const line of progressLines(last, now, seconds)) display.line(line);
        last = now;
      }
      // No status line once the workflow says it has ended: the result (or its failure) comes next.
      if (!done && (last === undefined || last.state === 'running')) display.status(statusLine(last, seconds, transfer));
      await Promise.race([result.catch(() => undefined), interrupted, new Promise((r) => setTimeout(r, 1000))]);
    }
    // The steps that ended after the last look, so the display ends with the whole run (no status line now).
    display.close();
    const final = await handle.query(progressQuery).catch(() => undefined);
    if (final !== undefined) for (const line of progressLines(last, final, elapsed())) display.line(line);
    return await result;
  } finally {
    options.display?.close();
    process.off('SIGINT', onInterrupt);
    interrupted.catch(() => undefined);
  }
}
