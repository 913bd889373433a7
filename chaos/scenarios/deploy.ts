import type { DeployReport } from '../../common/stack';
import { WorkflowType } from '../../common/workflow-types';
import { eventually } from '../../test/support/experiments';
import { engineActions, notTimes } from '../engine-events';
import { runCrashed, type Scenario, startWorkflow } from '../trial';
import { IMAGE, runningTasks, type World } from '../world';

/** A small stack: a volume on each engine, an overlay network, a generated secret, a service on each node. */
function stackSpec(world: World, stack: string) {
  return {
    name: stack,
    volumes: [{ name: 'cache' }, { name: 'scans', node: world.node2Name }],
    networks: [{ name: 'net' }],
    secrets: [{ name: 'token', generate: { length: 24 } }],
    services: [
      {
        name: 'web',
        image: IMAGE,
        command: ['sh', '-c', 'test -s /run/secrets/token && sleep 2147483647'],
        replicas: 2,
        secrets: ['token'],
        networks: ['net'],
        volumes: [{ source: 'cache', target: '/cache' }],
        constraints: [`node.hostname==${world.managerNode}`],
      },
      {
        name: 'pipeline',
        image: IMAGE,
        command: ['sleep', '2147483647'],
        networks: ['net'],
        volumes: [{ source: 'scans', target: '/scans' }],
        constraints: [`node.hostname==${world.node2Name}`],
      },
    ],
  };
}

/**
 * A deploy of the small stack, crashed once: it must complete with every service at its replicas, each
 * service, network, secret and volume created exactly once (the engines' events); then it is torn down.
 */
export const deployScenario: Scenario = {
  name: 'deploy',
  activities: 15,
  async run(world, trial) {
    const stack = `chaos-${world.stamp}-${trial.number}`;
    const spec = stackSpec(world, stack);
    const handle = await startWorkflow(world, WorkflowType.deployStack, `deploy-${trial.name}`, spec);
    const { kill, end } = await runCrashed(world, trial, handle);
    const violations: string[] = [];
    if (!end.ok) violations.push(`the deploy failed after the kill: ${end.error}`);
    const n = (name: string) => `${stack}_${name}`;
    // Swarm objects: one create event each; networks: one network id (each node reports its own create); a
    // volume's create is reported at every mount, so a volume made twice shows as a destroy in between.
    const events = (engine: typeof world.docker, type: Parameters<typeof engineActions>[2], action: string) =>
      engineActions(engine, trial.since, type, action);
    const distinct = (ids: readonly string[]) => new Set(ids).size;
    violations.push(
      ...notTimes(await events(world.docker, 'service', 'create'), [n('web'), n('pipeline')], 1, 'service created'),
      ...notTimes(await events(world.docker, 'service', 'remove'), [n('web'), n('pipeline')], 0, 'service removed'),
      ...notTimes(await events(world.docker, 'secret', 'create'), [n('token')], 1, 'secret created'),
      ...notTimes(await events(world.docker, 'secret', 'remove'), [n('token')], 0, 'secret removed'),
      ...notTimes(await events(world.docker, 'network', 'create'), [n('net')], 1, 'network created (distinct ids)', distinct),
      ...notTimes(await events(world.docker, 'network', 'destroy'), [n('net')], 0, 'network destroyed'),
      ...notTimes(await events(world.docker, 'volume', 'destroy'), [n('cache')], 0, 'volume destroyed'),
      ...notTimes(await events(world.node2, 'volume', 'destroy'), [n('scans')], 0, 'volume destroyed'),
      ...notTimes(await events(world.node2, 'volume', 'create'), [n('scans')], 1, 'volume created', (ids) => Math.min(ids.length, 1)),
      ...notTimes(await events(world.docker, 'volume', 'create'), [n('cache')], 1, 'volume created', (ids) => Math.min(ids.length, 1)),
    );
    if (end.ok) {
      for (const s of spec.services) {
        const want = s.replicas ?? 1;
        const running = await eventually(`${n(s.name)} at ${want} tasks`, 30_000, async () => {
          const now = await runningTasks(world.docker, n(s.name));
          return now === want ? now : undefined;
        }).catch(() => undefined);
        if (running === undefined) violations.push(`${n(s.name)} does not run its ${want} tasks after the deploy`);
      }
    }
    const changes = end.ok ? `${(end.value as DeployReport).changes.length} changes` : 'failed';
    const teardown = await world.env.client.workflow
      .execute(WorkflowType.teardownStack, { taskQueue: 'sciops', workflowId: `teardown-${trial.name}`, args: [{ stack, purge: true }] })
      .then(
        () => undefined,
        (err: unknown) => `the teardown of ${stack} failed: ${(err as Error).message}`,
      );
    if (teardown !== undefined) violations.push(teardown);
    return { text: `deploy ${end.ok ? 'completed' : 'failed'} (${changes})`, kill, violations };
  },
};
