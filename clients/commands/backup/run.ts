import type { Command } from 'commander';
import { type BackupReport, backupSpecSchema } from '../../../common/backup';
import { parseInput } from '../../../common/validate';
import { backupWorkflowId } from '../../../common/workflow-ids';
import { WorkflowType } from '../../../common/workflow-types';
import { type Output, progressPrinter, withOutput } from '../../output';
import type { ProgressDisplay } from '../../progress-display';
import { readSpecFile } from '../../spec-file';
import { runWorkflow } from '../../start-workflow';

/** Validates the spec (nothing starts when it is invalid), then runs one backup as `backup-<name>-<time>`. */
export function runBackup(file: string, progress?: ProgressDisplay): Promise<BackupReport> {
  const spec = parseInput(backupSpecSchema, readSpecFile(file), `backup spec ${file}`);
  return runWorkflow<BackupReport>(WorkflowType.backup, backupWorkflowId(spec.name, new Date()), spec, { progress });
}

export function renderBackup(report: BackupReport, out: Output): number {
  for (const d of report.dumps) out.print(`${d.target.padEnd(16)} ${String(d.bytes).padStart(14)} bytes  sha256 ${d.sha256.slice(0, 16)}`);
  out.print(`backup complete${report.verified ? ' and verified' : ''}: ${report.location}`);
  if (report.pruned.length > 0) out.print(`pruned by retention: ${report.pruned.join(', ')}`);
  return 0;
}

export function registerBackupRun(parent: Command): void {
  parent
    .command('run <spec>')
    .description('back up now: dump every target, write the manifest, apply retention')
    .action((file: string, _options: unknown, command: Command) => {
      const progress = progressPrinter(command);
      return withOutput(() => runBackup(file, progress), renderBackup)(undefined, command);
    });
}
