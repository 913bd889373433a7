import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevServer, portAnswers, startDevServer, stopProcess } from '../../clients/dev-server';
import { parseDockerHost } from '../../common/config';
import type { ExperimentResult } from '../../common/experiment';
import { dockerClient } from '../../workers/create-workers';
import { type ScratchDatabase, scratchDatabase } from '../support/database';
import { containerRunning, containersCreated, startExperiment, tempDir, uniqueId } from '../support/experiments';
import { loadTestbed } from '../support/testbed';
import { type RunningWorkers, startWorkers } from '../support/workers';

// A server of this file's own, on disk, so that it can be stopped and started again mid-run.
const dir = mkdtempSync(path.join(tmpdir(), 'sciops-restart-'));
const outputs = tempDir('restart-out');
let port: number;
let server: DevServer;
let db: ScratchDatabase;
let workers: RunningWorkers;

async function freePort(): Promise<number> {
  for (;;) {
    const candidate = 20000 + Math.floor(Math.random() * 20000);
    if (!(await portAnswers(candidate)) && !(await portAnswers(candidate + 1000))) return candidate;
  }
}

beforeAll(async () => {
  port = await freePort();
  server = await startDevServer(loadTestbed().temporalCliPath, dir, port);
  db = await scratchDatabase('sciops_restart');
  workers = await startWorkers({
    queues: ['sciops', 'docker', 'db'],
    address: server.address,
    env: { DATABASE_URL: db.url, SCIOPS_EXPERIMENTS_DIR: outputs },
  });
});

afterAll(async () => {
  await workers?.stop();
  if (server !== undefined) await stopProcess(server.process, 10);
  await db?.drop();
});

describe('the Temporal server restarted mid-run', () => {
  it('the experiment completes once the server is back: same container, state recorded', async () => {
    const docker = dockerClient(parseDockerHost(loadTestbed().dockerHost));
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const spec = { id: uniqueId('restart'), type: 'inference', image: 'local/busybox:1', command: ['sh', '-c', 'echo a; sleep 8; echo b'] };
    const since = Date.now();
    const handle = await startExperiment(client, spec);
    await containerRunning(docker, spec.id);
    await stopProcess(server.process, 10);
    await new Promise((r) => setTimeout(r, 2000));
    server = await startDevServer(loadTestbed().temporalCliPath, dir, port);

    const result = (await handle.result()) as ExperimentResult;
    expect(result).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(readFileSync(path.join(outputs, spec.id, 'stdout.txt'), 'utf8')).toBe('a\nb\n');
    expect(await containersCreated(docker, spec.id, since)).toBe(1);
    const { rows } = await db.pool.query('select state from experiments where id = $1', [spec.id]);
    expect(rows[0].state).toBe('COMPLETED');
    await connection.close();
  });
});
