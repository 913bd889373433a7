import { ActivityFailure, ApplicationFailure, CancellationScope, upsertSearchAttributes } from '@temporalio/workflow';
import { backupLocation, type DumpRecord, runPath } from '../common/backup';
import { type ImportInput, type ImportReport, importedTarget, importInputSchema, repairsOf } from '../common/backup-import';
import { MANIFEST_FORMAT, type Manifest } from '../common/backup-manifest';
import { targetLockKey } from '../common/locks';
import { SearchAttribute } from '../common/search-attributes';
import { validatedInput } from '../common/validate';
import { manager } from './backup-activities';
import { type Contents, newRunId, pinnedNode, targetEngine } from './backup-engines';
import { withTargetLocks } from './backup-lock';
import { trackProgress } from './progress-tracker';

/** A copy's counts in words, for the report: `rows in 2 tables`, `40 documents in 3 collections`, `12 files`. Pure. */
function countsOf(found: Contents): string {
  const total = (c: Readonly<Record<string, number>>) => Object.values(c).reduce((a, b) => a + b, 0);
  if (found.tables !== undefined) return `${total(found.tables)} rows in ${Object.keys(found.tables).length} tables`;
  if (found.collections !== undefined)
    return `${total(found.collections)} documents in ${Object.keys(found.collections).length} collections`;
  return `${found.files ?? 0} files`;
}

/**
 * An activity's own refusal as the workflow's failure, with its type and message (a file that is not what was
 * said, naming it and why): what the operator reads, rather than "Activity task failed".
 */
function refusal(err: unknown): unknown {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure)) return err;
  const { type, message } = err.cause;
  return ApplicationFailure.create({ ...(type ? { type } : {}), message, nonRetryable: true, cause: err });
}

/**
 * A dump made outside sciops (the runbook's `pg_dump --data-only | gzip`, `mongodump --archive --gzip`, a tar of
 * the media volume) made a run of a backup, so that `backup list` and `restore` take it like any other: the file
 * checked to be what the target's kind restores before anything is written (a file that is not is refused, the
 * store untouched), the target locked as a backup locks it, the file streamed into a new run `<backup>/<run>/`
 * (CRLF line ends that `docker exec -t` wrote made LF, gzipped if it was not), read back against its checksum,
 * restored into a scratch database or volume to take its counts, and the manifest written last, with where the
 * file came from. A run that fails after its file was written is removed. The run id is the import's time, as a
 * backup's is; `takenAt`, when the file was made, goes into the manifest.
 */
export async function importBackup(rawInput: unknown): Promise<ImportReport> {
  const input: ImportInput = validatedInput(importInputSchema, rawInput, 'import input');
  const { spec } = input;
  const target = importedTarget(input);
  upsertSearchAttributes([
    { key: SearchAttribute.backupKind, value: 'import' },
    { key: SearchAttribute.backupTarget, value: [target.name] },
  ]);
  const progress = trackProgress(['check file', 'lock target', 'store', 'verify', 'manifest']);
  try {
    // Before anything is locked or written: tools too old for the server, and a file that is not this kind's dump.
    const { engine, checked, repaired } = await progress.step(
      'check file',
      async () => {
        const engine = targetEngine(target, spec.destination, {}, await pinnedNode([target]));
        await engine.ready(true);
        const checked = await engine.checkImport(input.file);
        return { engine, checked, repaired: repairsOf(checked) };
      },
      ({ checked, repaired }) => [`${checked.bytes} bytes`, ...repaired.map((r) => `to repair: ${r}`)].join(', '),
      input.file,
    );

    progress.start('lock target');
    const waiting = (key: string) => progress.start('lock target', `waiting: another backup or restore holds ${key}`);
    const report = await withTargetLocks([targetLockKey(target)], waiting, async () => {
      progress.finish('lock target', 'done', target.name);
      const started = new Date();
      const run = newRunId();
      const folder = runPath(spec.name, run);
      try {
        const stored = await progress.step(
          'store',
          () => engine.storeImport(folder, run, input.file, checked),
          (s) => `${s.bytes} bytes`,
          folder,
        );

        const found = await progress.step(
          'verify',
          async () => {
            const { version } = await engine.check(folder, stored);
            return engine.verify(folder, stored, version);
          },
          (f) => `restored into scratch: ${countsOf(f)}`,
        );
        const dump: DumpRecord = { ...stored, ...found };

        const location = await progress.step(
          'manifest',
          async () => {
            await manager.quick.removePartials({ destination: spec.destination, folder });
            const finished = new Date();
            const manifest: Manifest = {
              format: MANIFEST_FORMAT,
              backup: spec.name,
              run,
              startedAt: started.toISOString(),
              finishedAt: finished.toISOString(),
              spec,
              dumps: [dump],
              verified: true,
              imported: {
                from: input.file,
                sha256: checked.sha256,
                at: finished.toISOString(),
                ...(input.takenAt === undefined ? {} : { takenAt: input.takenAt }),
                ...(repaired.length === 0 ? {} : { repaired }),
              },
            };
            await manager.quick.writeManifest({ destination: spec.destination, manifest });
            return backupLocation(spec.destination, spec.name, run);
          },
          (location) => location,
        );
        return {
          backup: spec.name,
          run,
          location,
          target: target.name,
          bytes: dump.bytes,
          sha256: dump.sha256,
          repaired,
          counts: countsOf(found),
        };
      } catch (err) {
        // Nothing of a failed import stays behind: its run folder (never complete: no manifest) goes.
        await CancellationScope.nonCancellable(() =>
          manager.streaming.removeBackupRuns({ destination: spec.destination, backup: spec.name, runs: [run] }).catch(() => undefined),
        );
        throw err;
      }
    });
    progress.end('completed');
    return report;
  } catch (err) {
    progress.end('failed', err);
    throw refusal(err);
  }
}
