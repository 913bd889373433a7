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
  type RestoreInput,
  type RestoreReport,
  restoreFailedMessage,
  restoreInputSchema,
  runPath,
  serviceLockKey,
  targetLockKey,
} from '../common/backup';
import { BACKUP_CORRUPT_TYPE, BACKUP_FAILED_TYPE, TARGET_NOT_EMPTY_TYPE } from '../common/backup-failures';
import { specDisagreements } from '../common/backup-manifest';
import { approveRestoreSignal } from '../common/backup-signals';
import { SearchAttribute } from '../common/search-attributes';
import { dumpTarget, expectedOf, newRunId, withServicesPaused } from './backup';
import { manager, postgres, volumeEngine } from './backup-activities';
import { withTargetLocks } from './backup-lock';
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
async function restoreOne(target: BackupTarget, input: RestoreInput, key: string, expected: ReturnType<typeof expectedOf>) {
  const { destination } = input;
  if (target.kind === 'postgres')
    return { tables: await postgres.restorePostgres({ urlEnv: target.urlEnv, mode: target.mode, destination, key, expected }) };
  if (target.kind === 'mongo') return { collections: await postgres.restoreMongo({ target, destination, key, expected }) };
  return { files: await volumeEngine(target.node).restoreVolume({ target, destination, key, expected }) };
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

/** Refuses, having changed nothing, when a target holds data and `force` was not given. */
async function refuseUnlessEmpty(chosen: readonly DumpRecord[], targetOf: (d: DumpRecord) => BackupTarget, force: boolean) {
  if (force) return;
  const holding: string[] = [];
  for (const d of chosen) {
    const holds = await held(targetOf(d));
    if (holds !== undefined) holding.push(`${d.target} (${holds})`);
  }
  if (holding.length > 0) {
    throw refuse(
      TARGET_NOT_EMPTY_TYPE,
      `targets hold data: ${holding.join(', ')}; restore with force to replace it (a safety backup is taken first). Nothing was changed`,
    );
  }
}

/**
 * The restore runbook, with the checks nobody did by hand: the manifest checked (and, given the backup's
 * spec, held to it), every file's checksum against the manifest before anything is touched; a target holding
 * data is refused unless `force`; an optional approval; the targets locked (no backup or other restore of
 * them meanwhile); the services paused; a safety backup of every target; each dump restored (the bytes
 * checked again as they are read) and compared with the manifest's counts; on any failure the safety backup
 * is put back into the targets the restore touched; the services always resumed at their replicas.
 */
export async function restore(rawInput: unknown): Promise<RestoreReport> {
  const input = validatedInput(restoreInputSchema, rawInput, 'restore input');
  const progress = trackProgress(['check', 'approval', 'lock targets', 'pause services', 'safety backup', 'restore', 'resume services']);
  let approved = !input.approve;
  setHandler(approveRestoreSignal, () => {
    approved = true;
  });
  try {
    progress.start('check');
    const manifest = await manager.readManifest({ destination: input.destination, backup: input.backup, run: input.run });
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
    const disagreements =
      input.spec === undefined
        ? []
        : specDisagreements(
            manifest,
            input.spec,
            chosen.map((d) => d.target),
          );
    if (disagreements.length > 0) {
      throw refuse(
        BACKUP_CORRUPT_TYPE,
        `the run's manifest does not match the backup spec given: ${disagreements.join('; ')}; nothing was changed`,
      );
    }
    const spec = input.spec ?? manifest.spec;
    const targetOf = (d: DumpRecord) => restoredTarget(spec.targets.find((t) => t.name === d.target) as BackupTarget, input);
    upsertSearchAttributes([
      { key: SearchAttribute.backupKind, value: 'restore' },
      { key: SearchAttribute.backupTarget, value: chosen.map((d) => d.target) },
    ]);
    const folder = runPath(input.backup, input.run);
    const versions = new Map<string, string | undefined>();
    for (const d of chosen) {
      const checked = await manager.verifyDumpFile({
        destination: input.destination,
        key: `${folder}${d.file}`,
        ...expectedOf(d),
        kind: d.kind,
      });
      versions.set(d.target, checked.version);
    }
    await refuseUnlessEmpty(chosen, targetOf, input.force);
    progress.finish('check', 'done', `${chosen.length} files match the manifest`);

    progress.start('approval', input.approve ? `waiting: sciops restore approve ${workflowInfo().workflowId}` : undefined);
    await condition(() => approved);
    progress.finish('approval', input.approve ? 'done' : 'skipped');

    progress.start('lock targets');
    const waiting = (key: string) => progress.start('lock targets', `waiting: another backup or restore holds ${key}`);
    const { restored, safety } = await withTargetLocks(
      [...chosen.map((d) => targetLockKey(targetOf(d))), ...spec.stopServices.map(serviceLockKey)],
      waiting,
      async () => {
        progress.finish('lock targets', 'done');
        // Again, now that no backup or restore can change them: data may have arrived while this one waited.
        await refuseUnlessEmpty(chosen, targetOf, input.force);
        progress.start('pause services');
        return withServicesPaused(spec.stopServices, async () => {
          progress.finish('pause services', spec.stopServices.length === 0 ? 'skipped' : 'done');
          // Taken with the services stopped: nothing written after it is lost by the restore.
          progress.start('safety backup');
          const safetyRun = newRunId();
          const safety = `${input.backup}/safety-${safetyRun}/`;
          const saved = new Map<string, DumpRecord>();
          for (const d of chosen) saved.set(d.target, await dumpTarget(targetOf(d), input.destination, safety, safetyRun, true));
          progress.finish('safety backup', 'done', safety);

          progress.start('restore');
          const touched: DumpRecord[] = [];
          try {
            for (const d of chosen) {
              progress.start('restore', d.target);
              touched.push(d);
              const found = await restoreOne(targetOf(d), input, `${folder}${d.file}`, expectedOf(d, versions.get(d.target)));
              const diff = differences(d, found);
              if (diff.length > 0) throw refuse(BACKUP_FAILED_TYPE, `restored data does not match the manifest: ${diff.join('; ')}`);
            }
          } catch (err) {
            progress.finish('restore', 'failed', 'putting the safety backup back');
            throw await putBack(touched, targetOf, input, safety, saved, rootMessage(err));
          }
          progress.finish('restore', 'done', chosen.map((d) => d.target).join(', '));
          progress.start('resume services');
          return { restored: chosen.map((d) => d.target), safety };
        });
      },
    );
    progress.finish('resume services', spec.stopServices.length === 0 ? 'skipped' : 'done');
    progress.end('completed');
    return { backup: input.backup, run: input.run, restored, safety };
  } catch (err) {
    progress.end('failed');
    throw err;
  }
}

/**
 * After a failed restore: puts the safety backup back into the targets the restore touched (those restored,
 * and the one that failed), even when the restore was cancelled, and returns the failure to throw, saying
 * exactly which targets got their safety copy back and which did not.
 */
async function putBack(
  touched: readonly DumpRecord[],
  targetOf: (d: DumpRecord) => BackupTarget,
  input: RestoreInput,
  safety: string,
  saved: ReadonlyMap<string, DumpRecord>,
  why: string,
): Promise<ApplicationFailure> {
  const back: string[] = [];
  const notBack: string[] = [];
  await CancellationScope.nonCancellable(async () => {
    for (const d of touched) {
      const copy = saved.get(d.target) as DumpRecord;
      try {
        await restoreOne(targetOf(d), input, `${safety}${copy.file}`, expectedOf(copy));
        back.push(d.target);
      } catch (undoErr) {
        log.error('putting the safety backup back failed; restore it by hand', { target: d.target, safety, error: String(undoErr) });
        notBack.push(`${d.target} (${rootMessage(undoErr)})`);
      }
    }
  });
  return refuse(BACKUP_FAILED_TYPE, restoreFailedMessage(why, safety, back, notBack));
}
