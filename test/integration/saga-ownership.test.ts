import { afterAll, describe, expect, it } from 'vitest';
import { Failure } from '../../common/failures';
import { EXPERIMENT_LABEL } from '../../common/labels';
import { Queue } from '../../common/queues';
import type { DeployReport, TeardownReport } from '../../common/stack';
import { WorkflowType } from '../../common/workflow-types';
import { eventually, tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { useTestbed } from '../support/harness';

/**
 * Two runs of one saga never undo each other, whatever workflow ids their callers chose (the Web UI takes
 * any): an experiment runs only under `experiment-<id>`, and two deploys of one stack take turns.
 */
const stack = `own${Date.now().toString(36)}`;
const t = useTestbed({
  databases: ['sciops_saga_ownership'],
  workers: (t) => [
    {
      queues: ['sciops', 'docker', 'db'],
      env: {
        DATABASE_URL: t.database('sciops_saga_ownership').url,
        SCIOPS_EXPERIMENTS_DIR: tempDir('ownership'),
        SCIOPS_SECRETS_DIR: tempDir('ownership-secrets'),
      },
    },
  ],
});
const { docker } = t;

afterAll(async () => {
  await t.client.workflow
    .execute(WorkflowType.teardownStack, {
      taskQueue: Queue.workflows,
      workflowId: uniqueId('teardown'),
      args: [{ stack, purge: true }],
    })
    .catch(() => undefined);
});

/** When the first (or last) event of `type` happened in a workflow's history (ms), or undefined. */
async function eventAt(workflowId: string, type: string, which: 'first' | 'last' = 'first'): Promise<number | undefined> {
  const history = await t.client.workflow.getHandle(workflowId).fetchHistory();
  const events = (history.events ?? []).filter((e) => e[type as keyof typeof e] != null);
  const event = which === 'first' ? events[0] : events[events.length - 1];
  return event?.eventTime?.seconds == null ? undefined : Number(event.eventTime.seconds) * 1000 + (event.eventTime.nanos ?? 0) / 1e6;
}

describe('one saga per experiment and per stack', () => {
  it('refuses an experiment started under another workflow id than experiment-<id>, before it records or runs anything', async () => {
    const id = uniqueId('foreign');
    const handle = await t.client.workflow.start(WorkflowType.runExperiment, {
      taskQueue: Queue.workflows,
      workflowId: `not-the-experiment-${id}`,
      args: [{ id, type: 'correlation_analysis', image: 'local/busybox:1', command: ['true'] }],
    });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe(Failure.invalidInput);
    expect(failure.message).toContain(`must be started with the workflow id experiment-${id}, not not-the-experiment-${id}`);
    // The experiments table is made by the first registration: none may have happened for this id.
    const { pool } = t.database('sciops_saga_ownership');
    const { rows: tables } = await pool.query(`select to_regclass('experiments') as t`);
    const recorded = tables[0].t === null ? [] : (await pool.query('select id from experiments where id = $1', [id])).rows;
    expect(recorded).toEqual([]);
    expect(await docker.listContainers({ all: true, filters: { label: [`${EXPERIMENT_LABEL}=${id}`] } })).toEqual([]);
  });

  it('runs two deploys of one stack under different ids one after the other: the second finds everything in place', async () => {
    const spec = {
      name: stack,
      services: [{ name: 'app', image: 'local/busybox:1', command: ['sleep', '3600'], convergeSeconds: 60 }],
    };
    const start = (workflowId: string) =>
      t.client.workflow.start(WorkflowType.deployStack, { taskQueue: Queue.workflows, workflowId, args: [spec] });
    const first = await start(uniqueId('deploy-a'));
    const second = await start(uniqueId('deploy-b'));
    const [a, b] = (await Promise.all([first.result(), second.result()])) as [DeployReport, DeployReport];
    // Whichever took the stack's lock first made the service; the other found it in place.
    const [made, found] = b.unchanged ? [first, second] : [second, first];
    expect([a, b].map((r) => r.unchanged).sort()).toEqual([false, true]);
    const creator = b.unchanged ? a : b;
    expect(creator.changes).toContainEqual(expect.objectContaining({ kind: 'service', name: 'app', change: 'create' }));
    // The other planned under the lock only once the first had done its last step: it waited for the stack's
    // lock (its first look, taken without one, found the service to create).
    const madeDone = await eventAt(made.workflowId, 'activityTaskCompletedEventAttributes', 'last');
    const foundObserved = await eventAt(found.workflowId, 'activityTaskScheduledEventAttributes', 'last');
    expect(madeDone).toBeDefined();
    expect(foundObserved).toBeGreaterThan(madeDone as number);
    const services = await docker.listServices({ filters: { label: [`com.docker.stack.namespace=${stack}`] } });
    expect(services.map((s) => s.Spec?.Name)).toEqual([`${stack}_app`]);
  });

  it('lets a teardown started during a deploy wait for it, then remove what it made', async () => {
    const other = `${stack}-td`;
    const spec = { name: other, services: [{ name: 'app', image: 'local/busybox:1', command: ['sleep', '3600'], convergeSeconds: 60 }] };
    const deploy = await t.client.workflow.start(WorkflowType.deployStack, {
      taskQueue: Queue.workflows,
      workflowId: uniqueId('deploy'),
      args: [spec],
    });
    // The deploy holds its two locks (the stack's and its service's) once both lock workflows started.
    await eventually('the deploy to hold its locks', 30_000, async () => {
      const history = await t.client.workflow.getHandle(deploy.workflowId).fetchHistory();
      return (history.events ?? []).filter((e) => e.childWorkflowExecutionStartedEventAttributes != null).length >= 2 ? true : undefined;
    });
    const teardown = await t.client.workflow.start(WorkflowType.teardownStack, {
      taskQueue: Queue.workflows,
      workflowId: uniqueId('teardown'),
      args: [{ stack: other, purge: true }],
    });
    const [deployed, removed] = (await Promise.all([deploy.result(), teardown.result()])) as [DeployReport, TeardownReport];
    expect(deployed.changes).toContainEqual(expect.objectContaining({ kind: 'service', name: 'app', change: 'create' }));
    expect(removed.removed).toContain(`service ${other}_app`);
    expect(await docker.listServices({ filters: { label: [`com.docker.stack.namespace=${other}`] } })).toEqual([]);
  });
});
