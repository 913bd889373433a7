import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import { serviceLockKey, stackLockKey } from '../common/locks';
import { SearchAttribute } from '../common/search-attributes';
import { type TeardownReport, teardownInputSchema } from '../common/stack';
import type { Observed, ResourceKind } from '../common/stack-plan';
import { validatedInput } from '../common/validate';
import { STACK_LOCK, withTargetLocks } from './backup-lock';
import { type ProgressTracker, trackProgress } from './progress-tracker';
import { engineOn, manager } from './stack-activities';
import { removeStackRunners } from './stack-runners';

const STEPS = ['lock', 'runners', 'services', 'networks', 'configs', 'secrets', 'volumes'] as const;
type TeardownStep = (typeof STEPS)[number];

/**
 * `sciops teardown NAME`: deletes the stack's GitLab runners, removes its services, then its networks (retried until the services' tasks
 * have let go of them) and configs. External objects carry no sciops label: they are never found here, so never removed. Volumes and secrets hold data: they stay unless `purge` is set, and then each volume
 * is removed on its own node (every swarm node's worker is asked for the stack's volumes).
 */
export async function teardownStack(rawInput: unknown): Promise<TeardownReport> {
  const { stack, purge } = validatedInput(teardownInputSchema, rawInput, 'teardown input');
  upsertSearchAttributes([{ key: SearchAttribute.stack, value: stack }]);
  const progress = trackProgress(STEPS);
  return progress.whole(async () => {
    if (!patched(STACK_LOCK)) return teardownLocked(stack, purge, progress);
    // The stack's services are known from the swarm only: look, lock the stack and them (in the one order every
    // lock is taken in, so a deploy and a teardown never wait for each other), then look again inside.
    const { resources: before } = await manager.observeSwarm({ stack });
    const keys = [
      stackLockKey(stack),
      ...before.filter((r: Observed) => r.kind === 'service').map((r: Observed) => serviceLockKey(r.name)),
    ];
    progress.start('lock');
    const waiting = (key: string) => progress.start('lock', `waiting: another deploy, teardown, backup or restore holds ${key}`);
    return withTargetLocks(keys, waiting, () => {
      progress.finish('lock', 'done');
      return teardownLocked(stack, purge, progress);
    });
  });
}

async function teardownLocked(stack: string, purge: boolean, progress: ProgressTracker<TeardownStep>): Promise<TeardownReport> {
  const removed: string[] = [];
  const kept: string[] = [];
  const { swarm, resources } = await manager.observeSwarm({ stack });
  const of = (kind: ResourceKind): Observed[] => resources.filter((r: Observed) => r.kind === kind);

  if (!swarm.active) {
    // No swarm, so no stack: nothing sciops deploys exists outside one.
    return { stack, removed, kept: [`nothing: the manager's engine (${swarm.self}) is in no swarm`] };
  }

  await progress.step('runners', async () => {
    removed.push(...(await removeStackRunners(stack)));
  });

  await progress.step('services', async () => {
    for (const s of of('service')) {
      await manager.removeService({ name: s.name });
      removed.push(`service ${s.name}`);
    }
  });
  await progress.step('networks', async () => {
    for (const n of of('network')) {
      await manager.removeNetwork({ name: n.name });
      removed.push(`network ${n.name}`);
    }
  });

  // Configs hold no data of their own (they are made from files): they go with the services.
  await progress.step('configs', async () => {
    for (const c of of('config')) {
      await manager.removeConfig({ id: c.id as string });
      removed.push(`config ${c.name}`);
    }
  });

  if (purge) {
    await progress.step('secrets', async () => {
      for (const s of of('secret')) {
        await manager.removeSecret({ id: s.id as string });
        removed.push(`secret ${s.name}`);
      }
    });
    await progress.step('volumes', async () => {
      for (const { name: node } of swarm.nodes) {
        // Each node's volumes through its own worker, which has 20 s to answer (the stack's volumes may not be on
        // that node at all).
        const engine = engineOn(node, swarm.self, '20s');
        const found = await engine.observeVolumes({ stack, node }).catch(() => undefined);
        if (found === undefined) {
          kept.push(`volumes on ${node}: no worker answered on docker@${node}; run \`sciops worker --node ${node}\` there and purge again`);
          continue;
        }
        for (const v of found) {
          await engine.removeVolume({ name: v.name });
          removed.push(`volume ${v.name} on ${node}`);
        }
      }
    });
  } else {
    kept.push(...of('secret').map((s) => `secret ${s.name}`));
    progress.finish('secrets', 'skipped');
    kept.push('volumes (use purge to remove them and their data)');
    progress.finish('volumes', 'skipped');
  }
  return { stack, removed, kept };
}
