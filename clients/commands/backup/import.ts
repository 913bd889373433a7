import type { Command } from 'commander';
import { type ImportReport, importInputSchema } from '../../../common/backup-import';
import { InputError } from '../../../common/errors';
import { parseInput } from '../../../common/validate';
import { importWorkflowId } from '../../../common/workflow-ids';
import { WorkflowType } from '../../../common/workflow-types';
import { type Output, progressPrinter, withOutput } from '../../output';
import type { ProgressDisplay } from '../../progress-display';
import { readSpecFile } from '../../spec-file';
import { runWorkflow } from '../../start-workflow';

export interface ImportOptions {
  readonly spec: string;
  readonly target: string;
  readonly kind: string;
  /** The backup's name, as a check that the spec is the one meant. */
  readonly backup?: string;
  readonly takenAt?: string;
}

/**
 * Validates the input (nothing starts when it is invalid: a target the spec lacks, a kind that is not the
 * target's), then imports FILE as a run of the spec's backup, as `import-<backup>-<target>-<time>`.
 */
export function importBackup(file: string, options: ImportOptions, progress?: ProgressDisplay): Promise<ImportReport> {
  const spec = readSpecFile(options.spec);
  const input = parseInput(
    importInputSchema,
    {
      spec,
      target: options.target,
      kind: options.kind,
      file,
      ...(options.takenAt === undefined ? {} : { takenAt: options.takenAt }),
    },
    `import into backup spec ${options.spec}`,
  );
  if (options.backup !== undefined && options.backup !== input.spec.name) {
    throw new InputError('import options', [`--backup: ${options.backup}, but ${options.spec} is the spec of backup ${input.spec.name}`]);
  }
  return runWorkflow<ImportReport>(WorkflowType.importBackup, importWorkflowId(input.spec.name, input.target, new Date()), input, {
    progress,
  });
}

export function renderImport(report: ImportReport, out: Output): number {
  out.print(
    `${report.target.padEnd(16)} ${String(report.bytes).padStart(14)} bytes  sha256 ${report.sha256.slice(0, 16)}  ${report.counts}`,
  );
  if (report.repaired.length > 0) out.print(`repaired: ${report.repaired.join(', ')}`);
  out.print(`imported as a complete run: ${report.location}`);
  return 0;
}

export function registerBackupImport(parent: Command): void {
  parent
    .command('import <file>')
    .description("import a dump made without sciops (pg_dump, mongodump, tar of a volume) as a run of a spec's backup")
    .requiredOption('--spec <spec>', 'the backup spec: its destination gets the run, its target --target is what the file is a dump of')
    .requiredOption('--target <name>', 'the target of the spec the file is a dump of')
    .requiredOption('--kind <kind>', "postgres, mongo or volume: what the file is (must be the target's kind)")
    .option('--backup <name>', "the backup's name: refused unless it is the spec's")
    .option('--taken-at <time>', 'when the file was made (ISO 8601), recorded in the manifest')
    .addHelpText(
      'after',
      '\nFILE is a path on the worker that dumps the kind (db: postgres, mongo; docker: volume), under its\nSCIOPS_BACKUP_DIR, or s3://BUCKET/KEY.\n\nExamples:\n  sciops backup import /var/lib/sciops/backups/import/multiomix_postgres_backup.sql.gz --spec examples/backups/omics-nightly.yaml --target db --kind postgres --taken-at 2024-03-01T03:00:00Z\n  sciops backup import s3://lab-old/media-backup_2024-03-01_03-00-00.tar.gz --spec examples/backups/omics-nightly.yaml --target media --kind volume',
    )
    .action((file: string, options: ImportOptions, command: Command) => {
      const progress = progressPrinter(command);
      return withOutput(() => importBackup(file, options, progress), renderImport)(undefined, command);
    });
}
