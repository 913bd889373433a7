import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { type DevServer, startDevServer, stopProcess } from '../../clients/dev-server';
import { type ScratchDatabase, scratchDatabase } from '../../test/support/database';
import { loadTestbed } from '../../test/support/testbed';

const ROOT = path.resolve(__dirname, '../../..');

export interface BenchEnvironment {
  readonly client: Client;
  /** The scratch database the workers keep sciops' own tables in (their DATABASE_URL). */
  readonly database: ScratchDatabase;
  /** Starts `sciops worker` (the built entry) against this server and a scratch database, with extra settings. */
  worker(args: string[], extra: NodeJS.ProcessEnv): ChildProcess;
  close(): Promise<void>;
}

/**
 * What each benchmark (and the crash suite) runs against: the testbed's services (`bash scripts/testbed.sh`
 * first), a Temporal dev server of its own on `port`, and a scratch database. The workers' stderr goes to
 * ours, or appended to `workerLog` when given.
 */
export async function benchEnvironment(name: string, port: number, options: { workerLog?: string } = {}): Promise<BenchEnvironment> {
  const bed = loadTestbed();
  const server: DevServer = await startDevServer(bed.temporalCliPath, mkdtempSync(path.join(tmpdir(), `sciops-bench-${name}-`)), port);
  const connection = await Connection.connect({ address: server.address });
  const db = await scratchDatabase(`sciops_bench_${name}`);
  const stderr = options.workerLog === undefined ? 'inherit' : openSync(options.workerLog, 'a');
  const workers: ChildProcess[] = [];
  return {
    client: new Client({ connection, namespace: 'default' }),
    database: db,
    worker(args, extra) {
      const child = spawn(process.execPath, [path.join(ROOT, 'dist/workers/main.js'), ...args], {
        env: { ...process.env, TEMPORAL_ADDRESS: server.address, DATABASE_URL: db.url, SCIOPS_RECOVERY_MINUTES: '0', ...extra },
        stdio: ['ignore', 'ignore', stderr],
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
