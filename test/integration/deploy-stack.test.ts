import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseDockerHost } from '../../common/config';
import { Failure } from '../../common/failures';
import { stackLockKey } from '../../common/locks';
import { Queue } from '../../common/queues';
import type { DeployReport, TeardownReport } from '../../common/stack';
import type { StackPlan } from '../../common/stack-plan';
import { targetLockWorkflowId } from '../../common/workflow-ids';
import { WorkflowType } from '../../common/workflow-types';
import { dockerClient } from '../../workers/create-workers';
import { CliProcess } from '../support/cli';
import type { ScratchDatabase } from '../support/database';
import { eventually, tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { useTestbed, type WorkerOptions } from '../support/harness';
import { historyText } from '../support/history';
import { metricValue } from '../support/metrics';
import { workerMetrics } from '../support/workers';

const NODE2 = 'sciops-node2';
let managerNode: string;
const secretsDir = tempDir('secrets');
/** Where the manager's worker may read secret files from (its SCIOPS_SECRET_FILE_ROOTS). */
const stackFiles = tempDir('stack-files');
const t = useTestbed({
  databases: ['sciops_platform'],
  before: async (t) => {
    managerNode = (await t.docker.info()).Name;
  },
  workers: (t): WorkerOptions[] => [
    {
      queues: ['sciops', 'docker'],
      node: managerNode,
      env: { SCIOPS_SECRETS_DIR: secretsDir, SCIOPS_SECRET_FILE_ROOTS: stackFiles },
    },
    { queues: [], node: NODE2, env: { DOCKER_HOST: t.bed.node2DockerHost } },
  ],
});
const { docker } = t;
const node2 = dockerClient(parseDockerHost(t.bed.node2DockerHost));
const stack = `t${Date.now().toString(36)}`;

function stackSpec(extra: Record<string, unknown> = {}) {
  return {
    name: stack,
    volumes: [
      { name: 'data', node: managerNode, labels: { purpose: 'database' } },
      { name: 'media', node: NODE2 },
    ],
    networks: [{ name: 'backend', ipam: { config: [{ subnet: '10.231.7.0/24', gateway: '10.231.7.1' }] } }] as Array<
      Record<string, unknown>
    >,
    secrets: [{ name: 'db_password', generate: { length: 24 } }],
    services: [
      {
        name: 'web',
        image: 'local/busybox:1',
        command: ['sh', '-c', 'test -s /run/secrets/db_password && sleep 3600'],
        secrets: ['db_password'],
        networks: ['backend'],
        volumes: [{ source: 'data', target: '/data' }],
        constraints: [`node.hostname==${managerNode}`],
        convergeSeconds: 60,
      },
      {
        name: 'worker',
        image: 'local/busybox:1',
        command: ['sleep', '3600'],
        networks: ['backend'],
        volumes: [{ source: 'media', target: '/media' }],
        constraints: [`node.hostname==${NODE2}`],
        convergeSeconds: 60,
      },
    ],
    ...extra,
  };
}

const run = <T>(type: string, input: unknown) =>
  t.client.workflow.execute(type, { taskQueue: Queue.workflows, workflowId: uniqueId(type), args: [input] }) as Promise<T>;

const volumeNames = async (engine: Dockerode) => ((await engine.listVolumes()).Volumes ?? []).map((v) => v.Name);
const stackServices = async () =>
  (await docker.listServices({ filters: { label: [`sciops.stack=${stack}`] } })).map((s) => s.Spec?.Name).sort();

afterAll(async () => {
  // Every stack this file deploys (the main one, and those of secret rotation, migrations and the killed
  // worker), also when a test failed before its own teardown: nothing is left on the engine.
  for (const name of [stack, `${stack}r`, `${stack}m`, `${stack}k`, `${stack}p`]) {
    await run(WorkflowType.teardownStack, { stack: name, purge: true }).catch(() => undefined);
  }
});

describe('deployStack on the two-node swarm', () => {
  it('plans everything as new, and the plan touches nothing', async () => {
    const plan = await run<StackPlan>(WorkflowType.planStackDeploy, stackSpec());
    expect(plan.problems).toEqual([]);
    expect(plan.changes.map((c) => `${c.kind} ${c.name} ${c.change}`)).toEqual([
      'volume data create',
      'volume media create',
      'network backend create',
      'secret db_password create',
      'service web create',
      'service worker create',
    ]);
    expect(await stackServices()).toEqual([]);
    expect(await volumeNames(node2)).not.toContain(`${stack}_media`);
  });

  it('deploys: volumes on their own nodes, a generated secret shown once in a 0600 file and never in history', async () => {
    const handle = await t.client.workflow.start(WorkflowType.deployStack, {
      taskQueue: Queue.workflows,
      workflowId: uniqueId('deploy'),
      args: [stackSpec()],
    });
    const report = (await handle.result()) as DeployReport;
    expect(report.unchanged).toBe(false);
    expect(report.changes.every((c) => c.change === 'create')).toBe(true);

    expect(await volumeNames(docker)).toContain(`${stack}_data`);
    expect(await volumeNames(docker)).not.toContain(`${stack}_media`);
    expect(await volumeNames(node2)).toContain(`${stack}_media`);
    expect(await volumeNames(node2)).not.toContain(`${stack}_data`);

    const network = await docker.getNetwork(`${stack}_backend`).inspect();
    expect(network).toMatchObject({ Driver: 'overlay', Attachable: true });
    expect(network.IPAM?.Config?.[0]).toMatchObject({ Subnet: '10.231.7.0/24', Gateway: '10.231.7.1' });

    expect(report.secretFiles).toHaveLength(1);
    const file = report.secretFiles[0];
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const value = readFileSync(file, 'utf8').trim();
    expect(value).toMatch(/^[A-Za-z0-9]{24}$/);
    const history = await historyText(handle);
    expect(history).toContain(`${stack}_db_password`);
    expect(history).not.toContain(value);

    expect(await stackServices()).toEqual([`${stack}_web`, `${stack}_worker`]);
    // Each created resource is counted, by kind, on the workers' metrics endpoint.
    const metrics = await workerMetrics();
    for (const kind of ['volume', 'network', 'secret', 'service'] as const) {
      const made = report.changes.filter((c) => c.kind === kind).length;
      expect(metricValue(metrics, 'sciops_deploy_changes_total', { stack, kind, change: 'create' }), kind).toBe(made);
    }
  });

  it('a second deploy of the same spec changes nothing and says so, and so does its plan', async () => {
    const services = await docker.listServices({ filters: { label: [`sciops.stack=${stack}`] } });
    // The plan of a deployed stack with a secret: nothing to do (it used to list the secret as create and
    // every service mounting it as update).
    const plan = await run<StackPlan>(WorkflowType.planStackDeploy, stackSpec());
    expect(plan.problems).toEqual([]);
    expect(plan.changes.map((c) => `${c.kind} ${c.name} ${c.change}`)).toEqual([
      'volume data unchanged',
      'volume media unchanged',
      'network backend unchanged',
      'secret db_password unchanged',
      'service web unchanged',
      'service worker unchanged',
    ]);
    // With nothing to do it takes no lock: it ends while another workflow holds the stack's.
    const holder = await t.client.workflow.start('backupTargetLock', {
      taskQueue: Queue.workflows,
      workflowId: targetLockWorkflowId(stackLockKey(stack)),
    });
    try {
      const report = await run<DeployReport>(WorkflowType.deployStack, stackSpec());
      expect(report.unchanged).toBe(true);
      expect(report.secretFiles).toEqual([]);
      expect(report.changes.map((c) => `${c.kind} ${c.name} ${c.change}`)).toEqual(
        plan.changes.map((c) => `${c.kind} ${c.name} ${c.change}`),
      );
    } finally {
      await holder.terminate();
    }
    const after = await docker.listServices({ filters: { label: [`sciops.stack=${stack}`] } });
    expect(after.map((s) => s.Version?.Index).sort()).toEqual(services.map((s) => s.Version?.Index).sort());
  });

  it('a service that never converges: its failure names the task error, and only what this run made is undone', async () => {
    const spec = stackSpec();
    spec.services.push({ ...spec.services[1], name: 'broken', image: 'local/does-not-exist:1', convergeSeconds: 8 });
    spec.networks.push({ name: 'extra', ipam: { config: [{ subnet: '10.231.8.0/24', gateway: '10.231.8.1' }] } });
    spec.services[2].networks = ['backend', 'extra'];
    const failure = await failureOf(run(WorkflowType.deployStack, spec));
    expect(failure.type).toBe('ServiceNotConverged');
    expect(failure.message).toContain(`service ${stack}_broken: not converged after 8s: 0/1 tasks running`);
    expect(failure.message).toContain('No such image: local/does-not-exist:1');
    await eventually('the saga to remove the new service and network', 30_000, async () =>
      (await stackServices()).length === 2 ? true : undefined,
    );
    expect((await docker.listNetworks({ filters: { name: [`${stack}_extra`] } })).length).toBe(0);
    expect(await stackServices()).toEqual([`${stack}_web`, `${stack}_worker`]);
    expect((await run<DeployReport>(WorkflowType.deployStack, stackSpec())).unchanged).toBe(true);
  });

  it('a service the swarm refuses fails at once with its reason, and the run is undone', async () => {
    const name = `${stack}p`;
    const service = (n: string) => ({
      name: n,
      image: 'local/busybox:1',
      command: ['sleep', '3600'],
      ports: [{ published: 18999, target: 80 }],
    });
    const spec = { name, networks: [{ name: 'net' }], services: [service('a'), service('b')] };
    const failure = await failureOf(run(WorkflowType.deployStack, spec));
    expect(failure.type).toBe('ServiceRejected');
    expect(failure.message).toContain(`the swarm refused service ${name}_b`);
    expect(failure.message).toContain("port '18999' is already in use");
    expect((await docker.listServices({ filters: { label: [`sciops.stack=${name}`] } })).length).toBe(0);
    expect((await docker.listNetworks({ filters: { label: [`sciops.stack=${name}`] } })).length).toBe(0);
  });

  it.each([
    [{ colour: 'red' }, 'colour: unknown field'],
    [
      { networks: [{ name: 'backend', ipam: { config: [{ subnet: '10.231.7.5/24' }] } }] },
      'networks[0].ipam.config[0].subnet: not an IPv4 CIDR block',
    ],
    [{ networks: [{ name: 'a' }, { name: 'a' }] }, 'networks[1].name: "a" is defined twice'],
    [{ services: [{ name: 'x', image: 'i', secrets: ['nope'] }] }, 'services[0].secrets[0]: no secret "nope" in secrets'],
  ])('rejects an invalid spec before any side effect: %j', async (extra, message) => {
    const failure = await failureOf(run(WorkflowType.deployStack, stackSpec(extra)));
    expect(failure.type).toBe(Failure.invalidInput);
    expect(failure.message).toContain(message);
  });

  it('rejects a volume on a node the swarm does not have, having touched nothing', async () => {
    const spec = { ...stackSpec(), name: `${stack}x`, volumes: [{ name: 'data', node: 'no-such-node' }], services: [] };
    const failure = await failureOf(run(WorkflowType.deployStack, spec));
    expect(failure.type).toBe('StackRejected');
    expect(failure.message).toContain('volumes[0].node: no node "no-such-node" in the swarm');
    expect((await docker.listNetworks({ filters: { label: [`sciops.stack=${stack}x`] } })).length).toBe(0);
  });

  it('teardown removes services and networks and keeps volumes and secrets; purge removes those too', async () => {
    const kept = await run<TeardownReport>(WorkflowType.teardownStack, { stack });
    expect([...kept.removed].sort()).toEqual([`network ${stack}_backend`, `service ${stack}_web`, `service ${stack}_worker`]);
    expect(await stackServices()).toEqual([]);
    expect(await volumeNames(node2)).toContain(`${stack}_media`);
    expect((await docker.listSecrets({ filters: { label: [`sciops.stack=${stack}`] } })).length).toBe(1);

    const purged = await run<TeardownReport>(WorkflowType.teardownStack, { stack, purge: true });
    expect(purged.removed).toEqual(
      expect.arrayContaining([
        `secret ${stack}_db_password`,
        `volume ${stack}_media on ${NODE2}`,
        `volume ${stack}_data on ${managerNode}`,
      ]),
    );
    expect(await volumeNames(node2)).not.toContain(`${stack}_media`);
    expect(await volumeNames(docker)).not.toContain(`${stack}_data`);
    expect((await docker.listSecrets({ filters: { label: [`sciops.stack=${stack}`] } })).length).toBe(0);
  });
});

describe('teardown --purge of running services', () => {
  it('reports a volume removed only once no node lists it, though its containers take seconds to stop (issue 12)', async () => {
    const name = `${stack}p`;
    // Each task traps SIGTERM and takes 3 s to exit: its volume is in use for that long after the service is gone.
    const slow = ['sh', '-c', "trap 'sleep 3; exit 0' TERM; while :; do sleep 1; done"];
    await run(WorkflowType.deployStack, {
      name,
      volumes: [
        { name: 'data', node: managerNode },
        { name: 'media', node: NODE2 },
      ],
      services: [
        {
          name: 'web',
          image: 'local/busybox:1',
          command: slow,
          volumes: [{ source: 'data', target: '/data' }],
          constraints: [`node.hostname==${managerNode}`],
        },
        {
          name: 'worker',
          image: 'local/busybox:1',
          command: slow,
          volumes: [{ source: 'media', target: '/media' }],
          constraints: [`node.hostname==${NODE2}`],
        },
      ],
    });
    const purged = await run<TeardownReport>(WorkflowType.teardownStack, { stack: name, purge: true });
    expect(purged.removed).toEqual(expect.arrayContaining([`volume ${name}_data on ${managerNode}`, `volume ${name}_media on ${NODE2}`]));
    // Right after the report, as `docker volume ls` on each node would show it.
    expect(await volumeNames(docker)).not.toContain(`${name}_data`);
    expect(await volumeNames(node2)).not.toContain(`${name}_media`);
    expect((await docker.listServices({ filters: { label: [`sciops.stack=${name}`] } })).length).toBe(0);
  });
});

describe('secret rotation', () => {
  it('a new value becomes a new version, the services move to it, and versions beyond keep are pruned', async () => {
    const name = `${stack}r`;
    const file = path.join(stackFiles, 'api_key.txt');
    const spec = (tokenVersion: number) => ({
      name,
      secrets: [
        { name: 'api_key', file, keep: 2 },
        { name: 'token', generate: { length: 20 }, version: tokenVersion },
      ],
      services: [
        {
          name: 'app',
          image: 'local/busybox:1',
          command: ['sh', '-c', 'test -s /run/secrets/api_key && test -s /run/secrets/token && exec sleep 3600'],
          secrets: ['api_key', 'token'],
          constraints: [`node.hostname==${managerNode}`],
        },
      ],
    });
    const secretNames = async () =>
      (await docker.listSecrets({ filters: { label: [`sciops.stack=${name}`] } })).map((x) => x.Spec?.Name).sort();
    const mounted = async () =>
      ((await docker.getService(`${name}_app`).inspect()).Spec.TaskTemplate.ContainerSpec.Secrets as Array<{ SecretName: string }>)
        .map((x) => x.SecretName)
        .sort();

    writeFileSync(file, 'key-one');
    const first = await run<DeployReport>(WorkflowType.deployStack, spec(1));
    expect(first.changes.filter((c) => c.kind === 'secret').map((c) => c.change)).toEqual(['create', 'create']);
    expect(await mounted()).toEqual([`${name}_api_key`, `${name}_token`]);

    writeFileSync(file, 'key-two');
    const second = await run<DeployReport>(WorkflowType.deployStack, spec(1));
    expect(second.changes).toEqual(
      expect.arrayContaining([
        { kind: 'secret', name: 'api_key', change: 'update' },
        { kind: 'service', name: 'app', change: 'update', details: ['secrets changed'] },
      ]),
    );
    expect(await mounted()).toEqual([`${name}_api_key_v2`, `${name}_token`]);
    expect(await secretNames()).toEqual([`${name}_api_key`, `${name}_api_key_v2`, `${name}_token`]);

    writeFileSync(file, 'key-three');
    const third = await run<DeployReport>(WorkflowType.deployStack, spec(2));
    expect(await mounted()).toEqual([`${name}_api_key_v3`, `${name}_token_v2`]);
    expect(await secretNames()).toEqual([`${name}_api_key_v2`, `${name}_api_key_v3`, `${name}_token`, `${name}_token_v2`]);
    expect(third.secretFiles.map((f) => path.basename(f))).toEqual([`${name}_token_v2`]);
    expect(JSON.stringify(third)).not.toContain('key-three');

    expect((await run<DeployReport>(WorkflowType.deployStack, spec(2))).unchanged).toBe(true);
    await run(WorkflowType.teardownStack, { stack: name, purge: true });
    expect(await secretNames()).toEqual([]);
  });
});

describe('migrations', () => {
  let platformDb: ScratchDatabase;
  beforeAll(async () => {
    platformDb = t.database('sciops_platform');
    // The platform's database URL is a reference: the db worker reads it from this variable.
    process.env.PLATFORM_DATABASE_URL = platformDb.url;
    await t.addWorkers({ queues: ['db'], env: { SCIOPS_MIGRATION_FILE_ROOTS: stackFiles } });
  });

  it('applies SQL once each, in order, in a transaction; exec steps run once behind their guard', async () => {
    const name = `${stack}m`;
    const file = path.join(stackFiles, '002_seed.sql');
    writeFileSync(file, "insert into samples (label) values ('first');");
    const spec = (migrations: unknown[]) => ({
      name,
      volumes: [{ name: 'data' }],
      services: [
        {
          name: 'web',
          image: 'local/busybox:1',
          command: ['sleep', '3600'],
          volumes: [{ source: 'data', target: '/data' }],
          constraints: [`node.hostname==${managerNode}`],
        },
      ],
      database: { urlEnv: 'PLATFORM_DATABASE_URL' },
      migrations,
    });
    const steps = [
      { name: '001_schema', sql: 'create table samples (id serial primary key, label text not null);' },
      { name: '002_seed', file },
      {
        name: '003_admin',
        exec: { service: 'web', command: ['sh', '-c', 'echo admin >> /data/admin'], unless: ['test', '-f', '/data/admin'] },
      },
    ];
    const first = await run<DeployReport>(WorkflowType.deployStack, spec(steps));
    expect(first.migrated).toEqual(['001_schema', '002_seed', '003_admin']);
    const again = await run<DeployReport>(WorkflowType.deployStack, spec(steps));
    expect(again).toMatchObject({ migrated: [], unchanged: true });
    expect((await platformDb.pool.query('select label from samples')).rows).toEqual([{ label: 'first' }]);

    const broken = [...steps, { name: '004_broken', sql: 'create table half (id int); select * from no_such_table;' }];
    const failure = await failureOf(run(WorkflowType.deployStack, spec(broken)));
    expect(failure.type).toBe('MigrationFailed');
    expect(failure.message).toContain('migration 004_broken failed, nothing of it was applied');
    expect((await platformDb.pool.query("select to_regclass('half') as t")).rows[0].t).toBeNull();
    const recorded = await platformDb.pool.query('select name from sciops_stack_migrations where stack = $1 order by name', [name]);
    expect(recorded.rows.map((r) => r.name)).toEqual(['001_schema', '002_seed']);
    await run(WorkflowType.teardownStack, { stack: name, purge: true });
  });

  it('a migration file outside SCIOPS_MIGRATION_FILE_ROOTS (the review: /etc/shadow), or missing, stops the deploy before any change', async () => {
    const name = `${stack}f`;
    const missing = path.join(stackFiles, 'no-such.sql');
    const handle = await t.client.workflow.start(WorkflowType.deployStack, {
      taskQueue: Queue.workflows,
      workflowId: uniqueId('deploy-migration-file'),
      args: [
        {
          name,
          services: [{ name: 'web', image: 'local/busybox:1', command: ['sleep', '3600'] }],
          database: { urlEnv: 'PLATFORM_DATABASE_URL' },
          migrations: [
            { name: '001_shadow', file: '/etc/shadow' },
            { name: '002_missing', file: missing },
          ],
        },
      ],
    });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('StackRejected');
    expect(failure.message).toContain(
      `migrations.001_shadow.file: /etc/shadow is not under SCIOPS_MIGRATION_FILE_ROOTS (${stackFiles}) on the db worker: put the file there, or add its directory to SCIOPS_MIGRATION_FILE_ROOTS`,
    );
    expect(failure.message).toContain(`migrations.002_missing.file: ${missing} cannot be read on the db worker (ENOENT)`);
    const { events } = await handle.fetchHistory();
    const scheduled = (events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    expect(scheduled).toContain('checkMigrationFiles');
    expect(scheduled).not.toContain('applySqlMigration');
    expect(await docker.listServices({ filters: { label: [`com.docker.stack.namespace=${name}`] } })).toEqual([]);
  });
});

describe('a docker worker killed with SIGKILL mid-deploy', () => {
  it('the deploy completes on the next worker, with no resource made twice', async () => {
    const name = `${stack}k`;
    const spec = {
      name,
      volumes: [{ name: 'data' }, { name: 'media' }],
      networks: [{ name: 'net' }],
      secrets: [{ name: 'token', generate: { length: 16 } }],
      services: ['a', 'b', 'c'].map((s) => ({
        name: s,
        image: 'local/busybox:1',
        command: ['sh', '-c', 'sleep 2 && exec sleep 3600'],
        networks: ['net'],
        volumes: [{ source: 'data', target: '/data' }],
        secrets: ['token'],
        constraints: [`node.hostname==${managerNode}`],
        convergeSeconds: 60,
      })),
    };
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      SCIOPS_SECRETS_DIR: secretsDir,
      SCIOPS_RECOVERY_MINUTES: '0',
    };
    // The in-process workers poll docker too: stop them so this process alone serves the queue.
    await t.restartWorkers({ queues: ['sciops'] });
    const first = new CliProcess(['--queues', 'docker'], env, 'worker');
    let second: CliProcess | undefined;
    try {
      await first.waitFor(/polling docker/, 30_000);
      const handle = await t.client.workflow.start(WorkflowType.deployStack, {
        taskQueue: Queue.workflows,
        workflowId: uniqueId('deploy'),
        args: [spec],
      });
      await eventually('a service to exist', 30_000, async () =>
        (await docker.listServices({ filters: { label: [`sciops.stack=${name}`] } })).length > 0 ? true : undefined,
      );
      await first.stop('SIGKILL', 5000);
      second = new CliProcess(['--queues', 'docker'], env, 'worker');
      const report = (await handle.result()) as DeployReport;
      expect(report.changes.filter((c) => c.kind === 'service')).toHaveLength(3);
      const services = await docker.listServices({ filters: { label: [`sciops.stack=${name}`] } });
      expect(services.map((s) => s.Spec?.Name).sort()).toEqual([`${name}_a`, `${name}_b`, `${name}_c`]);
      expect((await docker.listNetworks({ filters: { label: [`sciops.stack=${name}`] } })).length).toBe(1);
      expect((await docker.listSecrets({ filters: { label: [`sciops.stack=${name}`] } })).length).toBe(1);
      expect((await docker.listVolumes({ filters: { label: [`sciops.stack=${name}`] } })).Volumes).toHaveLength(2);
      const again = await run<DeployReport>(WorkflowType.deployStack, spec);
      expect(again.changes.filter((c) => c.change !== 'unchanged')).toEqual([]);
      expect((await run<TeardownReport>(WorkflowType.teardownStack, { stack: name, purge: true })).removed).toHaveLength(7);
    } finally {
      await first.stop('SIGKILL', 5000);
      await second?.stop('SIGTERM', 30_000);
      await t.restartWorkers({
        queues: ['sciops', 'docker'],
        node: managerNode,
        env: { SCIOPS_SECRETS_DIR: secretsDir, SCIOPS_SECRET_FILE_ROOTS: stackFiles },
      });
    }
  });
});
