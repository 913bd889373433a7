import { type Client, WorkflowFailedError } from '@temporalio/client';
import type { Command } from 'commander';
import { InputError } from '../../../common/errors';
import { EXPERIMENT_ID, type ExperimentResult } from '../../../common/experiment';
import type { ExperimentState } from '../../../common/experiment-state';
import { type Progress, progressQuery } from '../../../common/progress';
import { SearchAttribute } from '../../../common/search-attributes';
import { experimentWorkflowId } from '../../../common/workflow-ids';
import { connectClient } from '../../connection';
import { type Output, withOutput } from '../../output';
import { renderExperiment } from './render';

export interface ExperimentStatus {
  readonly id: string;
  readonly workflowId: string;
  /** Temporal's status of the workflow: RUNNING, COMPLETED, FAILED, TERMINATED... */
  readonly workflowStatus: string;
  readonly state?: ExperimentState;
  readonly result?: ExperimentResult;
  readonly progress?: Progress;
  /** Why the workflow itself failed (not the experiment: that is result.state). */
  readonly failure?: string;
}

export function checkedId(id: string): string {
  if (!EXPERIMENT_ID.test(id)) throw new InputError('experiment id', [`"${id}" is not an experiment id (letters, digits, _ and -)`]);
  return id;
}

/** What the experiment's workflow says: its state search attribute, its progress while running, its result once ended. */
export async function experimentStatusWith(client: Client, id: string): Promise<ExperimentStatus> {
  const workflowId = experimentWorkflowId(checkedId(id));
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe();
  const base = {
    id,
    workflowId,
    workflowStatus: description.status.name,
    state: description.typedSearchAttributes.get(SearchAttribute.experimentState) as ExperimentState | undefined,
  };
  if (description.status.name === 'RUNNING') {
    return { ...base, progress: await handle.query(progressQuery).catch(() => undefined) };
  }
  try {
    const result = (await handle.result()) as ExperimentResult;
    return { ...base, state: result.state, result };
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : (err as Error).message;
    return { ...base, failure: cause };
  }
}

export async function experimentStatus(id: string): Promise<ExperimentStatus> {
  const { client, close } = await connectClient();
  try {
    return await experimentStatusWith(client, id);
  } finally {
    await close();
  }
}

export function renderStatus(status: ExperimentStatus, out: Output): number {
  out.print(renderExperiment({ id: status.id, state: status.state, ...status.result }, status.progress));
  if (status.failure !== undefined) out.print(`  workflow   ${status.workflowStatus}: ${status.failure}`);
  return status.workflowStatus === 'RUNNING' || status.state === 'COMPLETED' ? 0 : 1;
}

export function registerStatus(parent: Command): void {
  parent
    .command('status <id>')
    .description("an experiment's state, its current step while it runs, its exit code and output once ended")
    .action((id: string, _options: unknown, command: Command) => withOutput(() => experimentStatus(id), renderStatus)(undefined, command));
}
