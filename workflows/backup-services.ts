import { CancellationScope, log, patched, workflowInfo } from '@temporalio/workflow';
import { manager } from './backup-activities';

/** Runs started before stopServices was checked up front replay without the check. */
const PAUSABLE_FIRST = 'stop-services-checked-first';

/**
 * Runs `body` with the services scaled to 0, and scales them back to their replicas afterwards whatever
 * happens: on failure, on cancellation, and when a worker dies mid-way (the workflow resumes elsewhere and
 * the remembered replicas live in a label on each service). Call it holding the services' locks: the labels
 * name this workflow, and only it resumes them.
 */
export async function withServicesPaused<T>(services: readonly string[], body: () => Promise<T>): Promise<T> {
  const holder = workflowInfo().workflowId;
  // Every service checked before the first is paused: one that is missing or global stops the run with all running.
  if (services.length > 0 && patched(PAUSABLE_FIRST)) await manager.quick.checkServicesPausable({ names: services });
  const paused: string[] = [];
  try {
    for (const name of services) {
      // Recorded before the call: a pause whose answer was lost is still resumed (a service this workflow
      // never paused does not list it, and resuming it changes nothing).
      paused.push(name);
      const { tookOver } = await manager.streaming.pauseService({ name, holder });
      if (tookOver !== undefined) log.warn('took over a service a workflow left paused', { name, pausedBy: tookOver });
    }
    return await body();
  } finally {
    await CancellationScope.nonCancellable(async () => {
      for (const name of paused.reverse()) {
        await manager.quick
          .resumeService({ name, holder })
          .then(({ heldBy }) => heldBy && log.warn('left a service paused: another workflow holds it', { name, heldBy }))
          .catch((err: unknown) => log.error('could not scale a service back; do it by hand', { name, error: String(err) }));
      }
    });
  }
}
