import type { Command } from 'commander';
import { parseBackupLocation } from '../../common/backup';
import { approveRestoreSignal } from '../../common/backup-signals';
import { InputError } from '../../common/errors';
import { type RestoreReport, restoreInputSchema } from '../../common/restore';
import { parseInput } from '../../common/validate';
import { restoreWorkflowId } from '../../common/workflow-ids';
import { WorkflowType } from '../../common/workflow-types';
import { withClient } from '../connection';
import { type Output, progressPrinter, withOutput } from '../output';
import type { ProgressDisplay } from '../progress-display';
import { runWorkflow } from '../start-workflow';

export interface RestoreOptions {
  readonly target?: string[];
  readonly force?: boolean;
  readonly approve?: boolean;
  readonly nsFrom?: string;
  readonly nsTo?: string;
}

/** Restores a run named by its location (as `sciops backup list` prints it), following its progress. */
export function restoreBackup(location: string, options: RestoreOptions, progress?: ProgressDisplay): Promise<RestoreReport> {
  let where: ReturnType<typeof parseBackupLocation>;
  try {
    where = parseBackupLocation(location);
  } catch (err) {
    throw new InputError('backup location', [(err as Error).message]);
  }
  const input = parseInput(
    restoreInputSchema,
    {
      ...where,
      targets: options.target ?? [],
      force: options.force ?? false,
      approve: options.approve ?? false,
      ...(options.nsFrom === undefined ? {} : { nsFrom: options.nsFrom }),
      ...(options.nsTo === undefined ? {} : { nsTo: options.nsTo }),
    },
    'restore options',
  );
  return runWorkflow<RestoreReport>(WorkflowType.restore, restoreWorkflowId(input.backup, input.run, new Date()), input, { progress });
}

export function approveRestore(workflowId: string): Promise<{ workflowId: string }> {
  return withClient(async (client) => {
    await client.workflow.getHandle(workflowId).signal(approveRestoreSignal);
    return { workflowId };
  });
}

export function registerRestore(program: Command): void {
  program
    .command('restore <backup> [workflow-id]')
    .description('restore a backup run (<dir>/<backup>/<run> or s3://...), or `restore approve <workflow-id>`')
    .option('--target <name...>', 'only these targets of the run')
    .option('--force', 'replace targets that hold data (a safety backup is taken first)')
    .option('--approve', 'wait for `sciops restore approve <workflow-id>` before the destructive steps')
    .option('--ns-from <db.*>', 'MongoDB: the database of the dump to restore elsewhere ...')
    .option('--ns-to <db.*>', '... and the database to restore it into')
    .addHelpText(
      'after',
      '\nExamples:\n  sciops restore /var/backups/sciops/nightly/20261122T030000Z --force\n  sciops restore s3://lab-backups/omics/nightly/20261122T030000Z --target db --approve\n  sciops restore approve restore-nightly-20261122T030000Z-20261122T101500Z',
    )
    .action((backup: string, workflowId: string | undefined, options: RestoreOptions, command: Command) => {
      if (backup === 'approve') {
        if (workflowId === undefined) throw new InputError('restore approve', ['give the restore workflow id (its progress prints it)']);
        return withOutput(
          () => approveRestore(workflowId),
          (r: { workflowId: string }, out: Output) => {
            out.print(`approved ${r.workflowId}`);
            return 0;
          },
        )(undefined, command);
      }
      const progress = progressPrinter(command);
      return withOutput(
        () => restoreBackup(backup, options, progress),
        (r: RestoreReport, out: Output) => {
          out.print(`restored ${r.restored.join(', ')} from ${r.backup}/${r.run}`);
          out.print(`the state from just before is kept in ${r.safety}`);
          return 0;
        },
      )(undefined, command);
    });
}
