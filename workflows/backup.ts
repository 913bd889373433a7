import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  patched,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import {
  BACKUP_MAX_HOURS,
  type BackupReport,
  type BackupSpec,
  type BackupTarget,
  backupLocation,
  backupSpecSchema,
  type Destination,
  type DumpRecord,
  differences,
  dumpFileName,
  leftoverRuns,
  runId,
  runPath,
  serviceLockKey,
  targetLockKey,
} from '../common/backup';
import { BACKUP_FAILED_TYPE } from '../common/backup-failures';
import { MANIFEST_FORMAT, type Manifest } from '../common/backup-manifest';
import { retain } from '../common/backup-retention';
import { SearchAttribute } from '../common/search-attributes';
import { manager, postgres, volumeEngine } from './backup-activities';
import { withTargetLocks } from './backup-lock';
import { backupFinished } from './metrics';
import { trackProgress } from './progress-tracker';
import { validatedInput } from './validated-input';

/** Dumps one target into `<backup>/<run>/` (or any folder under the destination). */
export function dumpTarget(
  target: BackupTarget,
  destination: Destination,
  folder: string,
  run: string,
  safety?: true,
): Promise<DumpRecord> {
  const key = `${folder}${dumpFileName(target, run)}`;
  if (target.kind === 'postgres') return postgres.dumpPostgres({ target, destination, key, ...(safety ? { keepOwners: true } : {}) });
  if (target.kind === 'mongo') return postgres.dumpMongo({ target, destination, key });
  return volumeEngine(target.node).dumpVolume({ target, destination, key });
}

/** A fresh run id: now, to the millisecond, and 8 hex digits of the workflow's (deterministic) random. */
export const newRunId = () => runId(new Date(), uuid4().replace(/-/g, '').slice(0, 8));

/** Runs started before stopServices was checked up front replay without the check. */
const PAUSABLE_FIRST = 'stop-services-checked-first';

/**
 * Runs `body` with the services scaled to 0, and scales them back to their replicas afterwards whatever
 * happens: on failure, on cancellation, and when a worker dies mid-way (the workflow resumes elsewhere and
 * the remembered replicas live in a label on each service). Call it holding the services' locks: the labels
 * name this workflow, and only it resumes them.
 */
export async function withServicesPaused<T>(services: readonly string[], body: () => Promise<T>): Promise<T> {
  const holder = workflowInfo().workflowId;
  // Every service checked before the first is paused: one that is missing or global stops the run with all running.
  if (services.length > 0 && patched(PAUSABLE_FIRST)) await manager.checkServicesPausable({ names: services });
  const paused: string[] = [];
  try {
    for (const name of services) {
      // Recorded before the call: a pause whose answer was lost is still resumed (a service this workflow
      // never paused does not list it, and resuming it changes nothing).
      paused.push(name);
      const { tookOver } = await manager.pauseService({ name, holder });
      if (tookOver !== undefined) log.warn('took over a service a workflow left paused', { name, pausedBy: tookOver });
    }
    return await body();
  } finally {
    await CancellationScope.nonCancellable(async () => {
      for (const name of paused.reverse()) {
        await manager
          .resumeService({ name, holder })
          .then(({ heldBy }) => heldBy && log.warn('left a service paused: another workflow holds it', { name, heldBy }))
          .catch((err: unknown) => log.error('could not scale a service back; do it by hand', { name, error: String(err) }));
      }
    });
  }
}

/** A dump's size and SHA-256, and the version of it that was checked (S3): all a restore reads must match. */
export const expectedOf = (d: DumpRecord, version?: string) => ({
  bytes: d.bytes,
  sha256: d.sha256,
  ...(version === undefined ? {} : { version }),
});

/** Restores a dump into a scratch database or volume and compares it with what the dump recorded. */
async function restoreIntoScratch(spec: BackupSpec, dump: DumpRecord, key: string, version?: string): Promise<void> {
  const target = spec.targets.find((t) => t.name === dump.target) as BackupTarget;
  const { destination } = spec;
  const expected = expectedOf(dump, version);
  const found =
    target.kind === 'postgres'
      ? { tables: await postgres.verifyPostgresDump({ target, destination, key, expected }) }
      : target.kind === 'mongo'
        ? { collections: await postgres.verifyMongoDump({ target, destination, key, expected }) }
        : { files: await volumeEngine(target.node).verifyVolumeDump({ target, destination, key, expected }) };
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
 * The backup runbook as one workflow: its targets locked (one backup, restore or verification of a target at
 * a time), services paused, every target dumped into `<backup>/<run>/` (streamed, checksummed, published
 * atomically), services resumed, optional verification, the manifest written last (a run without one is
 * incomplete and never restored), then retention: grandfather-father-son over complete runs, plus incomplete
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
    progress.start('lock targets');
    const waiting = (key: string) => progress.start('lock targets', `waiting: another backup or restore holds ${key}`);
    const keys = [...spec.targets.map(targetLockKey), ...spec.stopServices.map(serviceLockKey)];
    const { run, dumps, location } = await withTargetLocks(keys, waiting, () => {
      progress.finish('lock targets', 'done', spec.targets.map((t) => t.name).join(', '));
      // Bounded, so that a run folder older than this without a manifest is known to be a leftover.
      return CancellationScope.withTimeout(`${BACKUP_MAX_HOURS}h`, () => dumpAndPublish(spec, progress)).catch((err: unknown) => {
        if (isCancellation(err) && !CancellationScope.current().consideredCancelled) {
          throw ApplicationFailure.create({
            type: BACKUP_FAILED_TYPE,
            nonRetryable: true,
            message: `the backup took more than ${BACKUP_MAX_HOURS} hours and was stopped; its run is incomplete`,
          });
        }
        throw err;
      });
    });

    progress.start('prune');
    const runs = await manager.listBackupRuns({ destination: spec.destination, backup: spec.name });
    const { prune } = retain(runs.complete, spec.retention);
    // Incomplete runs are leftovers of failed or killed runs once older than any backup can take.
    const pruned = [...prune, ...leftoverRuns(runs.incomplete, run, new Date())];
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

/** Pause, dump, resume, verify and write the manifest, with the targets locked. */
async function dumpAndPublish(spec: BackupSpec, progress: ReturnType<typeof trackProgress>) {
  const started = new Date();
  const run = newRunId();
  const folder = runPath(spec.name, run);
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
    const key = `${folder}${d.file}`;
    const { version } = await manager.verifyDumpFile({ destination: spec.destination, key, ...expectedOf(d), kind: d.kind });
    if (spec.verify) await restoreIntoScratch(spec, d, key, version);
  }
  progress.finish('verify', 'done', spec.verify ? 'checksums read back; restored into scratch and compared' : 'checksums read back');

  progress.start('manifest');
  await manager.removePartials({ destination: spec.destination, folder });
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    backup: spec.name,
    run,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    spec,
    dumps,
    verified: spec.verify,
  };
  await manager.writeManifest({ destination: spec.destination, manifest });
  const location = backupLocation(spec.destination, spec.name, run);
  progress.finish('manifest', 'done', location);
  return { run, dumps, location };
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const secondsSince = (start: Date) => (Date.now() - start.getTime()) / 1000;

/** `sciops backup list`: the complete runs of a backup in its destination, newest first, with their manifests. */
export async function listBackups(rawSpec: unknown): Promise<Array<{ run: string; dumps: readonly DumpRecord[]; verified: boolean }>> {
  const spec = validatedInput(backupSpecSchema, rawSpec, 'backup spec');
  const { complete } = await manager.listBackupRuns({ destination: spec.destination, backup: spec.name });
  const found = [];
  for (const run of [...complete].reverse()) {
    // A manifest that does not check out is left out of the list (a restore of it would be refused).
    const manifest = await manager
      .readManifest({ destination: spec.destination, backup: spec.name, run })
      .catch((err: unknown) => log.warn('a manifest that does not check out is not listed', { run, error: String(err) }));
    if (manifest) found.push({ run, dumps: manifest.dumps, verified: manifest.verified });
  }
  return found;
}
