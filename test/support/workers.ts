import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { inject } from 'vitest';
import { readConfig } from '../../common/config';
import type { QueueKind } from '../../common/queues';
import { closeActivityClients, createActivityClients, createWorkers } from '../../workers/create-workers';
import { loadTestbed } from './testbed';

// Workers in tests log only errors; expected failures (invalid input) would otherwise flood the output.
Runtime.install({ logger: new DefaultLogger('ERROR') });

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow code, bundled once per test file (bundling takes seconds). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, '../../workflows/index.ts'), logger: quietLogger });
  return bundle;
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} };

export interface RunningWorkers {
  stop(): Promise<void>;
}

/**
 * Starts in-process workers for `queues` (and docker@<node>) against the test server, built by the same
 * code as `sciops worker`, with clients from the testbed's environment plus `env` overrides.
 */
export async function startWorkers(options: {
  queues: QueueKind[];
  node?: string;
  env?: Record<string, string>;
  /** Another Temporal server than the test harness's. */
  address?: string;
}): Promise<RunningWorkers> {
  loadTestbed();
  const config = readConfig({ ...process.env, ...options.env });
  const clients = createActivityClients(config, options.queues, options.node);
  const connection = await NativeConnection.connect({ address: options.address ?? inject('temporalAddress') });
  const workers = await createWorkers({
    connection,
    namespace: 'default',
    queues: options.queues,
    node: options.node,
    clients,
    concurrency: config.concurrency,
    shutdownGraceSeconds: 5,
    cachedWorkflows: config.cachedWorkflows,
    experimentsDir: config.experimentsDir,
    secretsDir: config.secretsDir,
    experimentLimits: config.experimentLimits,
    workflows: { workflowBundle: await workflowBundle() },
  });
  const running = Promise.all(workers.map((w) => w.run()));
  return {
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
      await connection.close();
      await closeActivityClients(clients);
    },
  };
}

/** A Temporal client on the test server; close it in afterAll. */
export async function testClient(): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  return { client: new Client({ connection, namespace: 'default' }), close: () => connection.close() };
}

/** Wipes the AWS emulator's state, so each test file starts from an empty account. */
export async function resetAws(): Promise<void> {
  const res = await fetch(`${loadTestbed().awsEndpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`resetting the AWS emulator failed: HTTP ${res.status}`);
}
