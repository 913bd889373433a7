import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Command } from 'commander';
import { InputError } from '../../common/errors';
import { Queue } from '../../common/queues';
import { type DeployReport, deployWorkflowId, stackSpecSchema } from '../../common/stack';
import type { StackPlan } from '../../common/stack-resources';
import { parseInput } from '../../common/validate';
import { WorkflowType } from '../../common/workflow-types';
import { connectClient } from '../connection';
import { follow } from '../follow';
import { type Output, progressPrinter, withOutput } from '../output';
import type { ProgressDisplay } from '../progress-display';
import { readSpecFile } from '../spec-file';
import { startConfirmed } from '../start-workflow';

export type DeployResult = ({ mode: 'plan' } & StackPlan) | ({ mode: 'deploy' } & DeployReport);

/**
 * Validates the stack file (nothing starts when it is invalid), then runs planStackDeploy (--plan: touches
 * nothing) or deployStack under the workflow id deploy-<stack>, following its progress on a terminal.
 */
export async function deploy(file: string, options: { plan?: boolean; progress?: ProgressDisplay }): Promise<DeployResult> {
  const spec = parseInput(stackSpecSchema, readSpecFile(file), `stack spec ${file}`);
  const { client, close } = await connectClient();
  try {
    const type = options.plan ? WorkflowType.planStackDeploy : WorkflowType.deployStack;
    const workflowId = options.plan ? `plan-${spec.name}-${new Date().toISOString()}` : deployWorkflowId(spec.name);
    const handle = await startConfirmed(client, type, { taskQueue: Queue.workflows, workflowId, args: [spec] }, 15).catch(
      (err: unknown) => {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw new InputError(`stack ${spec.name}`, [
            `name: a deploy of it is running (workflow ${workflowId}); wait for it, or see it in the Web UI`,
          ]);
        }
        throw err;
      },
    );
    if (options.plan) return { mode: 'plan', ...(await follow<StackPlan>(handle)) };
    return { mode: 'deploy', ...(await follow<DeployReport>(handle, { display: options.progress })) };
  } finally {
    await close();
  }
}

export function renderDeploy(result: DeployResult, out: Output): number {
  for (const c of result.changes) out.print(`${c.change.padEnd(10)} ${c.kind.padEnd(8)} ${c.name}${c.node ? ` (on ${c.node})` : ''}`);
  if (result.mode === 'plan') {
    for (const p of result.problems) out.print(`PROBLEM    ${p}`);
    return result.problems.length > 0 ? 1 : 0;
  }
  for (const step of result.migrated) out.print(`applied    step     ${step}`);
  out.print(result.unchanged ? 'nothing changed: the stack already matches its spec' : `stack ${result.stack} deployed`);
  for (const file of result.secretFiles) out.print(`generated secret: read it once from ${file} (mode 0600), then delete the file`);
  return 0;
}

export function registerDeploy(program: Command): void {
  program
    .command('deploy <stack-file>')
    .description(
      'deploy a stack (YAML or JSON): swarm init/join, volumes, networks, secrets, services, GitLab runners, migrations; a second run changes nothing',
    )
    .option('--plan', 'print what would be created, updated or left unchanged, and touch nothing')
    .addHelpText(
      'after',
      '\nExamples:\n  sciops deploy examples/stacks/omics-platform.yaml --plan\n  sciops deploy examples/stacks/omics-platform.yaml',
    )
    .action((file: string, options: { plan?: boolean }, command: Command) => {
      const progress = progressPrinter(command);
      return withOutput(() => deploy(file, { ...options, progress }), renderDeploy)(undefined, command);
    });
}
