import type { ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadPayloadCodec } from '../../common/codec-keys';
import { readConfig } from '../../common/config';
import { logTail, startDevServer, stopProcess } from '../dev-server';
import { renderDoctorTable } from '../doctor-table';
import { findTemporalCli } from '../temporal-cli-path';
import { spawnWorker } from '../worker-process';
import { startCodecServer, stopCodecServer } from './codec';
import { runDoctor } from './doctor';

export interface DevOptions {
  readonly demo: boolean;
  /** One JSON object per line (ready, doctor, stopped) instead of text. */
  readonly json?: boolean;
}

function exited(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`)));
}

/**
 * The main job for a newcomer: a Temporal dev server with its Web UI (state under SCIOPS_STATE_DIR/dev),
 * every worker, and a first doctor run. Runs until Ctrl-C, then stops the workers, then the server.
 */
export async function runDev(options: DevOptions): Promise<void> {
  const config = readConfig(process.env);
  const temporalCli = findTemporalCli(process.env, config.temporalCliPath);
  const dir = path.resolve(config.stateDir, 'dev');
  mkdirSync(dir, { recursive: true });

  const say = (text: string) => options.json || process.stdout.write(`${text}\n`);
  const event = (value: Record<string, unknown>) => options.json && process.stdout.write(`${JSON.stringify(value)}\n`);
  // With payload keys configured the UI shows decoded payloads through a codec server on the next port. It
  // answers loopback names and the UI's origins only, without a token: the dev UI has no login to pass one.
  const uiPort = config.devPort + 1000;
  const keys = loadPayloadCodec(process.env);
  const codec = keys
    ? await startCodecServer(keys, {
        listen: `127.0.0.1:${uiPort + 1}`,
        uiOrigin: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
        tokens: [],
      })
    : undefined;
  say(`Starting the Temporal dev server (${temporalCli})...`);
  const server = await startDevServer(temporalCli, dir, config.devPort, codec?.url).catch(async (err: unknown) => {
    if (codec !== undefined) await stopCodecServer(codec.server);
    throw err;
  });
  // The workers and the demo below reach this server; so does every `sciops` run with this address.
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.TEMPORAL_NAMESPACE = 'default';

  const queues = config.databaseUrl !== undefined ? 'sciops,docker,db,aws' : 'sciops,docker,aws';
  const workerLog = path.join(dir, 'worker.log');
  const log = openSync(workerLog, 'a');
  const worker = spawnWorker(['--queues', queues], ['ignore', log, log]);

  say('');
  say(`  Temporal Web UI   ${server.uiUrl}`);
  say(`  Temporal server   ${server.address} (namespace default)`);
  say(`  workers           ${queues} (log: ${workerLog})`);
  say(`  server log        ${server.logFile}`);
  if (codec !== undefined) say(`  codec server      ${codec.url} (payloads are encrypted; the Web UI decodes through it)`);
  if (config.databaseUrl === undefined)
    say('  note              DATABASE_URL is not set: no db worker (set it and restart for backups and experiments)');
  say('');
  event({
    event: 'ready',
    ui: server.uiUrl,
    address: server.address,
    namespace: 'default',
    queues: queues.split(','),
    codecServer: codec?.url,
    workerLog,
    serverLog: server.logFile,
  });
  say('In another terminal:');
  say(`  export TEMPORAL_ADDRESS=${server.address}`);
  say('  npx sciops doctor            # check docker, db and aws through the workers');
  say('  npx sciops --help            # every command');
  say('');

  // The session ends on Ctrl-C or SIGTERM (no reason), or when a child dies (the reason, with its log).
  const interrupted = new Promise<undefined>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(undefined));
  });
  const crashed = Promise.race([
    exited(worker).then((how) => `the workers stopped (${how}); their log ends with:\n${logTail(workerLog)}`),
    exited(server.process).then((how) => `the Temporal dev server stopped (${how}); its log ends with:\n${logTail(server.logFile)}`),
  ]);
  const ended = Promise.race([interrupted, crashed]);

  let reason: string | undefined;
  try {
    if (options.demo) {
      say('Demo: running the doctor workflow (watch it in the Web UI)...');
      const doctor = runDoctor({ node: [], wait: '30' });
      doctor.catch(() => undefined); // observed below, unless the session ends first
      const report = await Promise.race([doctor, ended.then(() => undefined)]);
      if (report !== undefined) say(`${renderDoctorTable(report)}\n`);
      if (report !== undefined) event({ event: 'doctor', report });
    }
    say('Running. Press Ctrl-C to stop.');
    reason = await ended;
  } finally {
    // Workers first, so in-flight activities finish against a live server.
    say('Stopping the workers...');
    await stopProcess(worker, config.shutdownGraceSeconds + 5);
    say('Stopping the Temporal dev server...');
    await stopProcess(server.process, 15);
    if (codec !== undefined) await stopCodecServer(codec.server);
  }
  if (reason !== undefined) throw new Error(reason);
  say('Stopped.');
  event({ event: 'stopped' });
}

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('start a local Temporal dev server with its Web UI, all workers, and a demo doctor run; Ctrl-C stops all')
    .option('--no-demo', 'skip the demo doctor run')
    .addHelpText('after', '\nExamples:\n  sciops dev\n  SCIOPS_DEV_PORT=7300 sciops dev --no-demo')
    .action((options: DevOptions, command: Command) => runDev({ ...options, json: Boolean(command.optsWithGlobals().json) }));
}
