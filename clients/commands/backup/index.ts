import type { Command } from 'commander';
import { registerBackupImport } from './import';
import { registerBackupList } from './list';
import { registerBackupRun } from './run';
import { registerBackupSchedule } from './schedule';

/** `sciops backup <run|list|import|schedule>`: one file per subcommand. */
export function registerBackup(program: Command): void {
  const backup = program
    .command('backup')
    .description('back up PostgreSQL databases and Docker volumes: now, or on a Temporal Schedule')
    .addHelpText(
      'after',
      '\nExamples:\n  sciops backup run examples/backups/omics-nightly.yaml\n  sciops backup list examples/backups/omics-nightly.yaml\n  sciops backup schedule create nightly --cron "0 3 * * *" examples/backups/omics-nightly.yaml',
    );
  registerBackupRun(backup);
  registerBackupList(backup);
  registerBackupImport(backup);
  registerBackupSchedule(backup);
}
