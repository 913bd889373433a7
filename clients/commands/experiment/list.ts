import type { Command } from 'commander';
import { InputError } from '../../../common/errors';
import { EXPERIMENT_STATES, type ExperimentState } from '../../../common/experiment-state';
import { SearchAttribute } from '../../../common/search-attributes';
import { WorkflowType } from '../../../common/workflow-types';
import { connectClient } from '../../connection';
import { type Output, withOutput } from '../../output';

export interface ListedExperiment {
  readonly id: string;
  readonly type?: string;
  readonly state?: string;
  readonly workflowStatus: string;
  readonly startTime: string;
}

/** The visibility query for `list`: experiments' workflows, narrowed by state and type. Pure. */
export function listQuery(options: { state?: string; type?: string }): string {
  const parts = [`WorkflowType = '${WorkflowType.runExperiment}'`];
  if (options.state !== undefined) {
    if (!(EXPERIMENT_STATES as readonly string[]).includes(options.state)) {
      throw new InputError('--state', [`"${options.state}" is not a state; use one of ${EXPERIMENT_STATES.join(', ')}`]);
    }
    parts.push(`${SearchAttribute.experimentState.name} = '${options.state}'`);
  }
  if (options.type !== undefined) {
    if (!/^[a-z][a-z0-9_]*$/.test(options.type)) throw new InputError('--type', [`"${options.type}" is not an experiment type`]);
    parts.push(`${SearchAttribute.experimentType.name} = '${options.type}'`);
  }
  return parts.join(' AND ');
}

export async function listExperiments(options: { state?: ExperimentState; type?: string; limit: string }): Promise<ListedExperiment[]> {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new InputError('--limit', [`"${options.limit}" is not a positive whole number`]);
  const query = listQuery(options);
  const { client, close } = await connectClient();
  try {
    const found: ListedExperiment[] = [];
    for await (const w of client.workflow.list({ query })) {
      found.push({
        id: w.workflowId.replace(/^experiment-/, ''),
        type: w.typedSearchAttributes.get(SearchAttribute.experimentType),
        state: w.typedSearchAttributes.get(SearchAttribute.experimentState),
        workflowStatus: w.status.name,
        startTime: w.startTime.toISOString(),
      });
      if (found.length >= limit) break;
    }
    return found;
  } finally {
    await close();
  }
}

export function registerList(parent: Command): void {
  parent
    .command('list')
    .description('experiments, newest first, from Temporal visibility (the same filter as the Web UI)')
    .option('--state <state>', `only this state: ${EXPERIMENT_STATES.join(', ')}`)
    .option('--type <type>', 'only this experiment type')
    .option('--limit <n>', 'at most this many', '50')
    .action((options: { state?: ExperimentState; type?: string; limit: string }, command: Command) =>
      withOutput(
        () => listExperiments(options),
        (rows: ListedExperiment[], out: Output) => {
          if (rows.length === 0) out.print('no experiments');
          for (const r of rows) {
            out.print(`${r.id.padEnd(30)} ${(r.state ?? '-').padEnd(20)} ${(r.type ?? '-').padEnd(24)} ${r.startTime}`);
          }
          return 0;
        },
      )(undefined, command),
    );
}
