/**
 * bench/backup: a generated database at two sizes, the second 4x the first, in the same run, for each case:
 * - postgres (pgbench's tables, which gzip 55:1): `sciops backup` against `pg_dump --data-only | gzip > file`,
 *   and `sciops restore` against `truncate; gunzip -c | psql`. Goals: ratios <= 1.10, db worker peak RSS
 *   <= 200 MB and flat.
 * - postgres-real (research-platform tables that gzip about 3:1, bench/support/research-tables.ts, where gzip
 *   is the bottleneck): the same two pairs. Goals: backup <= 0.55, restore <= 1.0, the same RSS.
 * - MongoDB (multi-omics shaped documents, bench/support/omics-documents.ts): `sciops backup` against
 *   `mongodump --archive --gzip`, and `sciops restore` against `mongorestore --archive --gzip --drop`
 *   (`--noIndexRestore`: FerretDB refuses the index option `ns` mongorestore sends). Goals: ratios <= 1.0,
 *   db worker peak RSS flat with size.
 * Also the peak RSS (VmHWM) of the worker that streams the dumps (the db queue's, a fresh one per size).
 * Run: npm run bench:backup
 *   BENCH_BACKUP_ONLY=postgres,postgres-real,mongo  the cases to run, comma-separated (default: all three)
 *   BENCH_BACKUP_SCALE                pgbench scale of the first size, default 20 (~300 MB)
 *   BENCH_BACKUP_REAL_MB              MB of table data of the first postgres-real size, default 150
 *   BENCH_BACKUP_MONGO_MB             BSON MB of the first Mongo size, default 10 (FerretDB is slow)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { type BackupReport, runPath } from '../common/backup';
import { libpqEnv } from '../common/pg-url';
import { Queue } from '../common/queues';
import type { RestoreReport } from '../common/restore';
import { WorkflowType } from '../common/workflow-types';
import { type ScratchDatabase, scratchDatabase } from '../test/support/database';
import { loadTestbed } from '../test/support/testbed';
import { type BenchEnvironment, benchEnvironment } from './support/environment';
import { fillOmics } from './support/omics-documents';
import { fillResearch, RESEARCH_TABLES } from './support/research-tables';
import { seconds } from './support/stats';

const run = promisify(execFile);

/** The peak resident set of a process so far (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Math.round(Number(line?.replace(/\D/g, '')) / 1024);
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = Date.now();
  const value = await work();
  return { ms: Date.now() - t0, value };
}

/** `sciops restore --force` of one run of `spec`'s backup. */
function forceRestore(bench: BenchEnvironment, id: string, spec: { name: string; destination: unknown }, run: string) {
  return runWorkflow<RestoreReport>(bench, WorkflowType.restore, id, {
    destination: spec.destination,
    backup: spec.name,
    run,
    force: true,
  });
}

async function runWorkflow<T>(bench: BenchEnvironment, type: string, id: string, input: unknown): Promise<T> {
  return bench.client.workflow.execute(type, {
    taskQueue: Queue.workflows,
    workflowId: id,
    args: [input],
  }) as Promise<T>;
}

/** Where a workflow's time went: seconds per activity type (scheduled to closed, summed), longest first. */
async function activityTimes(bench: BenchEnvironment, workflowId: string): Promise<string> {
  const { events } = await bench.client.workflow.getHandle(workflowId).fetchHistory();
  const ms = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) =>
    Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
  const scheduled = new Map<string, { type: string; at: number }>();
  const spent = new Map<string, number>();
  for (const e of events ?? []) {
    const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (type) scheduled.set(String(e.eventId), { type, at: ms(e) });
    const closed =
      e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? undefined;
    const from = closed ? scheduled.get(String(closed.scheduledEventId)) : undefined;
    if (from) spent.set(from.type, (spent.get(from.type) ?? 0) + ms(e) - from.at);
  }
  return [...spent.entries()]
    .sort((a, b) => b[1] - a[1])
    .filter(([, t]) => t >= 50)
    .map(([type, t]) => `${type} ${seconds(t)}`)
    .join(', ');
}

type Shell = (script: string) => Promise<{ stdout: string }>;

/** A PostgreSQL case: what fills the bench database at each size, the tables it truncates, its goals. */
interface PgCase {
  name: string;
  tables: readonly string[];
  goals: { backup: string; restore: string };
  /** Fills the database for size i (0, then 1 at 4x the size) and says what it holds. */
  fill(i: number, data: ScratchDatabase, sh: Shell): Promise<string>;
}

const pgbench: PgCase = {
  name: 'postgres',
  tables: ['pgbench_accounts', 'pgbench_branches', 'pgbench_tellers', 'pgbench_history'],
  goals: { backup: '<= 1.10', restore: '<= 1.10' },
  async fill(i, _data, sh) {
    const scale = Number(process.env.BENCH_BACKUP_SCALE ?? 20) * 4 ** i;
    await sh(`pgbench -i -q -s ${scale} >/dev/null 2>&1`);
    return `pgbench scale ${scale}`;
  },
};

const researchTables: PgCase = {
  name: 'postgres-real',
  tables: RESEARCH_TABLES,
  goals: { backup: '<= 0.55', restore: '<= 1.0' },
  async fill(i, data) {
    const { mb, samples } = await fillResearch(data.pool, Number(process.env.BENCH_BACKUP_REAL_MB ?? 150) * 4 ** i);
    return `research tables (samples, expression, pipeline_log), ${mb.toFixed(0)} MB of table data, ${samples} samples`;
  },
};

async function benchPostgres(bench: BenchEnvironment, dir: string, pgCase: PgCase): Promise<string[]> {
  // The data lives in a database of its own: the workers' (DATABASE_URL) holds sciops' tables.
  const data = await scratchDatabase('sciops_bench_data');
  const pg = { ...process.env, ...libpqEnv(data.url, 'the bench database URL') };
  const sh: Shell = (script) => run('bash', ['-c', `set -euo pipefail; ${script}`], { env: pg, maxBuffer: 1 << 20 });
  const rows: string[] = [];
  try {
    for (const i of [0, 1]) {
      // A fresh db worker per size, so its peak RSS is this size's.
      const db = bench.worker(['--queues', 'db'], { BENCH_DB_URL: data.url });
      const holds = await pgCase.fill(i, data, sh);
      const size = (await sh(`psql -XAtc "select pg_size_pretty(pg_database_size(current_database()))"`)).stdout.trim();
      const spec = {
        name: `bench-${pgCase.name}${i}`,
        targets: [{ kind: 'postgres', name: 'db', urlEnv: 'BENCH_DB_URL' }],
        destination: { kind: 'local', dir },
      };

      const plainFile = path.join(dir, `plain-${pgCase.name}-${i}.sql.gz`);
      const plainDump = await timed(() => sh(`pg_dump --data-only | gzip > ${plainFile}`));
      const backupId = `bench-backup-${pgCase.name}-${i}-${Date.now()}`;
      const backup = await timed(() => runWorkflow<BackupReport>(bench, WorkflowType.backup, backupId, spec));
      const plainRestore = await timed(() =>
        sh(`psql -Xq -c "truncate ${pgCase.tables.join(', ')}" && gunzip -c ${plainFile} | psql -Xq -v ON_ERROR_STOP=1 >/dev/null`),
      );
      const restoreId = `bench-restore-${pgCase.name}-${i}-${Date.now()}`;
      const restore = await timed(() => forceRestore(bench, restoreId, spec, backup.value.run));
      const rss = peakRssMb(db.pid as number);
      const plainMb = Number((await sh(`gunzip -c ${plainFile} | wc -c`)).stdout) / 1e6;
      const gzMb = statSync(plainFile).size / 1e6;
      const sciopsFile = path.join(dir, runPath(spec.name, backup.value.run), backup.value.dumps[0]?.file ?? '');
      rows.push(
        [
          `${pgCase.name} size ${i + 1}: ${holds}, database ${size}`,
          `  dump ${plainMb.toFixed(0)} MB plain, ${gzMb.toFixed(1)} MB gzipped (gzip ratio ${(plainMb / gzMb).toFixed(1)}:1), ${(statSync(sciopsFile).size / 1e6).toFixed(1)} MB (sciops)`,
          `  pg_dump --data-only | gzip     ${seconds(plainDump.ms)}`,
          `  sciops backup                  ${seconds(backup.ms)}   ratio ${(backup.ms / plainDump.ms).toFixed(2)} (goal ${pgCase.goals.backup})`,
          `    where its time went: ${await activityTimes(bench, backupId)}`,
          `  truncate; gunzip -c | psql     ${seconds(plainRestore.ms)}`,
          `  sciops restore                 ${seconds(restore.ms)}   ratio ${(restore.ms / plainRestore.ms).toFixed(2)} (goal ${pgCase.goals.restore}; includes checksums and a full safety dump)`,
          `    where its time went: ${await activityTimes(bench, restoreId)}`,
          `  db worker peak RSS             ${rss} MB (goal <= 200 MB)`,
        ].join('\n'),
      );
      db.kill('SIGTERM');
      await new Promise((r) => db.once('exit', r));
    }
  } finally {
    await data.drop();
  }
  return rows;
}

async function benchMongo(bench: BenchEnvironment, dir: string): Promise<string[]> {
  const mb = Number(process.env.BENCH_BACKUP_MONGO_MB ?? 10);
  const { mongoUrl, mongoTools } = loadTestbed();
  const database = `sciops_bench_omics_${Date.now().toString(36)}`;
  const mongo = new MongoClient(mongoUrl);
  await mongo.connect();
  const tool = (name: string, args: string[]) =>
    run(path.join(mongoTools, name), [`--uri=${mongoUrl}`, '--quiet', ...args], { maxBuffer: 16 << 20 });
  const rows: string[] = [];
  try {
    let bson = 0;
    for (const [i, size] of [mb, mb * 4].entries()) {
      const db = bench.worker(['--queues', 'db'], { BENCH_MONGO_URL: mongoUrl });
      // The second size adds to the first: the same documents and 3x as many more.
      bson = await fillOmics(mongo.db(database), size * 1e6, bson);
      const documents = await mongo.db(database).collection('experiments').countDocuments();
      const spec = {
        name: `bench-mongo${i}`,
        targets: [{ kind: 'mongo', name: 'omics', urlEnv: 'BENCH_MONGO_URL', database }],
        destination: { kind: 'local', dir },
      };

      const plainFile = path.join(dir, `plain-${i}.archive.gz`);
      const plainDump = await timed(() => tool('mongodump', [`--db=${database}`, `--archive=${plainFile}`, '--gzip']));
      const backup = await timed(() =>
        runWorkflow<BackupReport>(bench, WorkflowType.backup, `bench-mongo-backup-${i}-${Date.now()}`, spec),
      );
      const plainRestore = await timed(() => tool('mongorestore', [`--archive=${plainFile}`, '--gzip', '--drop', '--noIndexRestore']));
      const restoreId = `bench-mongo-restore-${i}-${Date.now()}`;
      const restore = await timed(() => forceRestore(bench, restoreId, spec, backup.value.run));
      const rss = peakRssMb(db.pid as number);
      const sciopsFile = path.join(dir, runPath(spec.name, backup.value.run), backup.value.dumps[0]?.file ?? '');
      rows.push(
        [
          `mongo size ${i + 1}: ${(bson / 1e6).toFixed(0)} MB of BSON, ${documents} experiments; archive ${(statSync(plainFile).size / 1e6).toFixed(1)} MB gzipped (mongodump), ${(statSync(sciopsFile).size / 1e6).toFixed(1)} MB (sciops)`,
          `  mongodump --archive --gzip                     ${seconds(plainDump.ms)}`,
          `  sciops backup                                  ${seconds(backup.ms)}   ratio ${(backup.ms / plainDump.ms).toFixed(2)} (goal <= 1.0)`,
          `  mongorestore --archive --gzip --drop --noIndexRestore  ${seconds(plainRestore.ms)}`,
          `  sciops restore                                 ${seconds(restore.ms)}   ratio ${(restore.ms / plainRestore.ms).toFixed(2)} (goal <= 1.0; includes the format check, a full safety dump and the indexes)`,
          `    where its time went: ${await activityTimes(bench, restoreId)}`,
          `  db worker peak RSS                             ${rss} MB (goal: flat with size)`,
        ].join('\n'),
      );
      db.kill('SIGTERM');
      await new Promise((r) => db.once('exit', r));
    }
  } finally {
    await mongo.db(database).dropDatabase();
    await mongo.close();
  }
  return rows;
}

async function main(): Promise<void> {
  const cases = ['postgres', 'postgres-real', 'mongo'];
  const only = process.env.BENCH_BACKUP_ONLY?.split(',') ?? cases;
  const unknown = only.filter((c) => !cases.includes(c));
  if (unknown.length > 0) throw new Error(`BENCH_BACKUP_ONLY lists cases of ${cases.join(', ')}, not ${unknown.join(', ')}`);
  const bench = await benchEnvironment('backup', 27236);
  const dir = mkdtempSync(path.join(tmpdir(), 'sciops-bench-backup-'));
  try {
    bench.worker(['--queues', 'sciops,docker'], {});
    const rows: string[] = [];
    for (const pgCase of [pgbench, researchTables]) {
      if (only.includes(pgCase.name)) rows.push(...(await benchPostgres(bench, dir, pgCase)));
    }
    if (only.includes('mongo')) rows.push(...(await benchMongo(bench, dir)));
    console.log(`bench/backup\n${rows.join('\n')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await bench.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error('bench/backup failed:', err);
    process.exit(1);
  });
}
