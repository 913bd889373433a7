import { existsSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { inject } from 'vitest';
import { clientDataConverter, loadPayloadCodec } from '../../common/codec-keys';
import { readConfig } from '../../common/config';
import type { QueueKind } from '../../common/queues';
import { closeActivityClients, createActivityClients, createWorkers, setupFromConfig } from '../../workers/create-workers';
import { freePort } from './ports';
import { loadTestbed } from './testbed';

let metricsUrl: Promise<string> | undefined;

/**
 * The SDK runtime of this test file's process, installed once before its first worker: it logs only errors
 * (expected failures such as invalid input would otherwise flood the output) and serves the workers' metrics
 * on a free loopback port, as SCIOPS_METRICS_ADDRESS makes `sciops worker` do.
 */
function installRuntime(): Promise<string> {
  metricsUrl ??= freePort().then((port) => {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${port}` } } },
    });
    return `http://127.0.0.1:${port}/metrics`;
  });
  return metricsUrl;
}

/** The Prometheus text the in-process workers serve (sciops' counters and the SDK's metrics). */
export async function workerMetrics(): Promise<string> {
  if (metricsUrl === undefined) throw new Error('no worker has started in this test file');
  const res = await fetch(await metricsUrl);
  if (!res.ok) throw new Error(`the metrics endpoint answered HTTP ${res.status}`);
  return res.text();
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow code, bundled once per test file (bundling takes seconds). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../../workflows/index.ts'),
    failureConverterPath: path.resolve(__dirname, '../../common/failure-converter.ts'),
    logger: quietLogger,
  });
  return bundle;
}

/** The worker loads the failure converter with Node's require, so it takes the compiled copy. */
export function failureConverterPath(): string {
  const file = path.resolve(__dirname, '../../dist/common/failure-converter.js');
  if (!existsSync(file)) throw new Error(`${file} is missing: build first with \`npm run build\` (npm test does it)`);
  return file;
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
  await installRuntime();
  const env = { ...process.env, ...options.env };
  const config = readConfig(env);
  const clients = createActivityClients(config, options.queues, options.node);
  const connection = await NativeConnection.connect({ address: options.address ?? inject('temporalAddress') });
  const workers = await createWorkers({
    connection,
    namespace: 'default',
    queues: options.queues,
    node: options.node,
    clients,
    ...setupFromConfig(config),
    shutdownGraceSeconds: 5,
    workflows: { workflowBundle: await workflowBundle() },
    failureConverterPath: failureConverterPath(),
    codec: loadPayloadCodec(env),
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

/** A Temporal client on the test server (with the payload codec of `env`'s keys, if any); close it in afterAll. */
export async function testClient(env: Record<string, string> = {}): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const codec = loadPayloadCodec(env);
  return {
    client: new Client({ connection, namespace: 'default', dataConverter: clientDataConverter(codec) }),
    close: () => connection.close(),
  };
}

/** Wipes the AWS emulator's state, so each test file starts from an empty account. */
export async function resetAws(): Promise<void> {
  const res = await fetch(`${loadTestbed().awsEndpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`resetting the AWS emulator failed: HTTP ${res.status}`);
}
