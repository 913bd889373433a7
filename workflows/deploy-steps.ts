import { CancellationScope, log, patched } from '@temporalio/workflow';
import { resourceName, type StackSpec } from '../common/stack';
import type { PlannedChange } from '../common/stack-plan';
import { networkRequest, type ObjectRef, serviceRequest, volumeRequest } from '../common/stack-resources';
import { type SwarmView, swarmActions } from '../common/stack-swarm';
import { convergenceWait } from '../common/stack-waits';
import type { Steps } from './progress-tracker';
import { converging, convergingUntilStopped, database, engineOn, manager, onNode, taskEngine } from './stack-activities';
import type { DeployPlan } from './stack-observe';
import { ensureRunner, type Undo } from './stack-runners';

/**
 * The steps of the deploy runbook, one function each, in the order deployStack runs them: each touches only
 * what the plan found to create or update, and registers the undo of what it made.
 */

/** What one deploy run did so far: its changes, and the undo of each, newest first. */
export interface Run {
  readonly spec: StackSpec;
  readonly plan: DeployPlan;
  readonly undo: Undo[];
  readonly changes: PlannedChange[];
  readonly secrets: Record<string, ObjectRef>;
  readonly configs: Record<string, ObjectRef>;
  readonly rotated: Array<{ kind: 'secret' | 'config'; name: string; keep: number }>;
  readonly secretFiles: string[];
  readonly migrated: string[];
}

/** The plan's verdict on one resource. */
function planned(run: Run, kind: PlannedChange['kind'], name: string): PlannedChange['change'] {
  return run.plan.changes.find((c) => c.kind === kind && c.name === name)?.change ?? 'create';
}

/**
 * The swarm section: init on the manager when its engine is in no swarm, join each listed node that is not a
 * member through its own worker (the join token sealed for a box that worker opened, so history holds only
 * ciphertext), wait for it to be Ready, then set the labels that differ. Swarm membership and node labels are
 * the platform's ground, not the stack's: a failed deploy does not undo them, nor does teardown.
 */
export async function ensureSwarmMembers({ spec, plan, changes }: Run): Promise<void> {
  const swarm: SwarmView = plan.swarm;
  const actions = swarmActions(spec.swarm, swarm);
  if (spec.swarm === undefined) return;
  if (actions.init) await manager.ensureSwarm({ advertiseAddr: spec.swarm.advertiseAddr, dataPathPort: spec.swarm.dataPathPort });
  for (const node of actions.join) {
    const box = await onNode(node.name).openSealedBox();
    const { sealed, managers } = await manager.sealJoinToken({ publicKey: box.publicKey });
    await onNode(node.name).joinSwarm({ keyId: box.keyId, sealed, managers, advertiseAddr: node.advertiseAddr });
    await converging.waitNodeReady({ name: node.name, seconds: 60 });
  }
  for (const node of actions.label) await manager.setNodeLabels({ name: node.name, labels: node.labels });
  changes.push(...actions.changes);
}

/** `docker volume create` on each volume's node, for the volumes the plan found missing. */
export async function createVolumes(run: Run): Promise<void> {
  for (const v of run.plan.placed.volumes) {
    const change = planned(run, 'volume', v.name);
    if (change === 'create') {
      const request = volumeRequest(run.spec.name, v);
      const engine = engineOn(v.node, run.plan.self);
      const { created } = await engine.ensureVolume({ request });
      if (created)
        run.undo.unshift({ what: `volume ${request.Name} on ${v.node}`, run: () => engine.removeVolume({ name: request.Name }) });
    }
    run.changes.push({ kind: 'volume', name: v.name, change, ...(v.external ? {} : { node: v.node }) });
  }
}

/** `docker network create -d overlay` for the networks the plan found missing. */
export async function createNetworks(run: Run): Promise<void> {
  for (const n of run.spec.networks) {
    const change = planned(run, 'network', n.name);
    if (change === 'create') {
      const request = networkRequest(run.spec.name, n);
      const { created } = await manager.ensureNetwork({ request });
      if (created) run.undo.unshift({ what: `network ${request.Name}`, run: () => manager.removeNetwork({ name: request.Name }) });
    }
    run.changes.push({ kind: 'network', name: n.name, change });
  }
}

/**
 * Secrets (generated once and shown to the operator once, or read from a file or variable of the manager's
 * worker) and configs, for those the plan found new or changed; a changed value is a new version beside the
 * old, which services move to.
 */
export async function storeObjects(run: Run, kind: 'secret' | 'config'): Promise<void> {
  const objects = kind === 'secret' ? run.spec.secrets : run.spec.configs;
  const refs = kind === 'secret' ? run.secrets : run.configs;
  for (const o of objects) {
    const change = planned(run, kind, o.name);
    if (change === 'create' || change === 'update') {
      const ensured =
        kind === 'secret'
          ? await manager.ensureSecret({ stack: run.spec.name, secret: o as StackSpec['secrets'][number] })
          : await manager.ensureConfig({ stack: run.spec.name, config: o as StackSpec['configs'][number] });
      refs[o.name] = ensured.ref;
      if (ensured.change !== 'unchanged') {
        const remove = kind === 'secret' ? manager.removeSecret : manager.removeConfig;
        run.undo.unshift({ what: `${kind} ${ensured.ref.dockerName}`, run: () => remove({ id: ensured.ref.id }) });
        if ('shownAt' in ensured && typeof ensured.shownAt === 'string') run.secretFiles.push(ensured.shownAt);
        if (ensured.change === 'rotate') run.rotated.push({ kind, name: o.name, keep: o.keep ?? 2 });
      }
    }
    run.changes.push({ kind, name: o.name, change });
  }
}

/** Creates or updates the services the plan found new or changed; returns those, to converge. */
export async function applyServices(run: Run): Promise<StackSpec['services']> {
  const { spec } = run;
  const context = { volumes: spec.volumes, networks: spec.networks, secrets: run.secrets, configs: run.configs };
  const changed: StackSpec['services'] = [];
  for (const s of spec.services) {
    const request = serviceRequest(spec.name, s, context);
    // A service whose secret or config is new or rotating is an update in the plan already (its id changes).
    const { change } =
      planned(run, 'service', s.name) !== 'unchanged'
        ? await manager.ensureService({ request, withRegistryAuth: spec.withRegistryAuth })
        : { change: 'unchanged' as const };
    if (change === 'create')
      run.undo.unshift({ what: `service ${request.Name}`, run: () => manager.removeService({ name: request.Name }) });
    if (change === 'update')
      run.undo.unshift({ what: `update of service ${request.Name}`, run: () => manager.rollbackService({ name: request.Name }) });
    if (change !== 'unchanged') changed.push(s);
    const details = run.plan.changes.find((c) => c.kind === 'service' && c.name === s.name)?.details;
    run.changes.push({ kind: 'service', name: s.name, change, ...(change === 'update' && details !== undefined ? { details } : {}) });
  }
  return changed;
}

/**
 * Waits for every changed service at once: its replicas (or one task on each eligible node, for a global
 * service) converged as `convergenceWait` says.
 */
export async function converge(run: Run, changed: StackSpec['services']): Promise<void> {
  const siblingsCancelled = patched(SIBLINGS_CANCELLED);
  const wait = (s: StackSpec['services'][number]) => {
    const created = run.changes.some((c) => c.kind === 'service' && c.name === s.name && c.change === 'create');
    return (siblingsCancelled ? convergingUntilStopped : converging).waitConverged({
      name: resourceName(run.spec.name, s.name),
      mode: s.mode,
      replicas: s.replicas ?? 1,
      seconds: s.convergeSeconds,
      ...convergenceWait(s, created),
    });
  };
  if (!siblingsCancelled) {
    await Promise.all(changed.map(wait));
    return;
  }
  // One service that fails ends the wait: the others' waits are cancelled, and have ended, before the undo
  // rolls back or removes the services they watch.
  const scope = new CancellationScope();
  const waits = changed.map((s) => scope.run(() => wait(s)));
  try {
    await Promise.all(waits);
  } catch (err) {
    scope.cancel();
    await Promise.allSettled(waits);
    throw err;
  }
}

/** Deploys started before a failed convergence cancelled the other waits replay without cancelling them. */
const SIBLINGS_CANCELLED = 'converge-cancels-siblings';

/** The services now use the new versions: drop old ones beyond `keep` that nothing uses any more. */
export async function pruneRotated(run: Run): Promise<void> {
  for (const r of run.rotated) {
    if (r.kind === 'secret') await manager.pruneSecretVersions({ stack: run.spec.name, name: r.name, keep: r.keep });
    else await manager.pruneConfigVersions({ stack: run.spec.name, name: r.name, keep: r.keep });
  }
}

/** GitLab runners, registered in a task of their service after it converged. */
export async function registerRunners(run: Run, progress: Steps<'runners'>): Promise<void> {
  const { spec } = run;
  const lab = spec.gitlab;
  if (lab === undefined || spec.runners.length === 0) return;
  const types = [...new Set(spec.runners.map((r) => r.type))];
  const { created } = await manager.recordStackGitlab({ stack: spec.name, record: { gitlab: lab, types } });
  if (created)
    run.undo.unshift({ what: `the GitLab record of ${spec.name}`, run: () => manager.removeStackGitlabRecord({ stack: spec.name }) });
  for (const r of spec.runners) {
    progress.start('runners', r.name);
    run.changes.push(await ensureRunner(spec, lab, r, run.plan.self, run.undo));
  }
}

/** The migrations in order: SQL applied once each on the db queue, exec steps in a running task guarded by `unless`. */
export async function migrate(run: Run, progress: Steps<'migrations'>): Promise<void> {
  const { spec } = run;
  for (const m of spec.migrations) {
    progress.start('migrations', m.name);
    if (m.exec === undefined) {
      const { applied } = await database.applySqlMigration({
        stack: spec.name,
        urlEnv: spec.database.urlEnv,
        name: m.name,
        sql: m.sql,
        file: m.file,
      });
      if (applied) run.migrated.push(m.name);
    } else {
      const task = await manager.findServiceTask({ service: resourceName(spec.name, m.exec.service) });
      const { ran } = await taskEngine(task, run.plan.self).execInContainer({
        step: m.name,
        containerId: task.containerId,
        command: m.exec.command,
        unless: m.exec.unless,
      });
      if (ran) run.migrated.push(m.name);
    }
  }
}

/** Undoes what this run did, newest first; an undo that fails is logged and the rest still run. */
export async function undoAll(undo: readonly Undo[]): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    for (const step of undo) {
      await step.run().catch((undoErr: unknown) => log.error('undo failed; clean up by hand', { what: step.what, error: String(undoErr) }));
    }
  });
}
