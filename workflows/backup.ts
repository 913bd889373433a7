import { ApplicationFailure, CancellationScope, log, upsertSearchAttributes } from '@temporalio/workflow';
import {
  type BackupReport,
  type BackupSpec,
  type BackupTarget,
  backupLocation,
  backupSpecSchema,
  type Destination,
  type DumpRecord,
  differences,
  dumpFileName,
  MANIFEST_FORMAT,
  runId,
  runPath,
} from '../common/backup';
import { BACKUP_FAILED_TYPE } from '../common/backup-failures';
import { retain } from '../common/backup-retention';
import { SearchAttribute } from '../common/search-attributes';
import { manager, postgres, volumeEngine } from './backup-activities';
import { backupFinished } from './metrics';
import { trackProgress } from './progress-tracker';
import { validatedInput } from './validated-input';

/** Dumps one target into `<backup>/<run>/` (or any folder under the destination). */
export function dumpTarget(
  target: BackupTarget,
  destination: Destination,
  folder: string,
  run: string,
  mode?: 'full',
): Promise<DumpRecord> {
  const key = `${folder}${dumpFileName(target, run)}`;
  if (target.kind === 'postgres') return postgres.dumpPostgres({ target, mode, destination, key });
  if (target.kind === 'mongo') return postgres.dumpMongo({ target, destination, key });
  return volumeEngine(target.node).dumpVolume({ target, destination, key });
}

/**
 * Runs `body` with the services scaled to 0, and scales them back to their replicas afterwards whatever
 * happens: on failure, on cancellation, and when a worker dies mid-way (the workflow resumes elsewhere and
 * the remembered replicas live in a label on each service).
 */
export async function withServicesPaused<T>(services: readonly string[], body: () => Promise<T>): Promise<T> {
  const paused: string[] = [];
  try {
    for (const name of services) {
      // Recorded before the call: a pause whose answer was lost is still resumed (a service never paused
      // carries no remembered replicas, and resuming it changes nothing).
      paused.push(name);
      await manager.pauseService({ name });
    }
    return await body();
  } finally {
    await CancellationScope.nonCancellable(async () => {
      for (const name of paused.reverse()) {
        await manager
          .resumeService({ name })
          .catch((err: unknown) => log.error('could not scale a service back; do it by hand', { name, error: String(err) }));
      }
    });
  }
}

/** Restores a dump into a scratch database or volume and compares it with what the dump recorded. */
async function restoreIntoScratch(spec: BackupSpec, dump: DumpRecord, key: string): Promise<void> {
  const target = spec.targets.find((t) => t.name === dump.target) as BackupTarget;
  const { destination } = spec;
  const found =
    target.kind === 'postgres'
      ? { tables: await postgres.verifyPostgresDump({ target, destination, key }) }
      : target.kind === 'mongo'
        ? { collections: await postgres.verifyMongoDump({ target, destination, key }) }
        : { files: await volumeEngine(target.node).verifyVolumeDump({ target, destination, key }) };
  const diff = differences(dump, found);
  if (diff.length > 0) {
    throw ApplicationFailure.create({
      type: BACKUP_FAILED_TYPE,
      nonRetryable: true,
      message: `verification failed, the run is not published: ${diff.join('; ')}`,
    });
  }
}

/**
 * The backup runbook as one workflow: services paused, every target dumped into `<backup>/<run>/` (streamed,
 * checksummed, published atomically), services resumed, optional verification, the manifest written last
 * (a run without one is incomplete and never restored), then retention: grandfather-father-son over complete
 * runs, plus incomplete leftovers, and only once this run is complete.
 */
export async function backup(rawSpec: unknown): Promise<BackupReport> {
  const spec: BackupSpec = validatedInput(backupSpecSchema, rawSpec, 'backup spec');
  upsertSearchAttributes([
    { key: SearchAttribute.backupKind, value: 'backup' },
    { key: SearchAttribute.backupTarget, value: spec.targets.map((t) => t.name) },
  ]);
  const progress = trackProgress(['pause services', 'dump', 'resume services', 'verify', 'manifest', 'prune']);
  const started = new Date();
  const run = runId(started);
  const folder = runPath(spec.name, run);
  try {
    progress.start('pause services');
    const dumps = await withServicesPaused(spec.stopServices, async () => {
      progress.finish('pause services', spec.stopServices.length === 0 ? 'skipped' : 'done', spec.stopServices.join(', '));
      const done: DumpRecord[] = [];
      for (const target of spec.targets) {
        progress.start('dump', target.name);
        done.push(await dumpTarget(target, spec.destination, folder, run));
      }
      progress.finish('dump', 'done', `${done.length} files`);
      progress.start('resume services');
      return done;
    });
    progress.finish('resume services', spec.stopServices.length === 0 ? 'skipped' : 'done');

    progress.start('verify');
    for (const d of dumps) {
      await manager.verifyDumpFile({ destination: spec.destination, key: `${folder}${d.file}`, bytes: d.bytes, sha256: d.sha256 });
      if (spec.verify) await restoreIntoScratch(spec, d, `${folder}${d.file}`);
    }
    progress.finish('verify', 'done', spec.verify ? 'checksums read back; restored into scratch and compared' : 'checksums read back');

    progress.start('manifest');
    await manager.removePartials({ destination: spec.destination, folder });
    const manifest = {
      format: MANIFEST_FORMAT,
      backup: spec.name,
      run,
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      spec,
      dumps,
      verified: spec.verify,
    } as const;
    await manager.writeManifest({ destination: spec.destination, manifest });
    const location = backupLocation(spec.destination, spec.name, run);
    progress.finish('manifest', 'done', location);

    progress.start('prune');
    const runs = await manager.listBackupRuns({ destination: spec.destination, backup: spec.name });
    const { prune } = retain(runs.complete, spec.retention);
    // Incomplete runs are leftovers of failed or killed runs: they can never be restored.
    const pruned = [...prune, ...runs.incomplete.filter((r) => r !== run)];
    await manager.removeBackupRuns({ destination: spec.destination, backup: spec.name, runs: pruned });
    progress.finish('prune', 'done', `${pruned.length} removed`);
    progress.end('completed');
    backupFinished(spec.name, 'complete', sum(dumps.map((d) => d.bytes)), secondsSince(started));
    return { backup: spec.name, run, location, dumps, pruned, verified: spec.verify };
  } catch (err) {
    progress.end('failed');
    backupFinished(spec.name, 'failed', 0, secondsSince(started));
    throw err;
  }
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const secondsSince = (start: Date) => (Date.now() - start.getTime()) / 1000;

/** `sciops backup list`: the complete runs of a backup in its destination, newest first, with their manifests. */
export async function listBackups(rawSpec: unknown): Promise<Array<{ run: string; dumps: readonly DumpRecord[]; verified: boolean }>> {
  const spec = validatedInput(backupSpecSchema, rawSpec, 'backup spec');
  const { complete } = await manager.listBackupRuns({ destination: spec.destination, backup: spec.name });
  const found = [];
  for (const run of [...complete].reverse()) {
    const manifest = await manager.readManifest({ destination: spec.destination, backup: spec.name, run });
    if (manifest !== null) found.push({ run, dumps: manifest.dumps, verified: manifest.verified });
  }
  return found;
}
