import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { type DevServer, startDevServer, stopProcess } from '../../clients/dev-server';
import { scratchDatabase } from '../../test/support/database';
import { loadTestbed } from '../../test/support/testbed';

const ROOT = path.resolve(__dirname, '../../..');

export interface BenchEnvironment {
  readonly client: Client;
  /** Starts `sciops worker` (the built entry) against this server and a scratch database, with extra settings. */
  worker(args: string[], extra: NodeJS.ProcessEnv): ChildProcess;
  close(): Promise<void>;
}

/**
 * What each benchmark runs against: the testbed's services (`bash scripts/testbed.sh` first), a Temporal
 * dev server of its own on `port`, and a scratch database.
 */
export async function benchEnvironment(name: string, port: number): Promise<BenchEnvironment> {
  const bed = loadTestbed();
  const server: DevServer = await startDevServer(bed.temporalCliPath, mkdtempSync(path.join(tmpdir(), `sciops-bench-${name}-`)), port);
  const connection = await Connection.connect({ address: server.address });
  const db = await scratchDatabase(`sciops_bench_${name}`);
  const workers: ChildProcess[] = [];
  return {
    client: new Client({ connection, namespace: 'default' }),
    worker(args, extra) {
      const child = spawn(process.execPath, [path.join(ROOT, 'dist/workers/main.js'), ...args], {
        env: { ...process.env, TEMPORAL_ADDRESS: server.address, DATABASE_URL: db.url, SCIOPS_RECOVERY_MINUTES: '0', ...extra },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      workers.push(child);
      return child;
    },
    async close() {
      await Promise.all(workers.map((w) => stopProcess(w, 30)));
      await connection.close();
      await stopProcess(server.process, 10);
      await db.drop();
    },
  };
}
