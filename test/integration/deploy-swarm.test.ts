import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDockerHost } from '../../common/config';
import { Queue } from '../../common/queues';
import type { DeployReport, TeardownReport } from '../../common/stack';
import type { StackPlan } from '../../common/stack-plan';
import { WorkflowType } from '../../common/workflow-types';
import { dockerClient } from '../../workers/create-workers';
import { eventually, tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { useTestbed } from '../support/harness';
import { historyText } from '../support/history';

// The spare engine of the testbed: in no swarm when the tests start, and made to leave again at the end.
const NODE3 = 'sciops-node3';
const NODE3_ADDR = '10.213.1.2';
const suffix = Date.now().toString(36);
const t = useTestbed();
const { docker } = t;
const node3Host = t.bed.node3DockerHost;
const node3 = dockerClient(parseDockerHost(node3Host));
let managerNode: string;
let managerAddr: string;
const node3Secrets = tempDir('node3-secrets');

const run = <T>(type: string, input: unknown) =>
  t.client.workflow.execute(type, { taskQueue: Queue.workflows, workflowId: uniqueId(type), args: [input] }) as Promise<T>;
const lines = (changes: ReadonlyArray<{ kind: string; name: string; change: string }>) =>
  changes.map((c) => `${c.kind} ${c.name} ${c.change}`);
const service = (name: string, constraint: string, extra: Record<string, unknown> = {}) => ({
  name,
  image: 'local/busybox:1',
  command: ['sleep', '3600'],
  constraints: [constraint],
  convergeSeconds: 60,
  ...extra,
});

/** Makes the spare engine leave any swarm, and the manager forget it. */
async function leaveSwarm(): Promise<void> {
  await node3.swarmLeave({ force: true }).catch(() => undefined);
  for (const n of (await docker.listNodes()) as Array<{ ID: string; Description?: { Hostname?: string } }>) {
    if (n.Description?.Hostname === NODE3) await docker.getNode(n.ID).remove({ force: true });
  }
}

const node3Worker = { queues: [], node: NODE3, env: { DOCKER_HOST: node3Host, SCIOPS_SECRETS_DIR: node3Secrets } };

beforeAll(async () => {
  const info = await docker.info();
  managerNode = info.Name;
  managerAddr = info.Swarm.NodeAddr;
  await leaveSwarm();
});

afterAll(async () => {
  await leaveSwarm();
});

describe('the swarm section of a stack', () => {
  it('inits a swarm on an engine in none, with its data path port, and labels the manager', async () => {
    const stack = `i${suffix}`;
    const spec = {
      name: stack,
      swarm: { advertiseAddr: NODE3_ADDR, dataPathPort: 7789, nodes: [{ name: NODE3, labels: { gpu: 'true' } }] },
      services: [service('train', 'node.labels.gpu==true')],
    };
    // Here the spare engine is the manager: the docker queue's worker talks to it.
    await t.withWorkers([{ queues: ['sciops', 'docker'], node: NODE3, env: { DOCKER_HOST: node3Host } }], async () => {
      const plan = await run<StackPlan>(WorkflowType.planStackDeploy, spec);
      expect(plan.problems).toEqual([]);
      expect(lines(plan.changes)).toEqual([`swarm ${NODE3} create`, `node ${NODE3} update`, 'service train create']);
      expect((await node3.info()).Swarm.LocalNodeState).toBe('inactive');
      // Before the swarm exists there is nothing to tear down, and teardown says so instead of failing.
      expect((await run<TeardownReport>(WorkflowType.teardownStack, { stack })).kept).toEqual([
        `nothing: the manager's engine (${NODE3}) is in no swarm`,
      ]);

      const report = await run<DeployReport>(WorkflowType.deployStack, spec);
      expect(lines(report.changes)).toEqual([`swarm ${NODE3} create`, `node ${NODE3} update`, 'service train create']);
      const info = await node3.info();
      expect(info.Swarm).toMatchObject({ LocalNodeState: 'active', ControlAvailable: true, NodeAddr: NODE3_ADDR });
      expect((await node3.swarmInspect()).DataPathPort).toBe(7789);
      expect((await node3.getNode(info.Swarm.NodeID).inspect()).Spec.Labels).toEqual({ gpu: 'true' });

      const again = await run<DeployReport>(WorkflowType.deployStack, spec);
      expect(again.unchanged).toBe(true);
      expect((await run<TeardownReport>(WorkflowType.teardownStack, { stack })).removed).toEqual([`service ${stack}_train`]);
    });
  });

  it('refuses to join a node that is in another swarm, and leaves it there', async () => {
    const spec = { name: `r${suffix}`, swarm: { advertiseAddr: managerAddr, nodes: [{ name: NODE3, advertiseAddr: NODE3_ADDR }] } };
    await t.withWorkers([{ queues: ['sciops', 'docker'], node: managerNode }, node3Worker], async () => {
      const failure = await failureOf(run(WorkflowType.deployStack, spec));
      expect(failure.type).toBe('SwarmConflict');
      expect(failure.message).toContain(`node ${NODE3} is in another swarm (managers ${NODE3_ADDR}:2377)`);
      expect((await node3.info()).Swarm.ControlAvailable).toBe(true);
    });
    await leaveSwarm();
  });

  it('joins a node through its own worker, never putting the join token in history, and places a volume and a service by its labels', async () => {
    const stack = `j${suffix}`;
    const spec = {
      name: stack,
      swarm: { advertiseAddr: managerAddr, nodes: [{ name: NODE3, advertiseAddr: NODE3_ADDR, labels: { 'sciops-test.gpu': 'true' } }] },
      volumes: [{ name: 'scratch', node: NODE3 }],
      services: [service('train', 'node.labels.sciops-test.gpu==true', { volumes: [{ source: 'scratch', target: '/scratch' }] })],
    };
    await t.withWorkers([{ queues: ['sciops', 'docker'], node: managerNode }, node3Worker], async () => {
      const plan = await run<StackPlan>(WorkflowType.planStackDeploy, spec);
      expect(lines(plan.changes)).toEqual([
        `swarm ${managerNode} unchanged`,
        `node ${NODE3} create`,
        'volume scratch create',
        'service train create',
      ]);

      const handle = await t.client.workflow.start(WorkflowType.deployStack, {
        taskQueue: Queue.workflows,
        workflowId: uniqueId('deploy'),
        args: [spec],
      });
      const report = (await handle.result()) as DeployReport;
      expect(report.changes.find((c) => c.kind === 'node')).toEqual({ kind: 'node', name: NODE3, change: 'create' });

      const member = (
        (await docker.listNodes()) as Array<{ Description: { Hostname: string }; Status: { State: string }; Spec: { Labels: object } }>
      ).find((n) => n.Description.Hostname === NODE3);
      expect(member).toMatchObject({ Status: { State: 'ready' }, Spec: { Labels: { 'sciops-test.gpu': 'true' } } });
      expect(((await node3.listVolumes()).Volumes ?? []).map((v) => v.Name)).toContain(`${stack}_scratch`);
      expect(((await docker.listVolumes()).Volumes ?? []).map((v) => v.Name)).not.toContain(`${stack}_scratch`);
      await eventually('the service task on the joined node', 30_000, async () =>
        (await node3.listContainers({ filters: { label: [`com.docker.swarm.service.name=${stack}_train`] } })).length === 1
          ? true
          : undefined,
      );

      const token = (await docker.swarmInspect()).JoinTokens.Worker as string;
      const history = await historyText(handle);
      expect(history).toContain(`${stack}_train`);
      expect(history).not.toContain('SWMTKN');
      expect(history).not.toContain(token.split('-').at(-1));
      // The box's private key was used once and discarded.
      expect(readdirSync(path.join(node3Secrets, 'boxes'))).toEqual([]);

      expect((await run<DeployReport>(WorkflowType.deployStack, spec)).unchanged).toBe(true);
      const teardown = await run<TeardownReport>(WorkflowType.teardownStack, { stack, purge: true });
      expect(teardown.removed).toEqual([`service ${stack}_train`, `volume ${stack}_scratch on ${NODE3}`]);
    });
  });

  it('refuses, before any change, a data path port other than the swarm has', async () => {
    await t.withWorkers([{ queues: ['sciops', 'docker'], node: managerNode }], async () => {
      const dataPathPort = (await docker.swarmInspect()).DataPathPort === 7790 ? 7791 : 7790;
      const failure = await failureOf(
        run(WorkflowType.deployStack, { name: `p${suffix}`, swarm: { advertiseAddr: managerAddr, dataPathPort } }),
      );
      expect(failure.type).toBe('StackRejected');
      expect(failure.message).toContain('swarm.dataPathPort: the swarm uses');
    });
  });
});
