import { BatchClient } from '@aws-sdk/client-batch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EFSClient } from '@aws-sdk/client-efs';
import { S3Client } from '@aws-sdk/client-s3';
import type { PayloadCodec } from '@temporalio/common';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import Dockerode from 'dockerode';
import { Pool } from 'pg';
import { type AwsClients, createAwsActivities } from '../activities/aws';
import { createDbActivities } from '../activities/db';
import { explainPgError } from '../activities/db/errors';
import { createDockerActivities } from '../activities/docker';
import { engineNodeName } from '../activities/docker/engine-node';
import { explainDockerError } from '../activities/docker/errors';
import { createExperimentContainers } from '../activities/docker/experiment-containers';
import { createExperimentServices } from '../activities/docker/experiment-services';
import { createGitlabRunners } from '../activities/gitlab/runners';
import { createInputChecks } from '../activities/input-checks';
import { type DockerEndpoint, redactUrl, type SciopsConfig } from '../common/config';
import { ConfigError } from '../common/errors';
import type { ExperimentLimits } from '../common/experiment-limits';
import { DEFAULT_EXPERIMENT_POLICY, type ExperimentPolicy } from '../common/experiment-policy';
import { nodeQueue, Queue, type QueueKind } from '../common/queues';
import type { StackSourcePolicy } from '../common/stack-sources';

/** The external clients activities are built over; each is created only for the queues that need it. */
export interface ActivityClients {
  readonly docker?: { readonly client: Dockerode; readonly endpoint: string };
  readonly db?: { readonly pool: Pool; readonly url: string };
  readonly aws?: AwsClients & { readonly region: string; readonly endpoint?: string };
  /** S3, for backups whose destination is a bucket: created on first use. */
  readonly s3: LazyClient<S3Client>;
}

export interface LazyClient<T> {
  (): T;
  destroy(): void;
}

function lazyS3(config: SciopsConfig): LazyClient<S3Client> {
  let client: S3Client | undefined;
  const get = () => {
    // Path-style addressing where an endpoint override (an emulator) is set: it serves no bucket subdomains.
    client ??= new S3Client({
      region: config.aws.region,
      endpoint: config.aws.endpoint,
      forcePathStyle: config.aws.endpoint !== undefined,
    });
    return client;
  };
  return Object.assign(get, { destroy: () => client?.destroy() });
}

export function dockerClient(endpoint: DockerEndpoint): Dockerode {
  return endpoint.socketPath !== undefined
    ? new Dockerode({ socketPath: endpoint.socketPath })
    : new Dockerode({ host: endpoint.host, port: endpoint.port, protocol: endpoint.protocol });
}

/**
 * Creates the clients the given queues need, from configuration. Throws a ConfigError when a queue's
 * required setting is missing (the db queue without DATABASE_URL).
 */
export function createActivityClients(config: SciopsConfig, queues: readonly QueueKind[], node?: string): ActivityClients {
  const needsDocker = queues.includes('docker') || node !== undefined;
  let db: ActivityClients['db'];
  if (queues.includes('db')) {
    if (config.databaseUrl === undefined) {
      throw new ConfigError('DATABASE_URL', 'not set, and the db queue needs it: set it to postgres://user:password@host:5432/database');
    }
    db = { pool: new Pool({ connectionString: config.databaseUrl, max: config.concurrency.db + 1 }), url: redactUrl(config.databaseUrl) };
  }
  let aws: ActivityClients['aws'];
  if (queues.includes('aws')) {
    const options = { region: config.aws.region, endpoint: config.aws.endpoint };
    aws = {
      batch: new BatchClient(options),
      efs: new EFSClient(options),
      logs: new CloudWatchLogsClient(options),
      region: config.aws.region,
      endpoint: config.aws.endpoint,
    };
  }
  return {
    docker: needsDocker ? { client: dockerClient(config.docker), endpoint: config.docker.text } : undefined,
    db,
    aws,
    s3: lazyS3(config),
  };
}

export async function closeActivityClients(clients: ActivityClients): Promise<void> {
  await clients.db?.pool.end();
  clients.aws?.batch.destroy();
  clients.aws?.efs.destroy();
  clients.aws?.logs.destroy();
  clients.s3.destroy();
}

export interface WorkerSetup {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly queues: readonly QueueKind[];
  /**
   * Also poll `docker@<node>`, with the same engine client: run this worker on that node. A docker worker polls
   * its engine's node queue anyway (named after the engine) when this is not given.
   */
  readonly node?: string;
  readonly clients: ActivityClients;
  readonly concurrency: Readonly<Record<QueueKind, number>>;
  readonly shutdownGraceSeconds: number;
  readonly cachedWorkflows: number;
  readonly experimentsDir: string;
  readonly secretsDir: string;
  /** SCIOPS_BACKUP_DIR of the db and docker workers, which `sciops doctor` checks they share. */
  readonly backupDir?: string;
  readonly experimentLimits: ExperimentLimits;
  /** What experiments may mount on the docker queue (SCIOPS_EXPERIMENT_*); absent: only their own output directory. */
  readonly experimentPolicy?: ExperimentPolicy;
  /**
   * What stacks may read on the manager's worker and which GitLab it may call (SCIOPS_SECRET_*, SCIOPS_GITLAB_*),
   * and which migration files on the db worker (SCIOPS_MIGRATION_FILE_ROOTS); absent: nothing.
   */
  readonly stackSources?: StackSourcePolicy;
  /** How the `sciops` queue's worker gets its workflow code: a path to bundle, or a prebuilt bundle. */
  readonly workflows: Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'>;
  /** The compiled `common/failure-converter` (the bundle holds its own copy of it). */
  readonly failureConverterPath: string;
  /** Encrypts every payload the workers send and decrypts what they receive (see common/codec-keys.ts). */
  readonly codec?: PayloadCodec;
}

/** What a worker's settings (SCIOPS_*) decide of its set-up: one mapping, for `sciops worker` and the tests' workers. */
export function setupFromConfig(
  config: SciopsConfig,
): Pick<
  WorkerSetup,
  | 'concurrency'
  | 'shutdownGraceSeconds'
  | 'cachedWorkflows'
  | 'experimentsDir'
  | 'secretsDir'
  | 'backupDir'
  | 'experimentLimits'
  | 'experimentPolicy'
  | 'stackSources'
> {
  return {
    concurrency: config.concurrency,
    shutdownGraceSeconds: config.shutdownGraceSeconds,
    cachedWorkflows: config.cachedWorkflows,
    experimentsDir: config.experimentsDir,
    secretsDir: config.secretsDir,
    backupDir: config.backupDir,
    experimentLimits: config.experimentLimits,
    experimentPolicy: config.experimentPolicy,
    stackSources: config.stackSources,
  };
}

function required<T>(value: T | undefined, queue: string): T {
  if (value === undefined) throw new Error(`no client was created for queue ${queue}`);
  return value;
}

/** One Temporal Worker per task queue: `sciops` runs workflows, the others run their system's activities. */
export async function createWorkers(setup: WorkerSetup): Promise<Worker[]> {
  const common = {
    connection: setup.connection,
    namespace: setup.namespace,
    shutdownGraceTime: `${setup.shutdownGraceSeconds}s`,
    dataConverter: { payloadCodecs: setup.codec ? [setup.codec] : [], failureConverterPath: setup.failureConverterPath },
  } as const;
  // An activity learns that it was cancelled (a stop, an expired limit) from the answer to a heartbeat, and
  // the SDK sends those at most every 80% of the heartbeat timeout: 16 s. A stop waits for the run activity
  // to let go before it stops the run, so heartbeats go out every 2 s (HEARTBEAT_INTERVAL_MS) instead.
  const activityWorker = (taskQueue: string, kind: QueueKind, activities: object) =>
    Worker.create({
      ...common,
      taskQueue,
      activities,
      maxConcurrentActivityTaskExecutions: setup.concurrency[kind],
      maxHeartbeatThrottleInterval: '2s',
      defaultHeartbeatThrottleInterval: '2s',
    });

  const dirs = { experiments: setup.experimentsDir, secrets: setup.secretsDir, backup: setup.backupDir };
  const workers: Array<Promise<Worker>> = [];
  /** The docker worker's own node queue, polled last (it is listed after the four kinds). */
  let local: Promise<Worker> | undefined;
  for (const kind of setup.queues) {
    if (kind === 'sciops') {
      workers.push(
        Worker.create({
          ...common,
          ...setup.workflows,
          taskQueue: Queue.workflows,
          // The checks the workflows run as local activities (see activities/input-checks).
          activities: createInputChecks(),
          enableNonLocalActivities: false,
          maxConcurrentWorkflowTaskExecutions: setup.concurrency.sciops,
          maxCachedWorkflows: setup.cachedWorkflows,
        }),
      );
    } else if (kind === 'docker') {
      const { client, endpoint } = required(setup.clients.docker, kind);
      // The manager's worker polls its engine's own queue too (docker@<node>, the node --node names, else the
      // engine's name): workflows pin engine-local work there once a first step on docker has told them which.
      const node = setup.node ?? (await engineNodeName(client));
      // It also talks to GitLab for the stacks' runners (the access token is in its environment).
      const policy = setup.experimentPolicy ?? DEFAULT_EXPERIMENT_POLICY;
      const activities = {
        ...createDockerActivities(client, endpoint, dirs, setup.clients.s3, setup.stackSources, node),
        ...createGitlabRunners(setup.stackSources),
        // The experiment activities again, under the configured policy (the ones above have the default).
        // biome-ignore lint/nursery/noMisusedPromises: an object of activity functions, not a promise
        ...createExperimentContainers(client, dirs.experiments, policy),
        // biome-ignore lint/nursery/noMisusedPromises: an object of activity functions, not a promise
        ...createExperimentServices(client, dirs.experiments, policy),
      };
      workers.push(activityWorker(Queue.docker, kind, activities));
      if (node !== undefined) local = activityWorker(nodeQueue(node), kind, activities);
    } else if (kind === 'db') {
      const { pool, url } = required(setup.clients.db, kind);
      workers.push(
        activityWorker(
          Queue.db,
          kind,
          createDbActivities(pool, url, setup.experimentLimits, setup.clients.s3, setup.backupDir, setup.stackSources),
        ),
      );
    } else {
      const aws = required(setup.clients.aws, kind);
      workers.push(activityWorker(Queue.aws, kind, createAwsActivities(aws, aws, setup.experimentsDir)));
    }
  }
  if (local !== undefined) workers.push(local);
  if (setup.node !== undefined && !setup.queues.includes('docker')) {
    // A node-local worker alone (sciops worker --node): that node's volumes, swarm join and tasks, nothing of the manager's.
    const { client, endpoint } = required(setup.clients.docker, nodeQueue(setup.node));
    workers.push(
      activityWorker(
        nodeQueue(setup.node),
        'docker',
        createDockerActivities(client, endpoint, dirs, setup.clients.s3, undefined, setup.node),
      ),
    );
  }
  return Promise.all(workers);
}

/**
 * Asks each client's system whether it answers, once at start-up, and returns one warning line per system
 * that does not (naming its setting). The worker still starts: the system may come up later, and
 * `sciops doctor` reports it meanwhile.
 */
export async function probeActivityClients(clients: ActivityClients): Promise<string[]> {
  const probes: Array<Promise<string | undefined>> = [];
  if (clients.docker) {
    const { client, endpoint } = clients.docker;
    probes.push(
      client.ping().then(
        () => undefined,
        (err: unknown) => sentence(explainDockerError(err, endpoint)),
      ),
    );
  }
  if (clients.db) {
    const { pool, url } = clients.db;
    probes.push(
      pool.query('select 1').then(
        () => undefined,
        (err: unknown) => sentence(explainPgError(err, url)),
      ),
    );
  }
  return (await Promise.all(probes)).filter((line): line is string => line !== undefined);
}

function sentence({ summary, fix }: { summary: string; fix: string }): string {
  return `${summary}; ${fix}`;
}
