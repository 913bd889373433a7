import type { Client } from '@temporalio/client';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll } from 'vitest';
import { parseDockerHost } from '../../common/config';
import { dockerClient } from '../../workers/create-workers';
import { type ScratchDatabase, scratchDatabase } from './database';
import { loadTestbed, type Testbed } from './testbed';
import { type RunningWorkers, startWorkers, testClient } from './workers';

/** One set of in-process workers, as `sciops worker` would run them. */
export type WorkerOptions = Parameters<typeof startWorkers>[0];

export interface TestbedOptions<D extends string> {
  /** Scratch databases this file owns, by name prefix; created first, dropped once the workers stopped. */
  databases?: readonly D[];
  /** Set-up the workers need (files, environment, seeded rows): runs after the databases, before the workers. */
  before?: (t: Harness<D>) => Promise<void> | void;
  /** The workers to run for the whole file (a function sees the databases and `before`'s work). */
  workers?: (t: Harness<D>) => WorkerOptions[];
  /** Clean-up that must wait for the workers to stop (a server they talk to): runs before the databases are dropped. */
  after?: (t: Harness<D>) => Promise<void> | void;
  /** The client's environment: the payload keys it encrypts with, if any. */
  clientEnv?: Record<string, string>;
}

export interface Harness<D extends string = never> {
  /** The testbed's services (loaded when the file is collected: a missing one fails the file there). */
  readonly bed: Testbed;
  /** The swarm manager's engine. */
  readonly docker: Dockerode;
  /** A Temporal client on the test server. */
  readonly client: Client;
  database(prefix: D): ScratchDatabase;
  /** Starts more workers beside the running ones (stopped with them at the end). */
  addWorkers(...options: WorkerOptions[]): Promise<void>;
  /** Stops every running worker; `restartWorkers` or `addWorkers` start others. */
  stopWorkers(): Promise<void>;
  /** Stops every running worker and starts these instead. */
  restartWorkers(...options: WorkerOptions[]): Promise<void>;
  /** Runs `body` with these workers beside the running ones, and stops them after it whatever happens. */
  withWorkers<T>(options: WorkerOptions[], body: () => Promise<T>): Promise<T>;
}

/**
 * The set-up and teardown of an integration test file, registered as its own beforeAll / afterAll: the
 * databases, then `before`, then the client and the workers; at the end the workers stop, the client closes,
 * `after` runs and the databases are dropped. A file's own afterAll, registered after this, runs first (vitest
 * runs afterAll hooks last-registered first), so a teardown workflow it starts still has its workers.
 */
export function useTestbed<const D extends string = never>(options: TestbedOptions<D> = {}): Harness<D> {
  const bed = loadTestbed();
  const docker = dockerClient(parseDockerHost(bed.dockerHost));
  const databases = new Map<D, ScratchDatabase>();
  let workers: RunningWorkers[] = [];
  let connected: { client: Client; close(): Promise<void> } | undefined;

  const start = async (list: WorkerOptions[]) => {
    const started = await Promise.allSettled(list.map((o) => startWorkers(o)));
    for (const s of started) if (s.status === 'fulfilled') workers.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  };
  const stop = async (list: RunningWorkers[]) => {
    await Promise.all(list.map((w) => w.stop()));
  };

  const t: Harness<D> = {
    bed,
    docker,
    get client() {
      if (connected === undefined) throw new Error('the client is connected in beforeAll: use it in a test or a later hook');
      return connected.client;
    },
    database(prefix) {
      const db = databases.get(prefix);
      if (db === undefined) throw new Error(`no scratch database '${prefix}': name it in useTestbed({ databases })`);
      return db;
    },
    addWorkers: (...list) => start(list),
    async stopWorkers() {
      const running = workers;
      workers = [];
      await stop(running);
    },
    async restartWorkers(...list) {
      await t.stopWorkers();
      await start(list);
    },
    async withWorkers(list, body) {
      const before = workers.length;
      try {
        await start(list);
        return await body();
      } finally {
        await stop(workers.splice(before));
      }
    },
  };

  beforeAll(async () => {
    for (const prefix of options.databases ?? []) databases.set(prefix, await scratchDatabase(prefix));
    await options.before?.(t);
    connected = await testClient(options.clientEnv);
    await start(options.workers?.(t) ?? []);
  });

  // Each part of the teardown runs even when one before it failed (the first failure is the hook's).
  afterAll(async () => {
    const parts = [
      () => t.stopWorkers(),
      () => connected?.close(),
      () => options.after?.(t),
      ...[...databases.values()].map((db) => () => db.drop()),
    ];
    const failures: unknown[] = [];
    for (const part of parts)
      await Promise.resolve()
        .then(part)
        .catch((err: unknown) => failures.push(err));
    if (failures.length > 0) throw failures[0];
  });

  return t;
}
