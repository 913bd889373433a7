import type { Command } from 'commander';
import { type TeardownReport, teardownInputSchema } from '../../common/stack';
import { parseInput } from '../../common/validate';
import { teardownWorkflowId } from '../../common/workflow-ids';
import { WorkflowType } from '../../common/workflow-types';
import { type Output, withOutput } from '../output';
import { runWorkflow } from '../start-workflow';

export function teardown(stack: string, options: { purge?: boolean }): Promise<TeardownReport> {
  const input = parseInput(teardownInputSchema, { stack, purge: options.purge ?? false }, 'teardown options');
  return runWorkflow<TeardownReport>(WorkflowType.teardownStack, teardownWorkflowId(input.stack, new Date()), input);
}

export function registerTeardown(program: Command): void {
  program
    .command('teardown <stack>')
    .description("remove a stack's services and networks; its volumes and secrets stay unless --purge")
    .option('--purge', 'also remove its volumes (and their data) and its secrets')
    .action((stack: string, options: { purge?: boolean }, command: Command) =>
      withOutput(
        () => teardown(stack, options),
        (report: TeardownReport, out: Output) => {
          for (const r of report.removed) out.print(`removed  ${r}`);
          for (const k of report.kept) out.print(`kept     ${k}`);
          return 0;
        },
      )(undefined, command),
    );
}
