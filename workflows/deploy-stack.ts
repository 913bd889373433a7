import { isCancellation, log, patched, upsertSearchAttributes } from '@temporalio/workflow';
import { Failure, permanent } from '../common/failures';
import { serviceLockKey, stackLockKey } from '../common/locks';
import { SearchAttribute } from '../common/search-attributes';
import { type DeployReport, resourceName, type StackSpec, stackSpecSchema } from '../common/stack';
import type { PlannedChange, StackPlan } from '../common/stack-plan';
import { swarmActions } from '../common/stack-swarm';
import { validatedInput } from '../common/validate';
import { STACK_LOCK, withTargetLocks } from './backup-lock';
import {
  applyServices,
  converge,
  createNetworks,
  createVolumes,
  ensureSwarmMembers,
  migrate,
  pruneRotated,
  type Run,
  registerRunners,
  storeObjects,
  undoAll,
} from './deploy-steps';
import { deployFinished } from './metrics';
import { type ProgressTracker, trackProgress } from './progress-tracker';
import { type DeployPlan, observeAndPlan } from './stack-observe';

const STEPS = [
  'lock',
  'plan',
  'swarm',
  'volumes',
  'networks',
  'secrets',
  'configs',
  'services',
  'converge',
  'runners',
  'migrations',
] as const;
type DeployStep = (typeof STEPS)[number];

/** `sciops deploy --plan`: what a deploy would create, update, or leave unchanged. Touches nothing. */
export async function planStackDeploy(rawSpec: unknown): Promise<StackPlan> {
  const { changes, problems } = await observeAndPlan(validatedInput(stackSpecSchema, rawSpec, 'stack spec'));
  return { changes, problems };
}

/**
 * The deploy runbook as one workflow: plan (refusing before any change what cannot be deployed), then
 * volumes on their nodes, overlay networks, secrets, configs, services, convergence of what changed, GitLab
 * runners and the migrations in order. The plan is the one comparison: a step touches only what the plan
 * found to create or update, so a second deploy of the same spec is the plan and nothing else. Each step that
 * creates something registers its undo; if a later step fails, the undos run newest first (a service this run
 * updated is rolled back, what it created is removed) and what existed before stays untouched. External
 * objects are only looked up.
 */
export async function deployStack(rawSpec: unknown): Promise<DeployReport> {
  const spec = validatedInput(stackSpecSchema, rawSpec, 'stack spec');
  upsertSearchAttributes([{ key: SearchAttribute.stack, value: spec.name }]);
  const progress = trackProgress(STEPS);
  // Deploys started before stacks had locks replay without one.
  if (!patched(STACK_LOCK)) return runDeploy(spec, progress);
  if (patched(NO_OP_UNLOCKED)) {
    const plan = await planStep(spec, progress);
    if (nothingToDo(spec, plan)) {
      progress.finish('lock', 'skipped', 'nothing to do: no lock needed');
      return runDeploy(spec, progress, plan);
    }
  }
  progress.start('lock');
  const waiting = (key: string) => progress.start('lock', `waiting: another deploy, teardown, backup or restore holds ${key}`);
  return withTargetLocks(deployLockKeys(spec), waiting, () => {
    progress.finish('lock', 'done');
    return runDeploy(spec, progress);
  });
}

/**
 * One deploy of a stack at a time, whatever its workflow id (the Web UI takes any), and none while a backup
 * or restore holds one of its services paused: two deploys of one stack would each plan "create" and the
 * failing one's undo would remove what the other made; a deploy would set a paused service's replicas back.
 */
function deployLockKeys(spec: StackSpec): string[] {
  return [stackLockKey(spec.name), ...spec.services.map((s) => serviceLockKey(resourceName(spec.name, s.name)))];
}

/**
 * Deploys whose plan finds nothing to do return without taking the locks: runs started before took them
 * first, and replay so.
 */
const NO_OP_UNLOCKED = 'deploy-no-op-unlocked';

/** Deploys started before rotated versions were pruned at the end replay pruning them before the runners. */
const PRUNE_LAST = 'deploy-prune-last';

/**
 * A deploy that would change nothing (every object unchanged or external, no swarm member to add or label,
 * no runners or migrations to look at, nothing refused) needs no lock: it reads, as a plan does, and holds up
 * no backup. Anything else takes the locks and plans again under them.
 */
function nothingToDo(spec: StackSpec, plan: DeployPlan): boolean {
  const swarm = swarmActions(spec.swarm, plan.swarm);
  return (
    plan.problems.length === 0 &&
    plan.changes.every((c) => c.change === 'unchanged' || c.change === 'external') &&
    !swarm.init &&
    swarm.join.length === 0 &&
    swarm.label.length === 0 &&
    spec.runners.length === 0 &&
    spec.migrations.length === 0
  );
}

function planStep(spec: StackSpec, progress: ProgressTracker<DeployStep>): Promise<DeployPlan> {
  return progress.step(
    'plan',
    () => observeAndPlan(spec),
    (p) => summary(p.changes),
  );
}

/** The deploy proper, from `plan` (made here when not given): under the stack's locks, or, with nothing to do, none. */
async function runDeploy(spec: StackSpec, progress: ProgressTracker<DeployStep>, planned?: DeployPlan): Promise<DeployReport> {
  const plan = planned ?? (await planStep(spec, progress));
  if (plan.problems.length > 0) {
    progress.finish('plan', 'failed', plan.problems.join('; '));
    progress.end('failed');
    throw permanent(Failure.stackRejected, `stack ${spec.name} cannot be deployed here, nothing was changed: ${plan.problems.join('; ')}`, {
      details: [plan.problems],
    });
  }
  const run: Run = {
    spec,
    plan,
    undo: [],
    changes: [],
    secrets: { ...plan.secretRefs },
    configs: { ...plan.configRefs },
    rotated: [],
    secretFiles: [],
    migrated: [],
  };
  const pruneLast = patched(PRUNE_LAST);
  try {
    await progress.step('swarm', () => ensureSwarmMembers(run));
    await progress.step('volumes', () => createVolumes(run));
    await progress.step('networks', () => createNetworks(run));
    await progress.step('secrets', () => storeObjects(run, 'secret'));
    await progress.step('configs', () => storeObjects(run, 'config'));
    const changed = await progress.step('services', () => applyServices(run));
    if (spec.detach) progress.finish('converge', 'skipped', 'detached: the swarm converges the services on its own');
    else await progress.step('converge', () => converge(run, changed));
    if (!pruneLast) await pruneRotated(run);
    await progress.step('runners', () => registerRunners(run, progress));
    await progress.step(
      'migrations',
      () => migrate(run, progress),
      () => `${run.migrated.length} applied`,
    );
  } catch (err) {
    progress.end('failed', err);
    deployFinished(spec.name, run.changes, 'failed');
    await undoAll(run.undo);
    throw err;
  }
  // Old versions go once nothing can fail any more (the undo of a failed runner or migration rolls the
  // services back onto them); a prune that fails then leaves housekeeping, not a failed deploy.
  if (pruneLast) {
    await pruneRotated(run).catch((err: unknown) => {
      // A deploy cancelled meanwhile ends cancelled; any other failure here is housekeeping.
      if (isCancellation(err)) throw err;
      log.warn('old secret or config versions beyond their keep were not pruned; remove the unused ones by hand', {
        stack: spec.name,
        error: String(err),
      });
    });
  }
  progress.end('completed');
  deployFinished(spec.name, run.changes, 'done');
  return {
    stack: spec.name,
    changes: run.changes,
    unchanged: run.changes.every((c) => c.change === 'unchanged' || c.change === 'external') && run.migrated.length === 0,
    migrated: run.migrated,
    secretFiles: run.secretFiles,
  };
}

function summary(changes: readonly PlannedChange[]): string {
  const count = (c: PlannedChange['change']) => changes.filter((x) => x.change === c).length;
  const external = count('external');
  return `${count('create')} to create, ${count('update')} to update, ${count('unchanged')} unchanged${external > 0 ? `, ${external} external` : ''}`;
}
