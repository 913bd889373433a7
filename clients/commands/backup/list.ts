import type { Command } from 'commander';
import { backupLocation, backupSpecSchema, type DumpRecord } from '../../../common/backup';
import type { Manifest } from '../../../common/backup-manifest';
import { parseInput } from '../../../common/validate';
import { WorkflowType } from '../../../common/workflow-types';
import { type Output, withOutput } from '../../output';
import { readSpecFile } from '../../spec-file';
import { runWorkflow } from '../../start-workflow';

export interface ListedBackup {
  readonly location: string;
  readonly run: string;
  readonly dumps: readonly DumpRecord[];
  readonly verified: boolean;
  /** Where an imported run came from (sciops backup import). */
  readonly imported?: Manifest['imported'];
}

/** The complete runs of a backup, newest first, each with the location `sciops restore` takes. */
export async function listBackups(file: string): Promise<ListedBackup[]> {
  const spec = parseInput(backupSpecSchema, readSpecFile(file), `backup spec ${file}`);
  const runs = await runWorkflow<Array<Omit<ListedBackup, 'location'>>>(
    WorkflowType.listBackups,
    `list-backups-${spec.name}-${new Date().toISOString()}`,
    spec,
  );
  return runs.map((r) => ({ ...r, location: backupLocation(spec.destination, spec.name, r.run) }));
}

export function registerBackupList(parent: Command): void {
  parent
    .command('list <spec>')
    .description("a backup's complete runs, newest first, with the location to restore from")
    .action((file: string, _options: unknown, command: Command) =>
      withOutput(
        () => listBackups(file),
        (runs: ListedBackup[], out: Output) => {
          if (runs.length === 0) out.print('no complete backup yet');
          for (const r of runs) {
            const bytes = r.dumps.reduce((sum, d) => sum + d.bytes, 0);
            const imported =
              r.imported === undefined
                ? ''
                : `  imported from ${r.imported.from}${r.imported.takenAt ? ` (taken ${r.imported.takenAt})` : ''}`;
            out.print(
              `${r.location}  ${r.dumps.map((d) => d.target).join(',')}  ${bytes} bytes${r.verified ? '  verified' : ''}${imported}`,
            );
          }
          return 0;
        },
      )(undefined, command),
    );
}
