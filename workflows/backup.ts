import { ApplicationFailure, CancellationScope, isCancellation, log, patched, upsertSearchAttributes } from '@temporalio/workflow';
import {
  BACKUP_MAX_HOURS,
  type BackupReport,
  type BackupSpec,
  backupLocation,
  backupSpecSchema,
  type DumpRecord,
  differences,
  leftoverRuns,
  runPath,
} from '../common/backup';
import { MANIFEST_FORMAT, type Manifest } from '../common/backup-manifest';
import { retain } from '../common/backup-retention';
import { Failure } from '../common/failures';
import { serviceLockKey, targetLockKey } from '../common/locks';
import { SearchAttribute } from '../common/search-attributes';
import { validatedInput } from '../common/validate';
import { manager } from './backup-activities';
import { newRunId, pinnedNode, type TargetEngine, targetEngine } from './backup-engines';
import { withTargetLocks } from './backup-lock';
import { withServicesPaused } from './backup-services';
import { backupFinished } from './metrics';
import { trackProgress } from './progress-tracker';

/**
 * Reads a dump back against its checksum and, for a backup that verifies, restores it into scratch and
 * compares that with what the dump recorded; a run that fails either is not published.
 */
async function checked(engine: TargetEngine, folder: string, dump: DumpRecord, verify: boolean): Promise<void> {
  const { version } = await engine.check(folder, dump);
  if (!verify) return;
  const diff = differences(dump, await engine.verify(folder, dump, version));
  if (diff.length > 0) {
    throw ApplicationFailure.create({
      type: Failure.backupFailed,
      nonRetryable: true,
      message: `verification failed, the run is not published: ${diff.join('; ')}`,
    });
  }
}

/** Backups started before the targets' client tools were checked first replay without the check. */
const CLIENT_CHECKED_FIRST = 'backup-pg-client-checked-first';

/**
 * The backup runbook as one workflow: the db worker's client tools held to each target's server first (too old a
 * pg_dump fails the run with nothing touched), its targets locked (one backup, restore or verification of a
 * target at a time), services paused, every target dumped into `<backup>/<run>/` (streamed, checksummed,
 * published atomically), services resumed, optional verification, the manifest written last (a run without one
 * is incomplete and never restored), then retention: grandfather-father-son over complete runs, plus incomplete
 * leftovers too old to be another backup still running, and only once this run is complete.
 */
export async function backup(rawSpec: unknown): Promise<BackupReport> {
  const spec: BackupSpec = validatedInput(backupSpecSchema, rawSpec, 'backup spec');
  upsertSearchAttributes([
    { key: SearchAttribute.backupKind, value: 'backup' },
    { key: SearchAttribute.backupTarget, value: spec.targets.map((t) => t.name) },
  ]);
  const progress = trackProgress(['lock targets', 'pause services', 'dump', 'resume services', 'verify', 'manifest', 'prune']);
  const started = new Date();
  try {
    // Before the first side effect (a lock, a paused service, a file): client tools too old for a server stop the run here.
    const pinned = await pinnedNode(spec.targets);
    if (patched(CLIENT_CHECKED_FIRST)) for (const t of spec.targets) await targetEngine(t, spec.destination, {}, pinned).ready(spec.verify);
    progress.start('lock targets');
    const waiting = (key: string) => progress.start('lock targets', `waiting: another backup or restore holds ${key}`);
    const keys = [...spec.targets.map(targetLockKey), ...spec.stopServices.map(serviceLockKey)];
    const { run, dumps, location } = await withTargetLocks(keys, waiting, () => {
      progress.finish('lock targets', 'done', spec.targets.map((t) => t.name).join(', '));
      // Bounded, so that a run folder older than this without a manifest is known to be a leftover.
      return CancellationScope.withTimeout(`${BACKUP_MAX_HOURS}h`, () => dumpAndPublish(spec, pinned, progress)).catch((err: unknown) => {
        if (isCancellation(err) && !CancellationScope.current().consideredCancelled) {
          throw ApplicationFailure.create({
            type: Failure.backupFailed,
            nonRetryable: true,
            message: `the backup took more than ${BACKUP_MAX_HOURS} hours and was stopped; its run is incomplete`,
          });
        }
        throw err;
      });
    });

    const pruned = await progress.step(
      'prune',
      async () => {
        const runs = await manager.quick.listBackupRuns({ destination: spec.destination, backup: spec.name });
        const { prune } = retain(runs.complete, spec.retention);
        // Incomplete runs are leftovers of failed or killed runs once older than any backup can take.
        const pruned = [...prune, ...leftoverRuns(runs.incomplete, run, new Date())];
        await manager.streaming.removeBackupRuns({ destination: spec.destination, backup: spec.name, runs: pruned });
        return pruned;
      },
      (pruned) => `${pruned.length} removed`,
    );
    progress.end('completed');
    backupFinished(spec.name, 'complete', sum(dumps.map((d) => d.bytes)), secondsSince(started));
    return { backup: spec.name, run, location, dumps, pruned, verified: spec.verify };
  } catch (err) {
    progress.end('failed', err);
    backupFinished(spec.name, 'failed', 0, secondsSince(started));
    throw err;
  }
}

/** Pause, dump, resume, verify and write the manifest, with the targets locked. */
async function dumpAndPublish(spec: BackupSpec, pinned: string | undefined, progress: ReturnType<typeof trackProgress>) {
  const started = new Date();
  const run = newRunId();
  const folder = runPath(spec.name, run);
  progress.start('pause services');
  const dumped = await withServicesPaused(spec.stopServices, async () => {
    progress.finish('pause services', spec.stopServices.length === 0 ? 'skipped' : 'done', spec.stopServices.join(', '));
    const done: Array<{ engine: TargetEngine; dump: DumpRecord }> = [];
    for (const target of spec.targets) {
      progress.start('dump', target.name);
      const engine = targetEngine(target, spec.destination, {}, pinned);
      done.push({ engine, dump: await engine.dump(folder, run) });
    }
    progress.finish('dump', 'done', `${done.length} files`);
    progress.start('resume services');
    return done;
  });
  progress.finish('resume services', spec.stopServices.length === 0 ? 'skipped' : 'done');

  progress.start('verify');
  for (const { engine, dump } of dumped) await checked(engine, folder, dump, spec.verify);
  progress.finish('verify', 'done', spec.verify ? 'checksums read back; restored into scratch and compared' : 'checksums read back');

  progress.start('manifest');
  await manager.quick.removePartials({ destination: spec.destination, folder });
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    backup: spec.name,
    run,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    spec,
    dumps: dumped.map((d) => d.dump),
    verified: spec.verify,
  };
  await manager.quick.writeManifest({ destination: spec.destination, manifest });
  const location = backupLocation(spec.destination, spec.name, run);
  progress.finish('manifest', 'done', location);
  return { run, dumps: manifest.dumps, location };
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const secondsSince = (start: Date) => (Date.now() - start.getTime()) / 1000;

/** `sciops backup list`: the complete runs of a backup in its destination, newest first, with their manifests. */
export async function listBackups(
  rawSpec: unknown,
): Promise<Array<{ run: string; dumps: readonly DumpRecord[]; verified: boolean; imported?: Manifest['imported'] }>> {
  const spec = validatedInput(backupSpecSchema, rawSpec, 'backup spec');
  const { complete } = await manager.quick.listBackupRuns({ destination: spec.destination, backup: spec.name });
  const found = [];
  for (const run of [...complete].reverse()) {
    // A manifest that does not check out is left out of the list (a restore of it would be refused).
    const manifest = await manager.quick
      .readManifest({ destination: spec.destination, backup: spec.name, run })
      .catch((err: unknown) => log.warn('a manifest that does not check out is not listed', { run, error: String(err) }));
    // An imported run (sciops backup import) says where it came from.
    if (manifest)
      found.push({
        run,
        dumps: manifest.dumps,
        verified: manifest.verified,
        ...(manifest.imported ? { imported: manifest.imported } : {}),
      });
  }
  return found;
}
