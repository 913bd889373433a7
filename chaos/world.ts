import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { type BenchEnvironment, benchEnvironment } from '../bench/support/environment';
import type { BackupReport, BackupSpec } from '../common/backup';
import { parseDockerHost } from '../common/config';
import { Queue } from '../common/queues';
import { WorkflowType } from '../common/workflow-types';
import { type ScratchDatabase, scratchDatabase } from '../test/support/database';
import { eventually } from '../test/support/experiments';
import { loadTestbed } from '../test/support/testbed';
import { dockerClient } from '../workers/create-workers';
import { type TableDigests, tableDigests } from './table-digests';
import { WorkerProcesses, type WorkerSpec } from './workers';

/** The variable holding the backed-up database's URL, on the db worker. */
export const DATA_URL_ENV = 'CHAOS_DATA_URL';
export const IMAGE = 'local/busybox:1';

/** What every trial runs against, set up once per run. */
export interface World {
  readonly env: BenchEnvironment;
  readonly workers: WorkerProcesses;
  readonly docker: Dockerode;
  readonly node2: Dockerode;
  readonly managerNode: string;
  readonly node2Name: string;
  /** The database that backups dump and restores fill (not the workers' own). */
  readonly data: ScratchDatabase;
  /** The backups' local destination. */
  readonly backups: string;
  readonly outputs: string;
  /** The service every backup and restore pauses, and the replicas it must always come back to. */
  readonly app: { readonly name: string; readonly replicas: number };
  /** A complete backup taken before the trials, without a kill: what restores put back. */
  readonly baseline: { readonly spec: BackupSpec; readonly run: string; readonly digests: TableDigests };
  /** Unique to this run: part of every name a trial makes. */
  readonly stamp: string;
  readonly workerLog: string;
}

/** The spec of a backup of the data database, pausing the app service, into the run's destination. */
export function backupSpec(world: Pick<World, 'backups' | 'app'>, name: string, verify = false): BackupSpec {
  return {
    name,
    targets: [{ kind: 'postgres', name: 'data', urlEnv: DATA_URL_ENV, mode: 'data-only' }],
    destination: { kind: 'local', dir: world.backups },
    stopServices: [world.app.name],
    retention: { keepLast: 3, daily: 0, weekly: 0, monthly: 0 },
    verify,
  };
}

/** Two tables with a foreign key between them, large enough that a dump or restore takes a moment. */
async function fillData(data: ScratchDatabase): Promise<void> {
  await data.pool.query(`
    create table samples (id int primary key, name text not null, value double precision);
    create table measurements (id int primary key, sample_id int not null references samples (id), reading double precision, taken_at timestamptz);
    insert into samples select g, 'sample-' || g, random() from generate_series(1, 20000) g;
    insert into measurements select g, 1 + g % 20000, random(), now() - g * interval '1 second' from generate_series(1, 150000) g;`);
}

/** The service that backups pause: on the manager, `replicas` tasks that sleep. */
async function createApp(docker: Dockerode, name: string, managerNode: string, replicas: number): Promise<void> {
  await docker.createService({
    Name: name,
    TaskTemplate: {
      // Stops at once on SIGTERM (a bare sleep as pid 1 ignores it, and every pause would wait out the grace).
      ContainerSpec: { Image: IMAGE, Command: ['sh', '-c', 'trap "exit 0" TERM; sleep 2147483647 & wait'], StopGracePeriod: 1e9 },
      Placement: { Constraints: [`node.hostname==${managerNode}`] },
    },
    Mode: { Replicated: { Replicas: replicas } },
  });
  await eventually(`service ${name} to run ${replicas} tasks`, 60_000, async () =>
    (await runningTasks(docker, name)) === replicas ? true : undefined,
  );
}

/** Tasks of a service that are running now. */
export async function runningTasks(docker: Dockerode, service: string): Promise<number> {
  const tasks = (await docker.listTasks({ filters: { service: [service], 'desired-state': ['running'] } })) as Array<{
    Status?: { State?: string };
  }>;
  return tasks.filter((t) => t.Status?.State === 'running').length;
}

/**
 * Starts the world: a Temporal dev server, the workers (the workflow worker and each activity worker a
 * process of its own), the data database, the app service and the baseline backup.
 */
export async function openWorld(): Promise<World> {
  const bed = loadTestbed();
  const stamp = Date.now().toString(36);
  const scratch = mkdtempSync(path.join(tmpdir(), 'sciops-chaos-'));
  const workerLog = path.join(scratch, 'workers.log');
  const env = await benchEnvironment('chaos', 27240, { workerLog });
  const docker = dockerClient(parseDockerHost(bed.dockerHost));
  const node2 = dockerClient(parseDockerHost(bed.node2DockerHost));
  const managerNode = (await docker.info()).Name as string;
  const node2Name = (await node2.info()).Name as string;
  const data = await scratchDatabase('sciops_chaos_data');
  await fillData(data);
  const backups = path.join(scratch, 'backups');
  const outputs = path.join(scratch, 'experiments');
  const workers = new WorkerProcesses(env);
  const specs: WorkerSpec[] = [
    { name: 'workflow', queue: Queue.workflows, args: ['--queues', Queue.workflows], env: {} },
    {
      name: 'docker',
      queue: Queue.docker,
      args: ['--queues', Queue.docker],
      env: { SCIOPS_SECRETS_DIR: path.join(scratch, 'secrets'), SCIOPS_EXPERIMENTS_DIR: outputs },
    },
    { name: 'db', queue: Queue.db, args: ['--queues', Queue.db], env: { [DATA_URL_ENV]: data.url } },
    { name: `docker@${node2Name}`, queue: `docker@${node2Name}`, args: ['--node', node2Name], env: { DOCKER_HOST: bed.node2DockerHost } },
  ];
  await workers.start(specs);
  const app = { name: `chaos-app-${stamp}`, replicas: 2 };
  await createApp(docker, app.name, managerNode, app.replicas);
  const spec = backupSpec({ backups, app }, 'chaos-base');
  const digests = await tableDigests(data.pool);
  const report = (await env.client.workflow.execute(WorkflowType.backup, {
    taskQueue: Queue.workflows,
    workflowId: `chaos-baseline-${stamp}`,
    args: [spec],
  })) as BackupReport;
  return {
    env,
    workers,
    docker,
    node2,
    managerNode,
    node2Name,
    data,
    backups,
    outputs,
    app,
    baseline: { spec, run: report.run, digests },
    stamp,
    workerLog,
  };
}

/** Removes what openWorld made; the worker log is kept when asked (a run with violations). */
export async function closeWorld(world: World, keepLog: boolean): Promise<void> {
  await world.docker
    .getService(world.app.name)
    .remove()
    .catch(() => undefined);
  await world.env.close();
  await world.data.drop();
  const scratch = path.dirname(world.workerLog);
  for (const dir of [world.backups, world.outputs, path.join(scratch, 'secrets')]) rmSync(dir, { recursive: true, force: true });
  if (!keepLog) rmSync(scratch, { recursive: true, force: true });
}

/** The start of every experiment id of this run. */
export const experimentPrefix = (world: Pick<World, 'stamp'>) => `chaos-${world.stamp}-`;
