import {
  ApplicationFailure,
  CancellationScope,
  condition,
  log,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  type BackupTarget,
  type DumpRecord,
  differences,
  type Manifest,
  type RestoreInput,
  type RestoreReport,
  restoreInputSchema,
  runId,
  runPath,
} from '../common/backup';
import { BACKUP_CORRUPT_TYPE, BACKUP_FAILED_TYPE, TARGET_NOT_EMPTY_TYPE } from '../common/backup-failures';
import { approveRestoreSignal } from '../common/backup-signals';
import { SearchAttribute } from '../common/search-attributes';
import { dumpTarget, withServicesPaused } from './backup';
import { manager, postgres, volumeEngine } from './backup-activities';
import { trackProgress } from './progress-tracker';
import { INVALID_INPUT, validatedInput } from './validated-input';

const refuse = (type: string, message: string) => ApplicationFailure.create({ type, nonRetryable: true, message });

/** The message of the innermost cause (an activity's own error, not "Activity task failed"). */
function rootMessage(err: unknown): string {
  let at = err as Error & { cause?: unknown };
  while (at.cause instanceof Error) at = at.cause as Error & { cause?: unknown };
  return at.message;
}

/** Puts one dump back into its target; returns what the target then holds, to compare with the manifest. */
async function restoreOne(target: BackupTarget, input: RestoreInput, key: string, mode?: 'full') {
  const { destination } = input;
  if (target.kind === 'postgres')
    return { tables: await postgres.restorePostgres({ urlEnv: target.urlEnv, mode: mode ?? target.mode, destination, key }) };
  if (target.kind === 'mongo') return { collections: await postgres.restoreMongo({ target, destination, key }) };
  return { files: await volumeEngine(target.node).restoreVolume({ target, destination, key }) };
}

/**
 * The target a restore writes to: the backed-up one, except a Mongo database that nsFrom names, which goes to
 * nsTo's (its safety backup and emptiness check are then of that database). Pure.
 */
function restoredTarget(target: BackupTarget, input: RestoreInput): BackupTarget {
  if (target.kind !== 'mongo' || input.nsFrom !== `${target.database}.*` || input.nsTo === undefined) return target;
  return { ...target, database: input.nsTo.slice(0, -2) };
}

/** What a target holds now, in words (rows in 2 tables, 40 documents, 3 files); undefined when empty. */
async function held(target: BackupTarget): Promise<string | undefined> {
  const some = (n: number, one: string, many: string) => (n === 0 ? undefined : `${n} ${n === 1 ? one : many}`);
  if (target.kind === 'postgres') {
    const tables = await postgres.postgresTablesWithRows({ urlEnv: target.urlEnv });
    return tables.length === 0 ? undefined : `rows in ${some(tables.length, 'table', 'tables')}`;
  }
  if (target.kind === 'mongo') {
    const counts = await postgres.mongoDocuments({ target });
    return some(
      Object.values(counts).reduce((a, b) => a + b, 0),
      'document',
      'documents',
    );
  }
  return some(await volumeEngine(target.node).volumeFiles({ target }), 'file', 'files');
}

/**
 * The restore runbook, with the checks nobody did by hand: every file's checksum against the manifest before
 * anything is touched; a target holding data is refused unless `force`; an optional approval; a safety backup
 * of every target first (full dumps); the services paused; each dump restored and compared with the manifest's
 * counts; on any failure the safety backup is put back; the services always resumed at their replicas.
 */
export async function restore(rawInput: unknown): Promise<RestoreReport> {
  const input = validatedInput(restoreInputSchema, rawInput, 'restore input');
  const progress = trackProgress(['check', 'approval', 'safety backup', 'pause services', 'restore', 'resume services']);
  let approved = !input.approve;
  setHandler(approveRestoreSignal, () => {
    approved = true;
  });
  try {
    progress.start('check');
    const manifest: Manifest | null = await manager.readManifest({ destination: input.destination, backup: input.backup, run: input.run });
    if (manifest === null) {
      throw refuse(BACKUP_CORRUPT_TYPE, `no complete backup ${runPath(input.backup, input.run)} (no manifest): nothing was changed`);
    }
    const unknown = input.targets.filter((t) => !manifest.dumps.some((d) => d.target === t));
    if (unknown.length > 0) {
      throw refuse(
        INVALID_INPUT,
        `invalid restore input: targets: ${unknown.join(', ')} not in this backup (it has ${manifest.dumps.map((d) => d.target).join(', ')}); nothing was changed`,
      );
    }
    const chosen = manifest.dumps.filter((d) => input.targets.length === 0 || input.targets.includes(d.target));
    const targetOf = (d: DumpRecord) => restoredTarget(manifest.spec.targets.find((t) => t.name === d.target) as BackupTarget, input);
    upsertSearchAttributes([
      { key: SearchAttribute.backupKind, value: 'restore' },
      { key: SearchAttribute.backupTarget, value: chosen.map((d) => d.target) },
    ]);
    const folder = runPath(input.backup, input.run);
    for (const d of chosen) {
      await manager.verifyDumpFile({ destination: input.destination, key: `${folder}${d.file}`, bytes: d.bytes, sha256: d.sha256 });
    }
    const holding: string[] = [];
    for (const d of chosen) {
      const holds = await held(targetOf(d));
      if (holds !== undefined) holding.push(`${d.target} (${holds})`);
    }
    if (holding.length > 0 && !input.force) {
      throw refuse(
        TARGET_NOT_EMPTY_TYPE,
        `targets hold data: ${holding.join(', ')}; restore with force to replace it (a safety backup is taken first). Nothing was changed`,
      );
    }
    progress.finish('check', 'done', `${chosen.length} files match the manifest`);

    progress.start('approval', input.approve ? `waiting: sciops restore approve ${workflowInfo().workflowId}` : undefined);
    await condition(() => approved);
    progress.finish('approval', input.approve ? 'done' : 'skipped');

    progress.start('safety backup');
    const safetyRun = runId(new Date());
    const safety = `${input.backup}/safety-${safetyRun}/`;
    const saved = new Map<string, DumpRecord>();
    for (const d of chosen) saved.set(d.target, await dumpTarget(targetOf(d), input.destination, safety, safetyRun, 'full'));
    progress.finish('safety backup', 'done', safety);

    progress.start('pause services');
    const restored = await withServicesPaused(manifest.spec.stopServices, async () => {
      progress.finish('pause services', manifest.spec.stopServices.length === 0 ? 'skipped' : 'done');
      progress.start('restore');
      const done: string[] = [];
      try {
        for (const d of chosen) {
          progress.start('restore', d.target);
          const found = await restoreOne(targetOf(d), input, `${folder}${d.file}`);
          const diff = differences(d, found);
          if (diff.length > 0) throw refuse(BACKUP_FAILED_TYPE, `restored data does not match the manifest: ${diff.join('; ')}`);
          done.push(d.target);
        }
      } catch (err) {
        progress.finish('restore', 'failed', 'putting the safety backup back');
        // Even when the restore was cancelled: the targets must not stay half-restored.
        await CancellationScope.nonCancellable(async () => {
          for (const d of chosen) {
            const copy = saved.get(d.target) as DumpRecord;
            await restoreOne(targetOf(d), input, `${safety}${copy.file}`, 'full').catch((undoErr: unknown) =>
              log.error('putting the safety backup back failed; restore it by hand', { target: d.target, safety, error: String(undoErr) }),
            );
          }
        });
        throw refuse(BACKUP_FAILED_TYPE, `restore failed and the safety backup (${safety}) was put back: ${rootMessage(err)}`);
      }
      progress.finish('restore', 'done', done.join(', '));
      progress.start('resume services');
      return done;
    });
    progress.finish('resume services', manifest.spec.stopServices.length === 0 ? 'skipped' : 'done');
    progress.end('completed');
    return { backup: input.backup, run: input.run, restored, safety };
  } catch (err) {
    progress.end('failed');
    throw err;
  }
}
