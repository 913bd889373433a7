import type { Command } from 'commander';
import type { ExperimentResult } from '../../../common/experiment';
import { experimentWorkflowId } from '../../../common/workflow-ids';
import { connectClient } from '../../connection';
import { follow } from '../../follow';
import { withOutput } from '../../output';
import { renderExperiment } from './render';
import { checkedId } from './status';

/**
 * Cancels the experiment's workflow: it stops the container, service or Batch job (SIGTERM, then SIGKILL
 * after the grace period; TerminateJob), saves its output and records STOPPED. Waits for that, and returns
 * the record.
 */
export async function stopExperiment(id: string): Promise<ExperimentResult> {
  const { client, close } = await connectClient();
  try {
    const handle = client.workflow.getHandle(experimentWorkflowId(checkedId(id)));
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') throw new Error(`experiment ${id} is not running (its workflow is ${status.name})`);
    await handle.cancel();
    return await follow<ExperimentResult>(handle);
  } finally {
    await close();
  }
}

export function registerStop(parent: Command): void {
  parent
    .command('stop <id>')
    .description('stop a running experiment (workflow cancellation): it ends STOPPED, with its output saved')
    .action((id: string, _options: unknown, command: Command) =>
      withOutput(
        () => stopExperiment(id),
        (result: ExperimentResult, out) => {
          out.print(renderExperiment(result));
          return result.state === 'STOPPED' ? 0 : 1;
        },
      )(undefined, command),
    );
}
