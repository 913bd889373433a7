import type { Command } from 'commander';
import type { RecoveryReport } from '../../../common/recovery';
import { WorkflowType } from '../../../common/workflow-types';
import { withOutput } from '../../output';
import { runWorkflow } from '../../start-workflow';

/** Runs recoverExperiments now (the schedule also does, every SCIOPS_RECOVERY_MINUTES) and returns its report. */
export function recoverNow(): Promise<RecoveryReport> {
  return runWorkflow<RecoveryReport>(WorkflowType.recoverExperiments, `recover-experiments-${new Date().toISOString()}`, {});
}

export function registerRecover(parent: Command): void {
  parent
    .command('recover')
    .description('start the workflow of every experiment left PENDING or IN_PROCESS whose workflow is not running')
    .action((_options: unknown, command: Command) =>
      withOutput(recoverNow, (report: RecoveryReport, out) => {
        out.print(`started ${report.started.length}, already running ${report.running.length}, invalid ${report.invalid.length}`);
        for (const id of report.started) out.print(`  started  ${id}`);
        for (const id of report.invalid) out.print(`  invalid  ${id} (ended FINISHED_WITH_ERROR; see sciops experiment status ${id})`);
        return 0;
      })(undefined, command),
    );
}
