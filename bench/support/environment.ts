import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { type DevServer, startDevServer, stopProcess } from '../../clients/dev-server';

const ROOT = path.resolve(__dirname, '../../..');

/** The testbed's settings (.sciops/testbed.env, written by scripts/testbed.sh) merged under process.env. */
export function testbedEnv(): NodeJS.ProcessEnv {
  const file = path.join(ROOT, '.sciops', 'testbed.env');
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`bash scripts/testbed.sh\` first`);
  const env: NodeJS.ProcessEnv = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return { ...env, ...process.env };
}

export interface BenchEnvironment {
  readonly env: NodeJS.ProcessEnv;
  readonly client: Client;
  readonly databaseUrl: string;
  /** Starts `sciops worker` (the built entry) against this server, with extra settings. */
  worker(args: string[], extra: NodeJS.ProcessEnv): ChildProcess;
  close(): Promise<void>;
}

/** A Temporal dev server of its own, a scratch database, and a client: what each benchmark runs against. */
export async function benchEnvironment(name: string, port: number): Promise<BenchEnvironment> {
  const env = testbedEnv();
  const cli = env.TEMPORAL_CLI_PATH as string;
  const server: DevServer = await startDevServer(cli, mkdtempSync(path.join(tmpdir(), `sciops-bench-${name}-`)), port);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: 'default' });
  const base = new URL(env.DATABASE_URL as string);
  const database = `sciops_bench_${name}_${Date.now().toString(36)}`;
  const admin = new PgClient({ connectionString: base.toString() });
  await admin.connect();
  await admin.query(`create database ${database}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${database}`;
  const workers: ChildProcess[] = [];
  return {
    env,
    client,
    databaseUrl: url.toString(),
    worker(args, extra) {
      const child = spawn(process.execPath, [path.join(ROOT, 'dist/workers/main.js'), ...args], {
        env: { ...env, TEMPORAL_ADDRESS: server.address, DATABASE_URL: url.toString(), SCIOPS_RECOVERY_MINUTES: '0', ...extra },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      workers.push(child);
      return child;
    },
    async close() {
      await Promise.all(workers.map((w) => stopProcess(w, 30)));
      await connection.close();
      await stopProcess(server.process, 10);
      const again = new PgClient({ connectionString: base.toString() });
      await again.connect();
      await again.query(`drop database if exists ${database} with (force)`);
      await again.end();
    },
  };
}
