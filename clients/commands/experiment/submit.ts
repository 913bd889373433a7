import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Command } from 'commander';
import { InputError } from '../../../common/errors';
import { type ExperimentResult, experimentSpecSchema } from '../../../common/experiment';
import { Queue } from '../../../common/queues';
import { parseInput } from '../../../common/validate';
import { experimentWorkflowId } from '../../../common/workflow-ids';
import { WorkflowType } from '../../../common/workflow-types';
import { connectClient } from '../../connection';
import { follow } from '../../follow';
import { type Output, progressPrinter, withOutput } from '../../output';
import type { ProgressDisplay } from '../../progress-display';
import { readSpecFile } from '../../spec-file';
import { startConfirmed } from '../../start-workflow';
import { renderExperiment } from './render';

export interface SubmitResult {
  readonly id: string;
  readonly workflowId: string;
  /** Present with --wait. */
  readonly result?: ExperimentResult;
}

/** Validates the spec (nothing starts when it is invalid), starts `experiment-<id>`, and with --wait follows it. */
export async function submitExperiment(file: string, options: { wait?: boolean; progress?: ProgressDisplay }): Promise<SubmitResult> {
  const spec = parseInput(experimentSpecSchema, readSpecFile(file), `experiment spec ${file}`);
  const workflowId = experimentWorkflowId(spec.id);
  const { client, close } = await connectClient();
  try {
    let handle: Awaited<ReturnType<typeof startConfirmed>>;
    try {
      handle = await startConfirmed(client, WorkflowType.runExperiment, { taskQueue: Queue.workflows, workflowId, args: [spec] }, 15);
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new InputError(`experiment ${spec.id}`, [
          `id: already running as ${workflowId}; follow it with \`sciops experiment status ${spec.id}\``,
        ]);
      }
      throw err;
    }
    if (!options.wait) return { id: spec.id, workflowId };
    return {
      id: spec.id,
      workflowId,
      result: await follow<ExperimentResult>(handle, { display: options.progress, cancelHint: `sciops experiment stop ${spec.id}` }),
    };
  } finally {
    await close();
  }
}

export function registerSubmit(parent: Command): void {
  parent
    .command('submit <spec>')
    .description('start an experiment from a JSON or YAML spec (workflow experiment-<id>)')
    .option('--wait', 'follow it to its end; exit 0 only when it COMPLETED')
    .addHelpText('after', '\nExamples:\n  sciops experiment submit examples/experiments/correlation.json --wait')
    .action((file: string, options: { wait?: boolean }, command: Command) => {
      const progress = progressPrinter(command);
      return withOutput(
        () => submitExperiment(file, { ...options, progress }),
        (submitted: SubmitResult, out: Output) => {
          if (submitted.result === undefined) {
            out.print(`submitted experiment ${submitted.id} (workflow ${submitted.workflowId})`);
            out.print(`follow it: sciops experiment status ${submitted.id}`);
            return 0;
          }
          out.print(renderExperiment(submitted.result));
          return submitted.result.state === 'COMPLETED' ? 0 : 1;
        },
      )(undefined, command);
    });
}
