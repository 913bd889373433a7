import type { WorkflowHandle } from '@temporalio/client';
import { type KillMoment, type KillReport, killAt } from './kill-moment';
import type { Random } from './random';
import type { World } from './world';

/** One trial: its number, its own generator, a name unique to it, when it began and when it kills. */
export interface Trial {
  readonly number: number;
  readonly random: Random;
  readonly name: string;
  readonly since: number;
  readonly moment: KillMoment;
}

/** How a trial went: in words, where the kill landed, and every invariant it broke. */
export interface Outcome {
  readonly text: string;
  readonly kill: KillReport;
  readonly violations: string[];
}

/** A kind of workflow the suite crashes: how many activities a run of it usually shows, and how to run one. */
export interface Scenario {
  readonly name: string;
  readonly activities: number;
  run(world: World, trial: Trial): Promise<Outcome>;
}

/** How a workflow ended: its result, its failure, or still running at the deadline (then terminated). */
export type End = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string; readonly hung?: true };

/** Longer than any trial's workflow takes, even after its worker died inside an activity of a minute's timeout. */
const DEADLINE_MS = 5 * 60_000;

/** The innermost message of a workflow's failure (the activity's own error, not "Activity task failed"). */
export function rootMessage(err: unknown): string {
  let at = err as Error & { cause?: unknown };
  while (at.cause instanceof Error) at = at.cause as Error & { cause?: unknown };
  return at.message;
}

/** Waits for the workflow to close, and SIGKILLs a worker at the trial's moment meanwhile. */
export async function runCrashed(world: World, trial: Trial, handle: WorkflowHandle): Promise<{ kill: KillReport; end: End }> {
  const ended = handle.result().then(
    (value): End => ({ ok: true, value }),
    (err: unknown): End => ({ ok: false, error: rootMessage(err) }),
  );
  const deadline = new Promise<End>((resolve) => {
    const timer = setTimeout(() => {
      // Terminated, so that the kill watcher (waiting for it to close) returns too.
      void handle.terminate('the crash suite gave up on it').catch(() => undefined);
      resolve({ ok: false, error: `still running after ${DEADLINE_MS / 1000} s`, hung: true });
    }, DEADLINE_MS);
    void ended.finally(() => clearTimeout(timer));
  });
  const [kill, end] = await Promise.all([killAt(handle, trial.moment, world.workers), Promise.race([deadline, ended])]);
  return { kill, end };
}

/** Starts a workflow of the trial on the workflow queue. */
export function startWorkflow(world: World, type: string, workflowId: string, input: unknown): Promise<WorkflowHandle> {
  return world.env.client.workflow.start(type, { taskQueue: 'sciops', workflowId, args: [input] });
}
