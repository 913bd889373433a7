import { existsSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { createServicePause } from '../../activities/docker/service-pause';
import type { BackupReport } from '../../common/backup';
import { CONTROL_PLANE_LABEL, PAUSED_BY_LABEL, REPLICAS_LABEL } from '../../common/labels';
import { Queue } from '../../common/queues';
import type { RestoreReport } from '../../common/restore';
import { WorkflowType } from '../../common/workflow-types';
import { eventually, tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { useTestbed } from '../support/harness';
import { removeService } from '../support/services';

// Review H4: no retry loop holds services at 0 replicas, and a unix-socket URL backs up (proof p4).
const IMAGE = 'local/busybox:1';
const suffix = Date.now().toString(36);
const destination = { kind: 'local', dir: tempDir('no-endless-retry') };
const replicated = `sciops-h4-web-${suffix}`;
const global = `sciops-h4-agent-${suffix}`;
const stubborn = `sciops-h4-stubborn-${suffix}`;
const controlPlane = `sciops-h4-temporal-${suffix}`;
const volume = `sciops-h4-data-${suffix}`;
const t = useTestbed({
  databases: ['sciops_h4_socket'],
  before: async (t) => {
    const db = t.database('sciops_h4_socket');
    db.pool.on('error', () => undefined);
    await db.pool.query(
      "create table samples (id serial primary key, name text); insert into samples (name) select 'sample ' || i from generate_series(1, 250) i",
    );
    process.env.SCIOPS_TEST_H4_SOCKET_URL = socketUrl();
    await t.docker.createVolume({ Name: volume });
    await createService(replicated, { Replicated: { Replicas: 2 } }, ['sleep', '3600']);
    await createService(global, { Global: {} }, ['sleep', '3600']);
    await createService(controlPlane, { Replicated: { Replicas: 1 } }, ['sleep', '3600'], 1, { [CONTROL_PLANE_LABEL]: 'true' });
  },
  workers: () => [{ queues: ['sciops', 'docker', 'db'] }],
  after: async (t) => {
    for (const name of [replicated, global, stubborn, controlPlane]) {
      await removeService(t.docker, name);
    }
    await eventually('the services to let go of the volume', 60_000, async () =>
      t.docker
        .getVolume(volume)
        .remove()
        .then(
          () => true,
          (err: { statusCode?: number }) => (err.statusCode === 404 ? true : undefined),
        ),
    );
  },
});
const { docker } = t;
const db = () => t.database('sciops_h4_socket');

const start = (type: string, input: unknown) =>
  t.client.workflow.start(type, { taskQueue: Queue.workflows, workflowId: uniqueId(type), args: [input] });

async function activityTypes(handle: WorkflowHandle): Promise<string[]> {
  const { events } = await handle.fetchHistory();
  return (events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? '').filter((t) => t !== '');
}

/** The service's mode and labels, and the ids of its running tasks. */
async function stateOf(name: string) {
  const { Spec } = await docker.getService(name).inspect();
  const tasks = (await docker.listTasks({ filters: { service: [name], 'desired-state': ['running'] } })) as Array<{
    ID: string;
    Status: { State: string };
  }>;
  return {
    mode: Spec.Mode,
    paused: Spec.Labels?.[PAUSED_BY_LABEL] ?? Spec.Labels?.[REPLICAS_LABEL],
    tasks: tasks.map((t) => t.ID).sort(),
    running: tasks.filter((t) => t.Status.State === 'running').length,
  };
}

async function createService(
  name: string,
  mode: Dockerode.ServiceSpec['Mode'],
  command: string[],
  graceSeconds = 1,
  labels: Record<string, string> = {},
) {
  await docker.createService({
    Name: name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: { Image: IMAGE, Command: command, StopGracePeriod: graceSeconds * 1e9 },
      Placement: { Constraints: [`node.hostname==${(await docker.info()).Name}`] },
    },
    Mode: mode,
  });
  await eventually(`${name} to run`, 60_000, async () => ((await stateOf(name)).running > 0 ? true : undefined));
}

/**
 * The scratch database's URL through the server's unix socket (no host in the authority, `?host=<dir>`):
 * the testbed's server listens in the directory scripts/postgres.sh gives it, on the port of its TCP address.
 */
function socketUrl(): string {
  const u = new URL(db().url);
  const dir = path.join(process.env.SCIOPS_TESTBED_DIR ?? '/var/lib/sciops-testbed', 'postgres');
  if (!existsSync(path.join(dir, `.s.PGSQL.${u.port}`))) throw new Error(`no PostgreSQL socket in ${dir}: start the testbed`);
  return `postgresql://${u.username}:${u.password}@${u.pathname}?host=${encodeURIComponent(dir)}&port=${u.port}&application_name=sciops-h4`;
}

describe('a backup whose target is reached through a unix socket (proof p4)', () => {
  it('dumps, verifies in a scratch database beside it, and restores, all through the socket URL', async () => {
    const name = `h4-socket-${suffix}`;
    const target = { kind: 'postgres', name: 'omics', urlEnv: 'SCIOPS_TEST_H4_SOCKET_URL' };
    const report = (await (
      await start(WorkflowType.backup, { name, targets: [target], destination, verify: true })
    ).result()) as BackupReport;
    expect(report.verified).toBe(true);
    expect(report.dumps[0]?.tables).toEqual({ 'public.samples': 250 });
    await db().pool.query('delete from samples where id > 100');
    const restored = (await (
      await start(WorkflowType.restore, { destination, backup: name, run: report.run, force: true })
    ).result()) as RestoreReport;
    expect(restored.restored).toEqual(['omics']);
    expect((await db().pool.query('select count(*)::int as n from samples')).rows[0].n).toBe(250);
  });
});

describe('stopServices', () => {
  it('a global service among them is refused before anything is paused; every service keeps running as it was', async () => {
    const before = { web: await stateOf(replicated), agent: await stateOf(global) };
    const handle = await start(WorkflowType.backup, {
      name: `h4-global-${suffix}`,
      targets: [{ kind: 'volume', name: 'data', volume, image: IMAGE }],
      destination,
      stopServices: [replicated, global],
    });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('BackupFailed');
    expect(failure.message).toContain(`service ${global} is a global service, which cannot be scaled to 0`);
    expect(failure.message).toContain('nothing was paused');
    expect(await activityTypes(handle)).not.toContain('pauseService');
    expect(await stateOf(replicated)).toEqual(before.web);
    expect(await stateOf(global)).toEqual(before.agent);
  });

  it('a service of sciops itself, or one not on the swarm (the review: temporal), is refused before anything is paused', async () => {
    const before = { web: await stateOf(replicated), temporal: await stateOf(controlPlane) };
    const handle = await start(WorkflowType.backup, {
      name: `h4-own-${suffix}`,
      targets: [{ kind: 'volume', name: 'data', volume, image: IMAGE }],
      destination,
      stopServices: [replicated, controlPlane, 'temporal'],
    });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('BackupFailed');
    expect(failure.message).toContain(
      `service ${controlPlane} is part of sciops itself (label ${CONTROL_PLANE_LABEL}): pausing it would stop what scales it back`,
    );
    expect(failure.message).toContain('no service temporal on the swarm');
    expect(failure.message).toContain('nothing was paused');
    expect(await activityTypes(handle)).not.toContain('pauseService');
    expect(await stateOf(replicated)).toEqual(before.web);
    expect(await stateOf(controlPlane)).toEqual(before.temporal);
  });

  it('a helper image that is missing and cannot be pulled fails the backup at once, with the services back at their replicas', async () => {
    const started = Date.now();
    const handle = await start(WorkflowType.backup, {
      name: `h4-image-${suffix}`,
      targets: [{ kind: 'volume', name: 'data', volume, image: `local/no-such-helper-${suffix}:1` }],
      destination,
      stopServices: [replicated],
    });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('BackupFailed');
    expect(failure.message).toContain(
      `the helper image local/no-such-helper-${suffix}:1 is not on this node's engine and could not be pulled`,
    );
    expect(Date.now() - started).toBeLessThan(60_000);
    const types = await activityTypes(handle);
    expect(types.filter((t) => t === 'dumpVolume')).toHaveLength(1); // no retry of a failure no retry fixes
    expect(types).toContain('resumeService');
    const after = await stateOf(replicated);
    expect(after.mode).toEqual({ Replicated: { Replicas: 2 } });
    expect(after.paused).toBeUndefined();
    await eventually('the service to run its 2 tasks again', 60_000, async () =>
      (await stateOf(replicated)).tasks.length === 2 ? true : undefined,
    );
  });

  it('the wait for a paused service to drain has a deadline; the service then resumes at its replicas', async () => {
    // A task that ignores SIGTERM, with a stop grace period of 30 s: it does not stop within the deadline.
    await createService(stubborn, { Replicated: { Replicas: 1 } }, ['sh', '-c', "trap '' TERM; while true; do sleep 1; done"], 30);
    const pause = createServicePause(docker);
    const env = new MockActivityEnvironment();
    const holder = `h4-drain-${suffix}`;
    const started = Date.now();
    const err = await env
      .run(() => pause.pauseService({ name: stubborn, holder, drainSeconds: 3 }))
      .then(
        () => undefined,
        (e: Error & { type?: string; nonRetryable?: boolean }) => e,
      );
    expect(err).toMatchObject({ type: 'BackupFailed', nonRetryable: true });
    expect(err?.message).toContain(`1 task(s) of service ${stubborn} still run 3s after it was scaled to 0`);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await env.run(() => pause.resumeService({ name: stubborn, holder }))).toEqual({ replicas: 1 });
    expect((await stateOf(stubborn)).mode).toEqual({ Replicated: { Replicas: 1 } });
  });
});
