import { ApplicationFailure, CancellationScope, log, upsertSearchAttributes } from '@temporalio/workflow';
import { SearchAttribute } from '../common/search-attributes';
import { type DeployReport, resourceName, runnerDescription, type StackSpec, stackSpecSchema } from '../common/stack';
import { STACK_REJECTED_TYPE } from '../common/stack-failures';
import {
  networkRequest,
  type Observed,
  type PlannedChange,
  planStack,
  type SecretRef,
  type StackPlan,
  serviceRequest,
  volumeRequest,
} from '../common/stack-resources';
import { type SwarmView, swarmActions } from '../common/stack-swarm';
import { deployFinished } from './metrics';
import { trackProgress } from './progress-tracker';
import { converging, database, gitlab, manager, onNode, taskEngine } from './stack-activities';
import { ensureRunner, type Undo } from './stack-runners';
import { validatedInput } from './validated-input';

/** How long a service's tasks must keep running to count as converged (what `docker service create` waits too). */
const STABLE_SECONDS = 5;

const STEPS = ['plan', 'swarm', 'volumes', 'networks', 'secrets', 'services', 'converge', 'runners', 'migrations'] as const;

/**
 * Looks at the swarm (and each volume's node) and compares with the spec. Touches nothing. A volume without
 * a node lives on the manager's engine (`self`).
 */
export async function observeAndPlan(spec: StackSpec): Promise<StackPlan & { self: string; swarm: SwarmView }> {
  const { swarm, resources } = await manager.observeSwarm({ stack: spec.name });
  // Volumes are looked for on the nodes already in the swarm; a node about to join has none of the stack's yet.
  const members = swarm.nodes.map((n) => n.name);
  const named = [...new Set(spec.volumes.flatMap((v) => (v.node === undefined ? [] : [v.node])))].filter((n) => members.includes(n));
  const volumes = await Promise.all([
    ...(spec.volumes.some((v) => v.node === undefined) ? [manager.observeVolumes({ stack: spec.name, node: swarm.self })] : []),
    ...named.map((node) => onNode(node).observeVolumes({ stack: spec.name, node })),
  ]);
  const lab = spec.gitlab;
  const runners =
    lab === undefined
      ? []
      : await Promise.all(
          spec.runners.map((r) =>
            gitlab.findGitlabRunner({ gitlab: lab, type: r.type, description: runnerDescription(spec.name, r.name) }),
          ),
        );
  const known = runners.flatMap((r): Observed[] => (r === null ? [] : [{ kind: 'runner', name: r.description }]));
  const placed = { ...spec, volumes: spec.volumes.map((v) => ({ ...v, node: v.node ?? swarm.self })) };
  return { ...planStack(placed, swarm, [...resources, ...volumes.flat(), ...known]), self: swarm.self, swarm };
}

/** `sciops deploy --plan`: what a deploy would create, update, or leave unchanged. Touches nothing. */
export async function planStackDeploy(rawSpec: unknown): Promise<StackPlan> {
  const { changes, problems } = await observeAndPlan(validatedInput(stackSpecSchema, rawSpec, 'stack spec'));
  return { changes, problems };
}

/**
 * The deploy runbook as one workflow: plan (refusing before any change what cannot be deployed), then
 * volumes on their nodes, overlay networks, secrets, services, convergence of what changed, and the
 * migrations in order (SQL applied once each; exec steps in a running task, guarded by `unless`). Each step
 * that creates something registers its undo; if a later step fails, the undos run newest first (a service
 * this run updated is rolled back, what it created is removed) and what existed before stays untouched.
 * A second deploy of the same spec changes nothing: every resource carries its spec's fingerprint.
 */
export async function deployStack(rawSpec: unknown): Promise<DeployReport> {
  const spec = validatedInput(stackSpecSchema, rawSpec, 'stack spec');
  upsertSearchAttributes([{ key: SearchAttribute.stack, value: spec.name }]);
  const progress = trackProgress(STEPS);

  progress.start('plan');
  const plan = await observeAndPlan(spec);
  if (plan.problems.length > 0) {
    progress.finish('plan', 'failed', plan.problems.join('; '));
    progress.end('failed');
    throw ApplicationFailure.create({
      type: STACK_REJECTED_TYPE,
      nonRetryable: true,
      message: `stack ${spec.name} cannot be deployed here, nothing was changed: ${plan.problems.join('; ')}`,
      details: [plan.problems],
    });
  }
  progress.finish('plan', 'done', summary(plan.changes));

  const undo: Undo[] = [];
  const changes: PlannedChange[] = [];
  const secretFiles: string[] = [];
  const migrated: string[] = [];
  try {
    // What the plan found unchanged is not touched again: a no-op deploy is the plan and nothing else.
    const unchanged = (kind: PlannedChange['kind'], name: string) =>
      plan.changes.some((c) => c.kind === kind && c.name === name && c.change === 'unchanged');

    progress.start('swarm');
    changes.push(...(await ensureSwarmMembers(spec, plan.swarm)));
    progress.finish('swarm', spec.swarm === undefined ? 'skipped' : 'done');

    progress.start('volumes');
    for (const v of spec.volumes) {
      const request = volumeRequest(spec.name, v);
      const where = v.node ?? plan.self;
      const created = !unchanged('volume', v.name) && (await onNode(v.node).ensureVolume({ request })).created;
      if (created)
        undo.unshift({ what: `volume ${request.Name} on ${where}`, run: () => onNode(v.node).removeVolume({ name: request.Name }) });
      changes.push({ kind: 'volume', name: v.name, node: where, change: created ? 'create' : 'unchanged' });
    }
    progress.finish('volumes', 'done');

    progress.start('networks');
    for (const n of spec.networks) {
      const request = networkRequest(spec.name, n);
      const created = !unchanged('network', n.name) && (await manager.ensureNetwork({ request })).created;
      if (created) undo.unshift({ what: `network ${request.Name}`, run: () => manager.removeNetwork({ name: request.Name }) });
      changes.push({ kind: 'network', name: n.name, change: created ? 'create' : 'unchanged' });
    }
    progress.finish('networks', 'done');

    // Secrets are always asked for: only the activity holding a file's or variable's value can compare it.
    progress.start('secrets');
    const refs: Record<string, SecretRef> = {};
    const rotated: typeof spec.secrets = [];
    for (const s of spec.secrets) {
      const ensured = await manager.ensureSecret({ stack: spec.name, secret: s });
      refs[s.name] = ensured.ref;
      if (ensured.change !== 'unchanged') {
        undo.unshift({ what: `secret ${ensured.ref.dockerName}`, run: () => manager.removeSecret({ id: ensured.ref.id }) });
        if (ensured.shownAt !== undefined) secretFiles.push(ensured.shownAt);
        if (ensured.change === 'rotate') rotated.push(s);
      }
      changes.push({ kind: 'secret', name: s.name, change: ensured.change === 'rotate' ? 'update' : ensured.change });
    }
    progress.finish('secrets', 'done');

    progress.start('services');
    const changed: typeof spec.services = [];
    for (const s of spec.services) {
      const request = serviceRequest(spec.name, s, refs);
      const { change } = unchanged('service', s.name) ? { change: 'unchanged' as const } : await manager.ensureService({ request });
      if (change === 'create') undo.unshift({ what: `service ${request.Name}`, run: () => manager.removeService({ name: request.Name }) });
      if (change === 'update')
        undo.unshift({ what: `update of service ${request.Name}`, run: () => manager.rollbackService({ name: request.Name }) });
      if (change !== 'unchanged') changed.push(s);
      changes.push({ kind: 'service', name: s.name, change });
    }
    progress.finish('services', 'done');

    // All changed services converge at once; each must keep its replicas running for STABLE_SECONDS.
    progress.start('converge', changed.map((s) => resourceName(spec.name, s.name)).join(', '));
    await Promise.all(
      changed.map((s) =>
        converging.waitConverged({
          name: resourceName(spec.name, s.name),
          replicas: s.replicas,
          seconds: s.convergeSeconds,
          stableSeconds: STABLE_SECONDS,
        }),
      ),
    );
    progress.finish('converge', 'done');
    // The services now use the new versions: drop old ones beyond `keep` that nothing uses any more.
    for (const s of rotated) await manager.pruneSecretVersions({ stack: spec.name, name: s.name, keep: s.keep });

    progress.start('runners');
    const lab = spec.gitlab;
    if (lab !== undefined && spec.runners.length > 0) {
      const types = [...new Set(spec.runners.map((r) => r.type))];
      const { created } = await manager.recordStackGitlab({ stack: spec.name, record: { gitlab: lab, types } });
      if (created)
        undo.unshift({ what: `the GitLab record of ${spec.name}`, run: () => manager.removeStackGitlabRecord({ stack: spec.name }) });
      for (const r of spec.runners) {
        progress.start('runners', r.name);
        changes.push(await ensureRunner(spec, lab, r, plan.self, undo));
      }
    }
    progress.finish('runners', spec.runners.length === 0 ? 'skipped' : 'done');

    progress.start('migrations');
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
        if (applied) migrated.push(m.name);
      } else {
        const task = await manager.findServiceTask({ service: resourceName(spec.name, m.exec.service) });
        const engine = taskEngine(task, plan.self);
        const { ran } = await engine.execInContainer({
          step: m.name,
          containerId: task.containerId,
          command: m.exec.command,
          unless: m.exec.unless,
        });
        if (ran) migrated.push(m.name);
      }
    }
    progress.finish('migrations', 'done', `${migrated.length} applied`);
  } catch (err) {
    progress.end('failed');
    deployFinished(spec.name, changes, 'failed');
    // Undo what this run did, newest first; an undo that fails is logged and the rest still run.
    await CancellationScope.nonCancellable(async () => {
      for (const step of undo) {
        await step
          .run()
          .catch((undoErr: unknown) => log.error('undo failed; clean up by hand', { what: step.what, error: String(undoErr) }));
      }
    });
    throw err;
  }
  progress.end('completed');
  deployFinished(spec.name, changes, 'done');
  return {
    stack: spec.name,
    changes,
    unchanged: changes.every((c) => c.change === 'unchanged') && migrated.length === 0,
    migrated,
    secretFiles,
  };
}

/**
 * The swarm section: init on the manager when its engine is in no swarm, join each listed node that is not a
 * member through its own worker (the join token sealed for a box that worker opened, so history holds only
 * ciphertext), wait for it to be Ready, then set the labels that differ. Swarm membership and node labels are
 * the platform's ground, not the stack's: a failed deploy does not undo them, nor does teardown.
 */
async function ensureSwarmMembers(spec: StackSpec, swarm: SwarmView): Promise<PlannedChange[]> {
  const actions = swarmActions(spec.swarm, swarm);
  if (spec.swarm === undefined) return [];
  if (actions.init) await manager.ensureSwarm({ advertiseAddr: spec.swarm.advertiseAddr, dataPathPort: spec.swarm.dataPathPort });
  for (const node of actions.join) {
    const box = await onNode(node.name).openSealedBox();
    const { sealed, managers } = await manager.sealJoinToken({ publicKey: box.publicKey });
    await onNode(node.name).joinSwarm({ keyId: box.keyId, sealed, managers, advertiseAddr: node.advertiseAddr });
    await converging.waitNodeReady({ name: node.name, seconds: 60 });
  }
  for (const node of actions.label) await manager.setNodeLabels({ name: node.name, labels: node.labels });
  return [...actions.changes];
}

function summary(changes: readonly PlannedChange[]): string {
  const count = (c: PlannedChange['change']) => changes.filter((x) => x.change === c).length;
  return `${count('create')} to create, ${count('update')} to update, ${count('unchanged')} unchanged`;
}
