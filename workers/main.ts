/**
 * The worker process: `sciops worker [--queues sciops,docker,db,aws] [--node NAME]`.
 * One Temporal Worker per task queue; SIGINT/SIGTERM stop polling, let in-flight activities finish
 * (up to SCIOPS_SHUTDOWN_GRACE_SECONDS), then exit 0.
 */
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { DefaultLogger, type Logger, NativeConnection, Runtime } from '@temporalio/worker';
import { EXPERIMENT_MIGRATIONS, MIGRATIONS_TABLE } from '../activities/db/experiments-schema';
import { applyMigrations } from '../activities/db/migrate';
import { clientDataConverter, loadPayloadCodec } from '../common/codec-keys';
import { readConfig } from '../common/config';
import { ConfigError, UnreachableError } from '../common/errors';
import { ExitCode } from '../common/exit-codes';
import { NODE_NAME, nodeOfQueue, parseQueueKinds, QUEUE_KINDS, type QueueKind } from '../common/queues';
import { loadTemporalTarget, temporalUnreachable } from '../common/temporal-connection';
import { FAILURE_CONVERTER, WORKFLOW_BUNDLE } from './bundle-workflows';
import { closeActivityClients, createActivityClients, createWorkers, probeActivityClients, setupFromConfig } from './create-workers';
import { formatLogLine } from './log-lines';
import { startRecovery } from './recovery-schedule';
import { searchAttributeWarning } from './search-attribute-check';

/** `--node` alone means a node-local worker (docker@NAME only); otherwise every queue unless `--queues` narrows it. */
function parseCommandLine(argv: string[]): { queues: QueueKind[]; node?: string } {
  let values: { queues?: string; node?: string };
  try {
    ({ values } = parseArgs({ args: argv, options: { queues: { type: 'string' }, node: { type: 'string' } }, strict: true }));
  } catch (err) {
    throw new ConfigError(
      'command line',
      `${(err as Error).message}; usage: sciops worker [--queues ${QUEUE_KINDS.join(',')}] [--node NAME]`,
    );
  }
  if (values.node !== undefined && !NODE_NAME.test(values.node)) {
    throw new ConfigError('--node', `"${values.node}" is not a node name: use the hostname that \`docker node ls\` shows`);
  }
  let queues: QueueKind[];
  try {
    queues = values.queues !== undefined ? parseQueueKinds(values.queues) : values.node !== undefined ? [] : [...QUEUE_KINDS];
  } catch (err) {
    throw new ConfigError('--queues', (err as Error).message);
  }
  return { queues, node: values.node };
}

async function main(): Promise<void> {
  const { queues, node } = parseCommandLine(process.argv.slice(2));
  const config = readConfig(process.env);
  const target = loadTemporalTarget();
  const codec = loadPayloadCodec(process.env);
  const clients = createActivityClients(config, queues, node);

  const log = installRuntime(config.logFormat, config.metricsAddress);
  // Node's own warnings (deprecations, a library's notices) become log lines too, not raw text among them.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => log.warn(warning.message, { warning: warning.name }));
  const letGoOfParent = followParent();
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect(target.connectionOptions);
  } catch (err) {
    throw temporalUnreachable(target, err);
  }
  try {
    const workers = await createWorkers({
      connection,
      namespace: target.namespace,
      queues,
      node,
      clients,
      ...setupFromConfig(config),
      workflows: { workflowBundle: { codePath: WORKFLOW_BUNDLE } },
      failureConverterPath: FAILURE_CONVERTER,
      codec,
    });
    const polled = workers.map((w) => w.options.taskQueue);
    log.info(`polling ${polled.join(', ')} on ${target.address} (namespace ${target.namespace})`, {
      taskQueues: polled,
      ...(config.metricsAddress ? { metrics: `http://${config.metricsAddress}/metrics` } : {}),
      payloadEncryption: codec === undefined ? 'off' : `on (keys ${codec.keyIds.join(', ')})`,
    });
    for (const warning of await probeActivityClients(clients)) log.warn(warning);
    if (queues.includes('docker') && !polled.some((q) => nodeOfQueue(q) !== undefined)) {
      log.warn(
        'the docker worker polls no node queue (its engine did not answer at start): experiments, volumes and runners are not pinned to one engine; restart it once the engine answers, or give --node',
      );
    }
    if (clients.db !== undefined) {
      // The experiments table exists as soon as a db worker runs, for the platform's app to read and write.
      await applyMigrations(clients.db.pool, MIGRATIONS_TABLE, EXPERIMENT_MIGRATIONS).then(
        (applied) => applied.length > 0 && log.info(`applied migrations ${applied.join(', ')}`),
        (err: unknown) => log.warn(`the experiments table could not be migrated: ${String(err)}`),
      );
    }
    const running = Promise.all(workers.map((w) => w.run()));
    if (queues.includes('sciops')) {
      const missing = await searchAttributeWarning(connection, target.namespace).catch(
        (err: unknown) => `cannot list search attributes: ${String(err)}`,
      );
      if (missing !== undefined) log.warn(missing);
      const client = new Client({ connection, namespace: target.namespace, dataConverter: clientDataConverter(codec) });
      await startRecovery(client, config.recoveryMinutes).then(
        (state) => state === 'started' && log.info(`recovering experiments now and every ${config.recoveryMinutes} min`),
        (err: unknown) => log.warn(`the experiment recovery schedule could not be set up: ${String(err)}`),
      );
    }
    await running;
    log.info('stopped');
  } finally {
    await connection.close();
    await closeActivityClients(clients);
    letGoOfParent();
  }
}

/**
 * The SDK runtime with sciops' logger (JSON lines unless on a terminal, with the SDK's workflow and activity
 * ids; secrets masked) and, when SCIOPS_METRICS_ADDRESS is set, a Prometheus endpoint serving the SDK's
 * worker metrics and sciops' own counters (experiments by state, backup bytes and duration, deploy changes).
 */
function installRuntime(format: 'json' | 'text' | 'auto', metricsAddress: string | undefined): Logger {
  const lines = format === 'auto' ? (process.stderr.isTTY ? 'text' : 'json') : format;
  const logger = new DefaultLogger('INFO', (entry) => process.stderr.write(`${formatLogLine(entry, lines)}\n`));
  try {
    Runtime.install({
      logger,
      shutdownSignals: ['SIGINT', 'SIGTERM'],
      telemetryOptions: metricsAddress ? { metrics: { prometheus: { bindAddress: metricsAddress } } } : {},
    });
  } catch (err) {
    throw new ConfigError('SCIOPS_METRICS_ADDRESS', `the metrics endpoint cannot start on ${metricsAddress}: ${(err as Error).message}`);
  }
  return Runtime.instance().logger;
}

/**
 * Started by the sciops CLI (an IPC channel is open): when the CLI goes away, even by SIGKILL, stop as on
 * SIGTERM rather than poll on as an orphan. Returns what closes the channel once stopped, so the process
 * can exit.
 */
function followParent(): () => void {
  if (process.send === undefined) return () => {};
  const onParentGone = () => process.kill(process.pid, 'SIGTERM');
  process.once('disconnect', onParentGone);
  return () => {
    process.off('disconnect', onParentGone);
    if (process.connected) process.disconnect();
  };
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof UnreachableError) {
    console.error(`sciops worker: ${err.message}`);
    process.exit(err instanceof ConfigError ? ExitCode.badInput : ExitCode.failed);
  }
  console.error('sciops worker:', err);
  process.exit(ExitCode.failed);
});
