import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { type DevServer, portAnswers, startDevServer, stopProcess } from '../../clients/dev-server';
import type { ExperimentResult } from '../../common/experiment';
import { containerRunning, containersCreated, startExperiment, tempDir, uniqueId } from '../support/experiments';
import { useTestbed } from '../support/harness';

// A server of this file's own, on disk, so that it can be stopped and started again mid-run.
const dir = mkdtempSync(path.join(tmpdir(), 'sciops-restart-'));
const outputs = tempDir('restart-out');
let port: number;
let server: DevServer;

async function freePort(): Promise<number> {
  for (;;) {
    const candidate = 20000 + Math.floor(Math.random() * 20000);
    if (!(await portAnswers(candidate)) && !(await portAnswers(candidate + 1000))) return candidate;
  }
}

const t = useTestbed({
  databases: ['sciops_restart'],
  before: async (t) => {
    port = await freePort();
    server = await startDevServer(t.bed.temporalCliPath, dir, port);
  },
  workers: (t) => [
    {
      queues: ['sciops', 'docker', 'db'],
      address: server.address,
      env: { DATABASE_URL: t.database('sciops_restart').url, SCIOPS_EXPERIMENTS_DIR: outputs },
    },
  ],
  // The workers poll this server: it stops once they have.
  after: async () => {
    if (server !== undefined) await stopProcess(server.process, 10);
  },
});
const { docker } = t;

describe('the Temporal server restarted mid-run', () => {
  it('the experiment completes once the server is back: same container, state recorded', async () => {
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const spec = { id: uniqueId('restart'), type: 'inference', image: 'local/busybox:1', command: ['sh', '-c', 'echo a; sleep 8; echo b'] };
    const since = Date.now();
    const handle = await startExperiment(client, spec);
    await containerRunning(docker, spec.id);
    await stopProcess(server.process, 10);
    await new Promise((r) => setTimeout(r, 2000));
    server = await startDevServer(t.bed.temporalCliPath, dir, port);

    const result = (await handle.result()) as ExperimentResult;
    expect(result).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(readFileSync(path.join(outputs, spec.id, 'stdout.txt'), 'utf8')).toBe('a\nb\n');
    expect(await containersCreated(docker, spec.id, since)).toBe(1);
    const { rows } = await t.database('sciops_restart').pool.query('select state from experiments where id = $1', [spec.id]);
    expect(rows[0].state).toBe('COMPLETED');
    await connection.close();
  });
});
