/**
 * bench/backup: a generated database (pgbench's tables) at two sizes, the second 4x the first, in the same
 * run: `sciops backup` against `pg_dump --data-only | gzip > file`, and `sciops restore` against `gunzip -c |
 * psql`, plus the peak RSS of the worker that streams the dumps (the db queue's) at each size.
 * Goals: backup ratio <= 1.10, restore ratio <= 1.10, worker peak RSS <= 200 MB and not growing with size.
 * Run: npm run bench:backup  (BENCH_BACKUP_SCALE: pgbench scale of the first size, default 20, ~300 MB)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BackupReport, RestoreReport } from '../common/backup';
import { libpqEnv } from '../common/pg-url';
import { Queue } from '../common/queues';
import { WorkflowType } from '../common/workflow-types';
import { scratchDatabase } from '../test/support/database';
import { benchEnvironment } from './support/environment';
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

async function main(): Promise<void> {
  const scale = Number(process.env.BENCH_BACKUP_SCALE ?? 20);
  const bench = await benchEnvironment('backup', 27236);
  // The data lives in a database of its own: the workers' (DATABASE_URL) holds sciops' tables.
  const data = await scratchDatabase('sciops_bench_data');
  const dir = mkdtempSync(path.join(tmpdir(), 'sciops-bench-backup-'));
  const pg = { ...process.env, ...libpqEnv(data.url, 'the bench database URL') };
  const sh = (script: string) => run('bash', ['-c', `set -euo pipefail; ${script}`], { env: pg, maxBuffer: 1 << 20 });
  try {
    bench.worker(['--queues', 'sciops,docker'], {});
    const rows: string[] = [];
    for (const [i, s] of [scale, scale * 4].entries()) {
      // A fresh db worker per size, so its peak RSS is this size's.
      const db = bench.worker(['--queues', 'db'], { BENCH_DB_URL: data.url });
      await sh(`pgbench -i -q -s ${s} >/dev/null 2>&1`);
      const size = (await sh(`psql -XAtc "select pg_size_pretty(pg_database_size(current_database()))"`)).stdout.trim();
      const spec = {
        name: `bench${i}`,
        targets: [{ kind: 'postgres', name: 'db', urlEnv: 'BENCH_DB_URL' }],
        destination: { kind: 'local', dir },
      };

      const plainFile = path.join(dir, `plain-${i}.sql.gz`);
      const plainDump = await timed(() => sh(`pg_dump --data-only | gzip > ${plainFile}`));
      const backup = await timed(
        () =>
          bench.client.workflow.execute(WorkflowType.backup, {
            taskQueue: Queue.workflows,
            workflowId: `bench-backup-${i}-${Date.now()}`,
            args: [spec],
          }) as Promise<BackupReport>,
      );
      const tables = 'pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history';
      const plainRestore = await timed(() =>
        sh(`psql -Xq -c "truncate ${tables}" && gunzip -c ${plainFile} | psql -Xq -v ON_ERROR_STOP=1 >/dev/null`),
      );
      const restore = await timed(
        () =>
          bench.client.workflow.execute(WorkflowType.restore, {
            taskQueue: Queue.workflows,
            workflowId: `bench-restore-${i}-${Date.now()}`,
            args: [{ destination: spec.destination, backup: spec.name, run: backup.value.run, force: true }],
          }) as Promise<RestoreReport>,
      );
      const rss = peakRssMb(db.pid as number);
      rows.push(
        [
          `size ${i + 1}: pgbench scale ${s}, database ${size}, dump ${(statSync(plainFile).size / 1e6).toFixed(0)} MB gzipped`,
          `  pg_dump --data-only | gzip     ${seconds(plainDump.ms)}`,
          `  sciops backup                  ${seconds(backup.ms)}   ratio ${(backup.ms / plainDump.ms).toFixed(2)} (goal <= 1.10)`,
          `  truncate; gunzip -c | psql     ${seconds(plainRestore.ms)}`,
          `  sciops restore                 ${seconds(restore.ms)}   ratio ${(restore.ms / plainRestore.ms).toFixed(2)} (goal <= 1.10; includes checksums and a full safety dump)`,
          `  db worker peak RSS             ${rss} MB (goal <= 200 MB)`,
        ].join('\n'),
      );
      db.kill('SIGTERM');
      await new Promise((r) => db.once('exit', r));
    }
    console.log(`bench/backup\n${rows.join('\n')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await bench.close();
    await data.drop();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error('bench/backup failed:', err);
    process.exit(1);
  });
}
