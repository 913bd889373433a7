import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import { Queue } from '../common/queues';
import { RECOVERY_SCHEDULE_ID } from '../common/workflow-ids';
import { WorkflowType } from '../common/workflow-types';

/**
 * Makes sure the recoverExperiments schedule exists (every `minutes`, overlapping runs skipped) and triggers
 * one run now: a workflow worker that starts after a crash re-queues what the crash left PENDING or
 * IN_PROCESS. An existing schedule gets the interval of the newest worker. `minutes` 0: neither.
 */
export async function startRecovery(client: Client, minutes: number): Promise<'off' | 'started'> {
  if (minutes === 0) return 'off';
  const spec = { intervals: [{ every: `${minutes}m` }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: WorkflowType.recoverExperiments,
    taskQueue: Queue.workflows,
    args: [{}],
  };
  let handle = client.schedule.getHandle(RECOVERY_SCHEDULE_ID);
  try {
    handle = await client.schedule.create({
      scheduleId: RECOVERY_SCHEDULE_ID,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: `${minutes}m` },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await handle.update((previous) => ({ ...previous, spec }));
  }
  await handle.trigger(ScheduleOverlapPolicy.SKIP);
  return 'started';
}
