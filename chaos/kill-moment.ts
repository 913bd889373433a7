import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Random } from './random';
import type { Kill, WorkerProcesses } from './workers';

const { PendingActivityState } = temporal.api.enums.v1;

/** When to SIGKILL: `delayMs` after the workflow's `nth` activity (counted as seen started) began. */
export interface KillMoment {
  readonly nth: number;
  readonly delayMs: number;
}

/**
 * A moment among the first `activities` activities of a run, up to 1.5 s into one: short delays are the
 * likelier (most activities take well under a second, and a kill should land inside them).
 */
export function pickKillMoment(random: Random, activities: number): KillMoment {
  return { nth: random.int(1, activities), delayMs: Math.floor(1500 * random.next() ** 2) };
}

export interface KillReport {
  /** Where the kill landed, in words. */
  readonly text: string;
  readonly kill?: Kill;
}

const POLL_MS = 100;

/** The activities the workflow scheduled so far (history: none is missed, however short), and who runs which now. */
async function look(handle: WorkflowHandle) {
  const [{ raw, status }, history] = await Promise.all([handle.describe(), handle.fetchHistory()]);
  const events = history.events ?? [];
  const scheduled = events.flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    return a ? [{ eventId: String(e.eventId), activityId: a.activityId as string, type: a.activityType?.name as string }] : [];
  });
  /** The identity of the worker that ran an activity that has already ended (its started event is written then). */
  const ranBy = new Map(
    events.flatMap((e) => {
      const a = e.activityTaskStartedEventAttributes;
      return a ? [[String(a.scheduledEventId), a.identity ?? ''] as const] : [];
    }),
  );
  const running = (raw.pendingActivities ?? []).filter((a) => a.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED);
  return { open: status.name === 'RUNNING', scheduled, ranBy, running };
}

/**
 * Watches the workflow until its `nth` activity (in the order it scheduled them) has started, waits `delayMs`,
 * then SIGKILLs the worker holding an activity then (that one if it still runs, else any other running one,
 * else the one that ran it: a kill between two activities) and starts it again. Resolves without a kill when
 * the workflow ends first.
 */
export async function killAt(handle: WorkflowHandle, moment: KillMoment, workers: WorkerProcesses): Promise<KillReport> {
  for (;;) {
    const seen = await look(handle);
    if (!seen.open) return { text: `no kill: the workflow ended after ${seen.scheduled.length} activities` };
    const a = seen.scheduled[moment.nth - 1];
    const identity = a && (seen.running.find((r) => r.activityId === a.activityId)?.lastWorkerIdentity ?? seen.ranBy.get(a.eventId));
    if (a === undefined || identity === undefined) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      continue;
    }
    await new Promise((r) => setTimeout(r, moment.delayMs));
    const now = await look(handle);
    if (!now.open) return { text: `no kill: the workflow ended within ${moment.delayMs} ms of ${a.type}` };
    const same = now.running.find((r) => r.activityId === a.activityId);
    const other = now.running[0];
    const worker = workers.holderOf(same?.lastWorkerIdentity ?? other?.lastWorkerIdentity ?? identity);
    if (worker === undefined) return { text: `no kill: no worker of ours ran ${a.type}` };
    const where =
      same !== undefined
        ? `${moment.delayMs} ms into ${a.type}`
        : other !== undefined
          ? `${moment.delayMs} ms after ${a.type} began, in ${other.activityType?.name}`
          : `${moment.delayMs} ms after ${a.type} began, between activities`;
    const kill = await workers.killAndRestart(worker);
    return { text: `killed the ${worker.name} worker ${where} (activity ${moment.nth})`, kill };
  }
}
