import { hostname, userInfo } from 'node:os';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { UnreachableError } from '../common/errors';
import { Queue } from '../common/queues';
import { workflowDetails, workflowSummary } from '../common/workflow-summary';
import { withClient } from './connection';
import { follow } from './follow';
import type { ProgressDisplay } from './progress-display';

/** A workflow's history has more than these events once a worker has run its first workflow task. */
const EVENTS_BEFORE_FIRST_TASK = 2;

/**
 * Starts a workflow and waits until a worker has picked up its first task. Without that check a CLI run
 * against a server with no worker would wait forever; here it ends the workflow it started and says
 * which worker to start.
 */
export async function startConfirmed(
  client: Client,
  workflowType: string,
  options: { taskQueue: string; workflowId: string; args: unknown[] },
  waitSeconds: number,
): Promise<WorkflowHandle> {
  const handle = await client.workflow.start(workflowType, {
    ...options,
    ...userMetadata(workflowType, options.workflowId, options.args[0]),
  });
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const description = await handle.describe();
    if (description.historyLength > EVENTS_BEFORE_FIRST_TASK || description.status.name !== 'RUNNING') return handle;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await handle.terminate(`no worker picked it up within ${waitSeconds}s`).catch(() => undefined);
  throw new UnreachableError(
    'TEMPORAL_ADDRESS',
    `a worker for task queue "${options.taskQueue}"`,
    `none picked up ${workflowType} within ${waitSeconds}s`,
    'Start one: `sciops worker` (or `sciops dev`), against the same server and namespace.',
  );
}

/** The Web UI's summary and details of a workflow this CLI starts. */
export function userMetadata(workflowType: string, workflowId: string, input: unknown): { staticSummary: string; staticDetails: string } {
  let who = 'the sciops CLI';
  try {
    who = `the sciops CLI (${userInfo().username}@${hostname()})`;
  } catch {
    // no user name in this environment: the CLI alone
  }
  return { staticSummary: workflowSummary(workflowType, input), staticDetails: workflowDetails(workflowType, workflowId, who) };
}

/**
 * Connects, starts a workflow on the `sciops` queue (confirmed picked up within `waitSeconds`), and returns its
 * result: what most commands do.
 */
export async function runWorkflow<R>(
  workflowType: string,
  workflowId: string,
  input: unknown,
  options: { progress?: ProgressDisplay; waitSeconds?: number; cancelHint?: string } = {},
): Promise<R> {
  return withClient(async (client) => {
    const handle = await startConfirmed(
      client,
      workflowType,
      { taskQueue: Queue.workflows, workflowId, args: [input] },
      options.waitSeconds ?? 15,
    );
    return follow<R>(handle, { display: options.progress, cancelHint: options.cancelHint });
  });
}
