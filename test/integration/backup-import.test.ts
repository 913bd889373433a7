import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport } from '../../common/backup-import';
import type { Manifest } from '../../common/backup-manifest';
import { Failure, type FailureType } from '../../common/failures';
import { Queue } from '../../common/queues';
import type { RestoreReport } from '../../common/restore';
import { WorkflowType } from '../../common/workflow-types';
import type { ScratchDatabase } from '../support/database';
import { tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { useTestbed } from '../support/harness';

// Files made as the runbook sciops replaces makes them, with the real tools, imported as runs of a backup and
// restored by the normal restore workflow; then compared with what they were taken of.
const exec = promisify(execFile);
const suffix = Date.now().toString(36);
/** The workers' SCIOPS_BACKUP_DIR and the spec's destination: the files to import are put under it. */
const dir = tempDir('import');
const inbox = path.join(dir, 'import');
const destination = { kind: 'local' as const, dir };
const SCHEMA = `create table samples (id serial primary key, name text not null, reads bigint, meta jsonb);
create table runs (id serial primary key, sample_id int not null references samples(id), payload bytea, note text);`;
const t = useTestbed({
  databases: ['import_source', 'import_target'],
  before: async (t) => {
    const source = t.database('import_source');
    const migrated = t.database('import_target');
    mkdirSync(inbox, { recursive: true });
    migrated.pool.on('error', () => undefined);
    await source.pool.query(SCHEMA);
    await migrated.pool.query(SCHEMA);
    await source.pool.query(
      `insert into samples (name, reads, meta) select 'sample ' || i, i * 1000, jsonb_build_object('i', i, 'tag', md5(i::text)) from generate_series(1, 2000) i`,
    );
    // Text with tabs, backslashes and a CR of its own: COPY escapes them, so the dump's line ends are the only CRs.
    await source.pool.query(
      `insert into runs (sample_id, payload, note) select 1 + i % 2000, decode(md5(i::text), 'hex'), E'line\\r\\nnext\\ttab \\\\ ' || i from generate_series(1, 5000) i`,
    );
    process.env.SCIOPS_TEST_IMPORT_DB = migrated.url;
  },
  workers: () => [{ queues: ['sciops', 'docker', 'db'], env: { SCIOPS_BACKUP_DIR: dir } }],
});
const source = () => t.database('import_source');
const migrated = () => t.database('import_target');

const backup = `legacy-${suffix}`;
const spec = {
  name: backup,
  targets: [{ kind: 'postgres', name: 'db', urlEnv: 'SCIOPS_TEST_IMPORT_DB' }],
  destination,
};

const run = <T>(type: string, input: unknown) =>
  t.client.workflow.execute(type, { taskQueue: Queue.workflows, workflowId: uniqueId(type), args: [input] }) as Promise<T>;
const importFile = (file: string, extra: Record<string, unknown> = {}) =>
  run<ImportReport>(WorkflowType.importBackup, { spec, target: 'db', kind: 'postgres', file, ...extra });
/** The run folders of the backup in the store (complete or not). */
const runsInStore = () => (existsSync(path.join(dir, backup)) ? readdirSync(path.join(dir, backup)).sort() : []);

/** Every table's content as one digest per table, in a stable order. */
async function tableDigests(target: ScratchDatabase): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of ['samples', 'runs']) {
    const { rows } = await target.pool.query(
      `select md5(coalesce(string_agg(t::text, '|' order by id), '')) as d, count(*) as n from ${table} t`,
    );
    out[table] = `${rows[0].n}:${rows[0].d}`;
  }
  return out;
}

/** `pg_dump --data-only DB | gzip > FILE`, as the runbook has it; through a terminal (CRLF) with `tty`. */
async function pgDumpGzip(file: string, tty = false): Promise<void> {
  const dump = `pg_dump --data-only '${source().url}'`;
  // `script` runs pg_dump on a pseudo-terminal, as `docker exec -t db pg_dump ...` does: every LF comes out CR LF.
  const command = tty ? `script -q -e -c "${dump}" /dev/null | gzip > '${file}'` : `${dump} | gzip > '${file}'`;
  await exec('bash', ['-o', 'pipefail', '-c', command]);
}

describe('import of a pg_dump --data-only | gzip file', () => {
  let imported: ImportReport;

  it('becomes a complete run of the backup, listed like any other, with where it came from', async () => {
    const file = path.join(inbox, 'multiomix_postgres_backup.sql.gz');
    await pgDumpGzip(file);
    imported = await importFile(file, { takenAt: '2024-03-01T03:00:00Z' });
    expect(imported.location).toBe(`${dir}/${backup}/${imported.run}`);
    expect(imported.repaired).toEqual([]);
    expect(imported.counts).toBe('7000 rows in 2 tables');
    const manifest = JSON.parse(readFileSync(path.join(dir, backup, imported.run, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.imported).toMatchObject({ from: file, takenAt: '2024-03-01T03:00:00Z' });
    expect(manifest.imported?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.dumps).toEqual([
      expect.objectContaining({
        target: 'db',
        kind: 'postgres',
        tables: { 'public.samples': 2000, 'public.runs': 5000 },
        tool: expect.stringMatching(/^imported \(pg_dump 1\d\.\d+.*, format checked by sciops\)$/),
      }),
    ]);
    // Not repaired: the stored file is the original, byte for byte.
    expect(manifest.dumps[0]?.sha256).toBe(manifest.imported?.sha256);
    const listed = await run<Array<{ run: string }>>(WorkflowType.listBackups, spec);
    expect(listed.map((r) => r.run)).toEqual([imported.run]);
    // The import touched no database: the scratch one it counted in is gone, the target still empty.
    expect(await tableDigests(migrated())).toEqual({ samples: expect.stringMatching(/^0:/), runs: expect.stringMatching(/^0:/) });
    const { rows } = await migrated().pool.query("select count(*)::int as n from pg_database where datname like 'sciops_verify_%'");
    expect(rows[0].n).toBe(0);
  });

  it('is restored by the restore workflow into the migrated schema, equal to the source table by table', async () => {
    const report = await run<RestoreReport>(WorkflowType.restore, { destination, backup, run: imported.run });
    expect(report.restored).toEqual(['db']);
    expect(await tableDigests(migrated())).toEqual(await tableDigests(source()));
  });

  it('a dump with CRLF line ends (taken through a terminal, as docker exec -t does) is repaired on the way in, and restores equal', async () => {
    const file = path.join(inbox, 'tty.sql.gz');
    await pgDumpGzip(file, true);
    const raw = gunzipSync(readFileSync(file)).toString('latin1');
    expect(
      raw
        .split('\n')
        .slice(0, -1)
        .every((line) => line.endsWith('\r')),
    ).toBe(true);
    const report = await importFile(file);
    expect(report.repaired).toEqual(['CRLF line ends made LF']);
    const manifest = JSON.parse(readFileSync(path.join(dir, backup, report.run, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.imported?.repaired).toEqual(['CRLF line ends made LF']);
    const stored = gunzipSync(readFileSync(path.join(dir, backup, report.run, manifest.dumps[0]?.file as string))).toString('latin1');
    expect(stored).toBe(raw.replace(/\r\n/g, '\n'));
    expect(manifest.dumps[0]?.sha256).not.toBe(manifest.imported?.sha256);

    await migrated().pool.query('truncate samples, runs cascade');
    await run<RestoreReport>(WorkflowType.restore, { destination, backup, run: report.run });
    expect(await tableDigests(migrated())).toEqual(await tableDigests(source()));
    // The CR inside the data came back as it was: only the line ends were repaired.
    const { rows } = await migrated().pool.query('select note from runs where id = 1');
    expect(rows[0].note).toBe('line\r\nnext\ttab \\ 1');
  });
});

describe('import of a file in S3', () => {
  it("reads s3://BUCKET/KEY with the worker's own client, and restores equal", async () => {
    const s3 = new S3Client({ region: t.bed.awsRegion, endpoint: t.bed.awsEndpoint, forcePathStyle: true });
    const bucket = `old-backups-${suffix}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const body = readFileSync(path.join(inbox, 'multiomix_postgres_backup.sql.gz'));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: '2024/multiomix_postgres_backup.sql.gz', Body: body }));
    const report = await importFile(`s3://${bucket}/2024/multiomix_postgres_backup.sql.gz`);
    expect(report.counts).toBe('7000 rows in 2 tables');
    await migrated().pool.query('truncate samples, runs cascade');
    await run<RestoreReport>(WorkflowType.restore, { destination, backup, run: report.run });
    expect(await tableDigests(migrated())).toEqual(await tableDigests(source()));
    const missing = await failureOf(
      run(WorkflowType.importBackup, { spec, target: 'db', kind: 'postgres', file: `s3://${bucket}/2024/none.sql.gz` }),
    );
    expect(missing.message).toMatch(/none\.sql\.gz: cannot be read \(NoSuchKey/);
    s3.destroy();
  });
});

describe('a file that is not what it is said to be is refused, with nothing written', () => {
  let before: string[];
  beforeAll(() => {
    before = runsInStore();
  });
  const refused = async (input: Record<string, unknown>, type: FailureType, message: string | RegExp) => {
    const failure = await failureOf(run(WorkflowType.importBackup, { spec, target: 'db', kind: 'postgres', ...input }));
    expect(failure.type).toBe(type);
    expect(failure.message).toMatch(message);
    expect(runsInStore()).toEqual(before);
  };

  it('a text file', async () => {
    const file = path.join(inbox, 'notes.txt');
    writeFileSync(file, 'these are not the backups you are looking for\n');
    await refused({ file }, Failure.backupCorrupt, /notes\.txt: not a plain SQL dump of pg_dump: .*; nothing was imported/);
  });

  it('a truncated gzip', async () => {
    const whole = readFileSync(path.join(inbox, 'multiomix_postgres_backup.sql.gz'));
    const file = path.join(inbox, 'truncated.sql.gz');
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 2)));
    await refused({ file }, Failure.backupCorrupt, /truncated\.sql\.gz: the gzip stream is truncated or corrupt/);
  });

  it('a dump cut short before its last line (a whole gzip of half a dump)', async () => {
    const text = gunzipSync(readFileSync(path.join(inbox, 'multiomix_postgres_backup.sql.gz'))).toString();
    const file = path.join(inbox, 'half.sql.gz');
    writeFileSync(file, gzipSync(text.slice(0, text.indexOf('COPY public.samples'))));
    await refused({ file }, Failure.backupCorrupt, /half\.sql\.gz: it ends before pg_dump's last line/);
  });

  it('a dump with the schema for a data-only target', async () => {
    const file = path.join(inbox, 'full.sql.gz');
    await exec('bash', ['-o', 'pipefail', '-c', `pg_dump '${source().url}' | gzip > '${file}'`]);
    await refused({ file }, Failure.backupCorrupt, /it holds the schema \(CREATE at line \d+\), but the target is data-only/);
  });

  it('a mongodump archive or a tar said to be a SQL dump', async () => {
    const file = path.join(inbox, 'media.tar.gz');
    await exec('bash', ['-c', `tar -C '${inbox}' -czf '${file}' notes.txt`]);
    await refused({ file }, Failure.backupCorrupt, /not a plain SQL dump of pg_dump/);
  });

  it("a kind that is not the target's, and a target the spec does not have (refused as input)", async () => {
    const file = path.join(inbox, 'multiomix_postgres_backup.sql.gz');
    await refused({ file, kind: 'volume' }, Failure.invalidInput, /kind: volume, but target db of backup legacy-\w+ is postgres/);
    await refused({ file, target: 'media' }, Failure.invalidInput, /target: "media" is not a target of backup legacy-\w+ \(it has db\)/);
  });

  it('a file outside SCIOPS_BACKUP_DIR (symlinks resolved), or a relative path', async () => {
    await refused({ file: '/etc/passwd' }, Failure.backupCorrupt, /\/etc\/passwd: not under this worker's SCIOPS_BACKUP_DIR/);
    const link = path.join(inbox, 'shadow.sql.gz');
    await exec('ln', ['-sf', '/etc/shadow', link]);
    await refused({ file: link }, Failure.backupCorrupt, /not under this worker's SCIOPS_BACKUP_DIR/);
    await refused({ file: 'import/x.sql.gz' }, Failure.invalidInput, /file: an absolute path/);
  });
});
