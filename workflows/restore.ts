import {
  ApplicationFailure,
  CancellationScope,
  condition,
  log,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { type BackupSpec, type BackupTarget, type DumpRecord, differences, runPath } from '../common/backup';
import { specDisagreements } from '../common/backup-manifest';
import { approveRestoreSignal } from '../common/backup-signals';
import { Failure, rootMessage } from '../common/failures';
import { serviceLockKey, targetLockKey } from '../common/locks';
import { nsFromProblem, type RestoreInput, type RestoreReport, restoreFailedMessage, restoreInputSchema } from '../common/restore';
import { SearchAttribute } from '../common/search-attributes';
import { validatedInput } from '../common/validate';
import { manager } from './backup-activities';
import { newRunId, pinnedNode, type TargetEngine, targetEngine } from './backup-engines';
import { withTargetLocks } from './backup-lock';
import { withServicesPaused } from './backup-services';
import { trackProgress } from './progress-tracker';

const refuse = (type: string, message: string) => ApplicationFailure.create({ type, nonRetryable: true, message });

/** One dump of the run and the engine of the target it goes back into; `version`: the one checked (S3). */
interface Restoring {
  readonly dump: DumpRecord;
  readonly engine: TargetEngine;
  readonly version?: string;
}

/** A restoring dump with the safety copy of what its target held just before. */
type Saved = Restoring & { readonly copy: DumpRecord };

/** Restores started before an nsFrom had to match a target replay without the check. */
const NS_FROM_MATCHES = 'restore-ns-from-matches';
/** Restores started before the targets' client tools were checked first replay without the check. */
const CLIENT_CHECKED_FIRST = 'restore-pg-client-checked-first';

/**
 * The run's manifest, held to the input: the targets it names must be in the run and, given the backup's
 * spec, the manifest must agree with it. Returns the spec whose targets are restored into and the dumps
 * chosen, each with its target's engine. Refuses, having changed nothing.
 */
async function chosenDumps(input: RestoreInput): Promise<{ spec: BackupSpec; chosen: Restoring[] }> {
  const manifest = await manager.quick.readManifest({ destination: input.destination, backup: input.backup, run: input.run });
  if (manifest === null) {
    throw refuse(Failure.backupCorrupt, `no complete backup ${runPath(input.backup, input.run)} (no manifest): nothing was changed`);
  }
  const unknown = input.targets.filter((t) => !manifest.dumps.some((d) => d.target === t));
  if (unknown.length > 0) {
    throw refuse(
      Failure.invalidInput,
      `invalid restore input: targets: ${unknown.join(', ')} not in this backup (it has ${manifest.dumps.map((d) => d.target).join(', ')}); nothing was changed`,
    );
  }
  const dumps = manifest.dumps.filter((d) => input.targets.length === 0 || input.targets.includes(d.target));
  const names = dumps.map((d) => d.target);
  const disagreements = input.spec === undefined ? [] : specDisagreements(manifest, input.spec, names);
  if (disagreements.length > 0) {
    throw refuse(
      Failure.backupCorrupt,
      `the run's manifest does not match the backup spec given: ${disagreements.join('; ')}; nothing was changed`,
    );
  }
  const spec = input.spec ?? manifest.spec;
  const targetOf = (d: DumpRecord) => spec.targets.find((t) => t.name === d.target) as BackupTarget;
  const wrongNs = patched(NS_FROM_MATCHES) ? nsFromProblem(dumps.map(targetOf), input.nsFrom) : undefined;
  if (wrongNs !== undefined) throw refuse(Failure.invalidInput, `invalid restore input: ${wrongNs}; nothing was changed`);
  const pinned = await pinnedNode(dumps.map(targetOf));
  const engineOf = (d: DumpRecord) => targetEngine(targetOf(d), input.destination, input, pinned);
  return { spec, chosen: dumps.map((dump) => ({ dump, engine: engineOf(dump) })) };
}

/** Refuses, having changed nothing, when a target holds data and `force` was not given. */
async function refuseUnlessEmpty(chosen: readonly Restoring[], force: boolean) {
  if (force) return;
  const holding: string[] = [];
  for (const { dump, engine } of chosen) {
    const holds = await engine.contents();
    if (holds !== undefined) holding.push(`${dump.target} (${holds})`);
  }
  if (holding.length > 0) {
    throw refuse(
      Failure.targetNotEmpty,
      `targets hold data: ${holding.join(', ')}; restore with force to replace it (a safety backup is taken first). Nothing was changed`,
    );
  }
}

/**
 * The restore runbook, with the checks nobody did by hand: the manifest checked (and, given the backup's spec,
 * held to it), the db worker's client tools held to each target's server, every file's checksum against the
 * manifest before anything is touched; a target holding data is refused unless `force`; an optional approval;
 * the targets locked (no backup or other restore of them meanwhile); the services paused; a safety backup of
 * every target; each dump restored (the bytes checked again as they are read) and compared with the manifest's
 * counts; on any failure the safety backup is put back into the targets the restore touched; the services always
 * resumed at their replicas.
 */
export async function restore(rawInput: unknown): Promise<RestoreReport> {
  const input = validatedInput(restoreInputSchema, rawInput, 'restore input');
  const progress = trackProgress(['check', 'approval', 'lock targets', 'pause services', 'safety backup', 'restore', 'resume services']);
  let approved = !input.approve;
  setHandler(approveRestoreSignal, () => {
    approved = true;
  });
  try {
    const folder = runPath(input.backup, input.run);
    const { spec, chosen, checked } = await progress.step(
      'check',
      async () => {
        const { spec, chosen } = await chosenDumps(input);
        upsertSearchAttributes([
          { key: SearchAttribute.backupKind, value: 'restore' },
          { key: SearchAttribute.backupTarget, value: chosen.map((c) => c.dump.target) },
        ]);
        if (patched(CLIENT_CHECKED_FIRST)) for (const c of chosen) await c.engine.ready(true);
        const checked: Restoring[] = [];
        for (const c of chosen) checked.push({ ...c, ...(await c.engine.check(folder, c.dump)) });
        await refuseUnlessEmpty(checked, input.force);
        return { spec, chosen, checked };
      },
      ({ chosen }) => `${chosen.length} files match the manifest`,
    );

    progress.start('approval', input.approve ? `waiting: sciops restore approve ${workflowInfo().workflowId}` : undefined);
    await condition(() => approved);
    progress.finish('approval', input.approve ? 'done' : 'skipped');

    progress.start('lock targets');
    const waiting = (key: string) => progress.start('lock targets', `waiting: another backup or restore holds ${key}`);
    const keys = [...checked.map((c) => targetLockKey(c.engine.target)), ...spec.stopServices.map(serviceLockKey)];
    const safety = await withTargetLocks(keys, waiting, async () => {
      progress.finish('lock targets', 'done');
      // Again, now that no backup or restore can change them: data may have arrived while this one waited.
      await refuseUnlessEmpty(checked, input.force);
      progress.start('pause services');
      return withServicesPaused(spec.stopServices, async () => {
        progress.finish('pause services', spec.stopServices.length === 0 ? 'skipped' : 'done');
        // Taken with the services stopped: nothing written after it is lost by the restore.
        const safetyRun = newRunId();
        const safety = `${input.backup}/safety-${safetyRun}/`;
        const saved = await progress.step(
          'safety backup',
          async () => {
            const saved: Saved[] = [];
            for (const c of checked) saved.push({ ...c, copy: await c.engine.dump(safety, safetyRun, true) });
            return saved;
          },
          () => safety,
        );

        await restoreEach(folder, saved, safety, progress);
        progress.start('resume services');
        return safety;
      });
    });
    progress.finish('resume services', spec.stopServices.length === 0 ? 'skipped' : 'done');
    progress.end('completed');
    return { backup: input.backup, run: input.run, restored: chosen.map((c) => c.dump.target), safety };
  } catch (err) {
    progress.end('failed', err);
    throw err;
  }
}

/**
 * Restores each dump into its target and compares what the target then holds with the manifest; on any
 * failure puts the safety backup back into the targets touched so far and throws what happened.
 */
async function restoreEach(folder: string, saved: readonly Saved[], safety: string, progress: ReturnType<typeof trackProgress>) {
  progress.start('restore');
  const touched: Saved[] = [];
  try {
    for (const s of saved) {
      progress.start('restore', s.dump.target);
      touched.push(s);
      const diff = differences(s.dump, await s.engine.restore(folder, s.dump, s.version));
      if (diff.length > 0) throw refuse(Failure.backupFailed, `restored data does not match the manifest: ${diff.join('; ')}`);
    }
  } catch (err) {
    progress.finish('restore', 'failed', 'putting the safety backup back');
    throw await putBack(touched, safety, rootMessage(err));
  }
  progress.finish('restore', 'done', saved.map((s) => s.dump.target).join(', '));
}

/**
 * After a failed restore: puts the safety backup back into the targets the restore touched (those restored,
 * and the one that failed), even when the restore was cancelled, and returns the failure to throw, saying
 * exactly which targets got their safety copy back and which did not.
 */
async function putBack(touched: readonly Saved[], safety: string, why: string): Promise<ApplicationFailure> {
  const back: string[] = [];
  const notBack: string[] = [];
  await CancellationScope.nonCancellable(async () => {
    for (const { dump, engine, copy } of touched) {
      try {
        await engine.restore(safety, copy);
        back.push(dump.target);
      } catch (undoErr) {
        log.error('putting the safety backup back failed; restore it by hand', { target: dump.target, safety, error: String(undoErr) });
        notBack.push(`${dump.target} (${rootMessage(undoErr)})`);
      }
    }
  });
  return refuse(Failure.backupFailed, restoreFailedMessage(why, safety, back, notBack));
}
