import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  defineSignal,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DbActivities } from '../activities/db';
import type { InputChecks } from '../activities/input-checks';
import type { ExperimentResult, ExperimentSpec, RunOutcome } from '../common/experiment';
import { type ExperimentState, isTerminal, ExperimentState as State } from '../common/experiment-state';
import { Failure, permanent } from '../common/failures';
import { Queue } from '../common/queues';
import { SearchAttribute } from '../common/search-attributes';
import { experimentWorkflowId } from '../common/workflow-ids';
import { type ExperimentBackend, experimentBackend, RUN_LETS_GO } from './experiment-backends';
import { experimentFinished } from './metrics';
import { type ProgressTracker, trackProgress } from './progress-tracker';

/**
 * The experiment's row. Bounded by time rather than attempts: a database that is down for a while (a restart,
 * maintenance) is waited for, up to a day, so that a finished run's result is still recorded; what no retry
 * fixes (a conflict, a forbidden transition, a refused statement) ends it at once.
 */
const db = proxyActivities<DbActivities>({
  taskQueue: Queue.db,
  startToCloseTimeout: '60s',
  scheduleToCloseTimeout: '24h',
  retry: { maximumInterval: '30s', nonRetryableErrorTypes: [Failure.experimentSpecConflict, Failure.illegalTransition] },
});

/**
 * An experiment runs only under `experiment-<id>` (the Web UI takes any id): that id is what makes Temporal
 * refuse a second run, and what recovery and `sciops experiment stop` address. Under another id, recovery
 * would start `experiment-<id>` beside it, and the two would run one container twice and remove it under each
 * other.
 */
function refuseForeignWorkflowId(id: string): void {
  const expected = experimentWorkflowId(id);
  const { workflowId } = workflowInfo();
  if (workflowId === expected) return;
  throw permanent(
    Failure.invalidInput,
    `experiment ${id} must be started with the workflow id ${expected}, not ${workflowId}: nothing was run`,
  );
}

/** Sent by an ending experiment to the ones of its type waiting for the slot it freed. */
export const slotFreedSignal = defineSignal('slotFreed');
const SLOT_RECHECK = '1 minute';

const Step = { register: 'register', slot: 'wait for a slot', run: 'run', record: 'record the result' } as const;
type Step = (typeof Step)[keyof typeof Step];

/** Runs started before the workflow id was checked replay without the check. */
const OWN_ID_CHECK = 'experiment-own-id';

/** Runs started before the worker-side policy check existed replay without it. */
const POLICY_CHECK = 'experiment-policy-check';

/** Runs started before the spec was checked by a local activity replay the check in the workflow. */
const SPEC_CHECKED_OUTSIDE = 'experiment-spec-checked-outside';

const checks = proxyLocalActivities<InputChecks>({ startToCloseTimeout: '10s' });

/**
 * The spec, parsed and checked on the worker's main thread (a local activity), so that no schema is evaluated
 * in the run's sandbox: a run that waits for a slot keeps what it evaluated. An invalid spec fails the run
 * with the same non-retryable failure, naming the field, as a check in the workflow would.
 */
async function checkedSpec(rawSpec: unknown): Promise<ExperimentSpec> {
  if (!patched(SPEC_CHECKED_OUTSIDE)) {
    // Only runs from before evaluate the schemas here, as they did.
    const { validatedInput } = require('../common/validate') as typeof import('../common/validate');
    const { experimentSpecSchema } = require('../common/experiment') as typeof import('../common/experiment');
    return validatedInput(experimentSpecSchema, rawSpec, 'experiment spec');
  }
  try {
    // Not cancelled halfway, as the registration after it: a stop that arrives meanwhile is recorded after it.
    return await CancellationScope.nonCancellable(() => checks.validateExperimentSpec(rawSpec));
  } catch (err) {
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) throw err.cause;
    throw err;
  }
}

/**
 * One experiment, start to end: record it (PENDING), take a slot (IN_PROCESS), run its container, service or
 * Batch job under a soft time limit, and record how it ended: COMPLETED, FINISHED_WITH_ERROR,
 * TIMEOUT_EXCEEDED (the limit passed: stopped), or STOPPED (the workflow was cancelled: stopped).
 * Started with the workflow id `experiment-<id>`; a re-run of a finished experiment returns its recorded result.
 */
export async function runExperiment(rawSpec: unknown): Promise<ExperimentResult> {
  const spec = await checkedSpec(rawSpec);
  if (patched(OWN_ID_CHECK)) refuseForeignWorkflowId(spec.id);
  const progress = trackProgress(Object.values(Step));
  const show = (state: ExperimentState) =>
    upsertSearchAttributes([
      { key: SearchAttribute.experimentId, value: spec.id },
      { key: SearchAttribute.experimentType, value: spec.type },
      { key: SearchAttribute.experimentState, value: state },
    ]);

  // Registration is not cancelled halfway: a stop that arrives meanwhile is taken after it, and recorded
  // (STOPPED), instead of leaving a PENDING row that recovery would start.
  const register = () => db.registerExperiment({ spec, runId: workflowInfo().runId });
  const races = patched(RUN_LETS_GO);
  const { row, timeLimitSeconds, waitingFor, runningSeconds } = await progress.step(
    Step.register,
    () => (races ? CancellationScope.nonCancellable(register) : register()),
    ({ row }) => (isTerminal(row.state) ? `already ${row.state}: not run again` : `attempt ${row.attempts} of ${spec.maxAttempts}`),
  );
  show(row.state);
  if (isTerminal(row.state)) {
    progress.end('completed');
    return row;
  }

  let end: RunEnd;
  if (row.attempts > spec.maxAttempts) {
    end = { state: State.finishedWithError, message: `gave up after ${spec.maxAttempts} attempts (maxAttempts); nothing was started` };
  } else {
    // A re-run after a crash has the rest of its soft limit, not all of it again.
    const left = races && runningSeconds !== undefined ? Math.max(1, timeLimitSeconds - runningSeconds) : timeLimitSeconds;
    end = await run(spec, { timeLimitSeconds, left }, row.state === State.inProcess ? undefined : waitingFor, progress, show);
  }

  const finished = await progress.step(
    Step.record,
    async () => {
      const { result: finished, waiting } = await CancellationScope.nonCancellable(() =>
        db.finishExperiment({
          id: spec.id,
          state: end.state,
          exitCode: end.outcome?.exitCode,
          message: end.message,
          outputDir: end.outcome?.outputDir,
        }),
      );
      show(finished.state);
      // Wake the experiments waiting for the slot this one freed; one that is gone needs no waking.
      await Promise.all(
        waiting.map((id) =>
          getExternalWorkflowHandle(experimentWorkflowId(id))
            .signal(slotFreedSignal)
            .catch(() => undefined),
        ),
      );
      // The backend the run used: a docker run's removal goes to the engine its container is on.
      const used = end.backend ?? experimentBackend(spec, timeLimitSeconds);
      await CancellationScope.nonCancellable(() => used.remove()).catch((err: unknown) =>
        log.warn('could not remove the finished run; remove it by hand', { experiment: spec.id, error: String(err) }),
      );
      return finished;
    },
    (finished) => finished.state,
    end.state,
  );
  progress.end(finished.state === State.completed ? 'completed' : 'failed');
  experimentFinished(finished.state, spec.type);
  return finished;
}

/** How a run ended, and the backend that ran it (absent: none was asked to). */
interface RunEnd {
  readonly state: ExperimentState;
  readonly outcome?: RunOutcome;
  readonly message?: string;
  readonly backend?: ExperimentBackend;
}

/** Takes a slot and runs the experiment to one of the four ends. Never throws for an experiment's own failure. */
async function run(
  spec: ExperimentSpec,
  /** The soft limit, and what is left of it (all of it, but for a re-run). */
  { timeLimitSeconds, left }: { timeLimitSeconds: number; left: number },
  /** undefined: registration already took the slot. */
  waitingFor: string | undefined,
  progress: ProgressTracker<Step>,
  show: (state: ExperimentState) => void,
): Promise<RunEnd> {
  const backend = experimentBackend(spec, timeLimitSeconds);
  const ended = (end: Omit<RunEnd, 'backend'>): RunEnd => ({ ...end, backend });
  try {
    // Before it waits for a slot: a spec the worker refuses (a host path, a volume, a capability or an output
    // directory its policy does not allow) ends at once; the run activity would refuse it too.
    const refusals = patched(POLICY_CHECK) ? await backend.check() : [];
    if (refusals.length > 0) {
      const message = `refused by the docker worker's experiment policy, nothing was started: ${refusals.join('; ')}`;
      progress.finish(Step.slot, 'skipped');
      progress.finish(Step.run, 'failed', message);
      return ended({ state: State.finishedWithError, message });
    }
    if (waitingFor !== undefined) await claimSlot(spec, waitingFor, progress);
    show(State.inProcess);
    progress.finish(Step.slot, 'done');
    progress.start(Step.run, `${spec.backend}, soft time limit ${timeLimitSeconds}s`);
    await backend.start?.(); // the soft limit counts from here: a Batch job's time in its queue is not run time
    const outcome = await within(left, () => backend.run());
    if (outcome === 'expired') {
      progress.finish(Step.run, 'failed', 'soft time limit exceeded: stopping');
      const stopped = await CancellationScope.nonCancellable(() => backend.stop(`soft time limit of ${timeLimitSeconds}s exceeded`));
      return ended({
        state: State.timeoutExceeded,
        outcome: stopped,
        message: `soft time limit of ${timeLimitSeconds}s exceeded; stopped`,
      });
    }
    progress.finish(Step.run, outcome.exitCode === 0 ? 'done' : 'failed', `exit code ${outcome.exitCode}`);
    if (outcome.exitCode === 0) return ended({ state: State.completed, outcome });
    // Where its stderr is, never what it says: an experiment's output may be its data (see RunOutcome.errorLog).
    const log = `${outcome.outputDir.replace(/\/$/, '')}/${outcome.errorLog ?? 'stderr.txt'}`;
    const message = `exited with code ${outcome.exitCode}; its stderr is in ${log} on the worker that ran it (sciops experiment logs ${spec.id})`;
    return ended({ state: State.finishedWithError, outcome, message });
  } catch (err) {
    if (isCancellation(err)) {
      progress.finish(Step.run, 'failed', 'stopped by request');
      const stopped = await CancellationScope.nonCancellable(() => backend.stop('stopped by request'));
      return ended({ state: State.stopped, outcome: stopped, message: 'stopped by request' });
    }
    const cause = err instanceof ActivityFailure ? err.cause : err;
    if (cause instanceof ApplicationFailure && cause.type === Failure.experimentRunRejected) {
      progress.finish(Step.run, 'failed', cause.message);
      return ended({ state: State.finishedWithError, message: cause.message });
    }
    throw err;
  }
}

/** Runs `work` under a timer: its result, or 'expired' (with `work` cancelled) when `seconds` pass first. */
async function within<T>(seconds: number, work: () => Promise<T>): Promise<T | 'expired'> {
  const workScope = new CancellationScope();
  const timerScope = new CancellationScope();
  const result = workScope.run(work);
  const timer = timerScope.run(() => sleep(seconds * 1000)).then(() => 'expired' as const);
  try {
    const first = await Promise.race([result, timer]);
    if (first === 'expired') {
      workScope.cancel();
      // Until the work has let go (see RUN_LETS_GO), what it started cannot be stopped for sure.
      await result.catch(() => undefined);
    }
    return first;
  } catch (err) {
    // Cancelled (a stop): so is the work; the caller stops what it started once it has let go.
    await result.catch(() => undefined);
    throw err;
  } finally {
    timerScope.cancel();
    timer.catch(() => undefined);
  }
}

/**
 * Waits for a slot under the type's cap: until an experiment of the type ends and signals `slotFreed`, or a
 * minute passes (in case that signal was lost), then asks again. Waiting costs no polling.
 */
async function claimSlot(spec: ExperimentSpec, waitingFor: string, progress: ProgressTracker<Step>): Promise<void> {
  let woken = false;
  setHandler(slotFreedSignal, () => {
    woken = true;
  });
  let reason: string | undefined = waitingFor;
  while (reason !== undefined) {
    progress.start(Step.slot, reason);
    await condition(() => woken, SLOT_RECHECK);
    woken = false;
    ({ waitingFor: reason } = await db.claimExperimentSlot({ id: spec.id, type: spec.type }));
  }
}
