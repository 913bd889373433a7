import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Client as PgClient } from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackupReport } from '../../common/backup';
import type { Manifest } from '../../common/backup-manifest';
import { approveRestoreSignal } from '../../common/backup-signals';
import { type Progress, progressQuery } from '../../common/progress';
import { Queue } from '../../common/queues';
import type { RestoreReport } from '../../common/restore';
import { WorkflowType } from '../../common/workflow-types';
import type { ScratchDatabase } from '../support/database';
import { eventually, tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { useTestbed } from '../support/harness';

// What a restore may trust in a backup store, and what verification may touch on the database server.
const suffix = Date.now().toString(36);
const dir = tempDir('backup-trust');
const destination = { kind: 'local', dir };
const backupName = `trust-${suffix}`;
const SCHEMA = `create table samples (id serial primary key, name text not null, reads bigint, meta jsonb);
create table runs (id serial primary key, sample_id int not null references samples(id), payload bytea);`;
const t = useTestbed({
  databases: ['trust', 'victim'],
  before: async (t) => {
    const db = t.database('trust');
    const victim = t.database('victim');
    await fill((sql) => db.pool.query(sql));
    await fill((sql) => victim.pool.query(sql));
    process.env.SCIOPS_TEST_TRUST_DB = db.url;
    process.env.SCIOPS_TEST_VICTIM_DB = victim.url;
  },
  workers: () => [{ queues: ['sciops', 'docker', 'db'] }],
});
const db = () => t.database('trust');
const victim = () => t.database('victim');
let good: BackupReport;
let forged = 0;

const spec = (extra: Record<string, unknown> = {}) => ({
  name: backupName,
  targets: [{ kind: 'postgres', name: 'db', urlEnv: 'SCIOPS_TEST_TRUST_DB' }],
  destination,
  ...extra,
});
const run = <T>(type: string, input: unknown) =>
  t.client.workflow.execute(type, { taskQueue: Queue.workflows, workflowId: uniqueId(type), args: [input] }) as Promise<T>;
const restoreInput = (runId: string, extra: Record<string, unknown> = {}) => ({
  destination,
  backup: backupName,
  run: runId,
  force: true,
  ...extra,
});

/** Every table's content as one digest per table. */
async function digests(query: (sql: string) => Promise<{ rows: Array<{ d: string; n: string }> }>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of ['samples', 'runs']) {
    const { rows } = await query(`select md5(coalesce(string_agg(t::text, '|' order by id), '')) as d, count(*) as n from ${table} t`);
    out[table] = `${rows[0]?.n}:${rows[0]?.d}`;
  }
  return out;
}
const tableDigests = (target: ScratchDatabase) => digests((sql) => target.pool.query(sql));

async function fill(query: (sql: string) => Promise<unknown>): Promise<void> {
  await query(SCHEMA);
  await query(
    `insert into samples (name, reads, meta) select 'sample ' || i, i, jsonb_build_object('i', i) from generate_series(1, 500) i`,
  );
  await query(`insert into runs (sample_id, payload) select 1 + i % 500, decode(md5(i::text), 'hex') from generate_series(1, 1500) i`);
}

/**
 * A run written into the store by hand, as whoever can write there could: `files` (name -> bytes) and a
 * manifest made from the good run's by `edit`.
 */
function forge(runId: string, files: Record<string, Buffer>, edit: (m: Manifest) => unknown): void {
  const folder = path.join(dir, backupName, runId);
  mkdirSync(folder, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(folder, name), bytes);
  const manifest = JSON.parse(readFileSync(path.join(dir, backupName, good.run, 'manifest.json'), 'utf8')) as Manifest;
  writeFileSync(path.join(folder, 'manifest.json'), JSON.stringify(edit({ ...manifest, run: runId })));
}
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
/** A gzipped data-only dump of `sql`, and the manifest record that describes it truthfully. */
function dumpOf(sql: string, file: string, tables: Record<string, number>) {
  const bytes = gzipSync(sql);
  return { bytes, record: { ...(good.dumps[0] as BackupReport['dumps'][0]), file, bytes: bytes.length, sha256: sha256(bytes), tables } };
}
const COPY_ONE = 'COPY public.samples (id, name, reads, meta) FROM stdin;\n1\tfrom the store\t1\t{}\n\\.\n';

beforeAll(async () => {
  good = await run<BackupReport>(WorkflowType.backup, spec());
});

describe('verification (C2)', () => {
  it('verifies a database whose name is 63 bytes long and leaves that database as it was', async () => {
    // PostgreSQL cuts names at 63 bytes: `<db>_sciops_verify` was <db> itself, dropped and re-created empty.
    const name = `omics_platform_production_database_for_the_proteomics_x${randomBytes(4).toString('hex')}`;
    expect(Buffer.byteLength(name)).toBe(63);
    const server = new URL(t.bed.databaseUrl);
    const admin = new PgClient({ connectionString: server.toString() });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    const long = new PgClient({ connectionString: url.toString() });
    await long.connect();
    try {
      await fill((sql) => long.query(sql));
      const before = await digests((sql) => long.query(sql));
      process.env.SCIOPS_TEST_LONG_DB = url.toString();
      const report = await run<BackupReport>(WorkflowType.backup, {
        ...spec({ name: `long-${suffix}`, verify: true }),
        targets: [{ kind: 'postgres', name: 'db', urlEnv: 'SCIOPS_TEST_LONG_DB' }],
      });
      expect(report.verified).toBe(true);
      expect(report.dumps[0]?.tables).toEqual({ 'public.runs': 1500, 'public.samples': 500 });
      // The same database, never dropped: this connection, opened before, still works and sees the same rows.
      expect(await digests((sql) => long.query(sql))).toEqual(before);
      const { rows } = await admin.query("select datname from pg_database where datname like 'sciops_verify_%'");
      expect(rows).toEqual([]);
    } finally {
      await long.end().catch(() => undefined);
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});

describe('a restore from a store someone else can write to (H1)', () => {
  it('refuses dump file names that leave the run, having changed nothing', async () => {
    // A well-formed dump elsewhere in the store, and a manifest naming it with ../ and its true checksum.
    const evil = dumpOf(COPY_ONE, 'x', { 'public.samples': 1, 'public.runs': 0 });
    mkdirSync(path.join(dir, 'elsewhere'), { recursive: true });
    writeFileSync(path.join(dir, 'elsewhere', 'evil.sql.gz'), evil.bytes);
    const runId = '20250101T030001Z';
    forge(runId, {}, (m) => ({ ...m, dumps: [{ ...evil.record, file: '../../elsewhere/evil.sql.gz' }] }));
    const before = await tableDigests(db());
    const failure = await failureOf(run(WorkflowType.restore, restoreInput(runId)));
    expect(failure.type).toBe('BackupCorrupt');
    expect(failure.message).toContain('dumps[0].file: a plain file name inside the run (no /)');
    expect(failure.message).toContain('nothing was changed');
    expect(await tableDigests(db())).toEqual(before);
  });

  it('refuses a manifest whose targets differ from the spec, and restores one that matches it', async () => {
    const runId = '20250101T030002Z';
    const file = `db-${runId}.sql.gz`;
    const bytes = readFileSync(path.join(dir, backupName, good.run, good.dumps[0]?.file as string));
    const retarget = (m: Manifest) => ({
      ...m,
      spec: { ...m.spec, targets: [{ kind: 'postgres', name: 'db', urlEnv: 'SCIOPS_TEST_VICTIM_DB', mode: 'full' }] },
      dumps: [{ ...m.dumps[0], file }],
    });
    forge(runId, { [file]: bytes }, retarget);
    const victimBefore = await tableDigests(victim());
    const failure = await failureOf(run(WorkflowType.restore, restoreInput(runId, { spec: spec() })));
    expect(failure.type).toBe('BackupCorrupt');
    expect(failure.message).toContain("the run's manifest does not match the backup spec given: db: the manifest says");
    expect(failure.message).toContain('"urlEnv":"SCIOPS_TEST_VICTIM_DB"');
    expect(await tableDigests(victim())).toEqual(victimBefore);
    // Inside the manifest too: a dump must be of its spec's target's kind.
    forge(runId, { [file]: bytes }, (m) => ({ ...m, dumps: [{ ...m.dumps[0], file, kind: 'volume', files: 1 }] }));
    const inconsistent = await failureOf(run(WorkflowType.restore, restoreInput(runId)));
    expect(inconsistent.message).toContain("dumps[0].kind: volume, but the spec's target db is postgres");

    const expected = await tableDigests(db());
    await db().pool.query("update samples set name = 'changed' where id < 10");
    const restored = await run<RestoreReport>(WorkflowType.restore, restoreInput(good.run, { spec: spec() }));
    expect(restored.restored).toEqual(['db']);
    expect(await tableDigests(db())).toEqual(expected);
  });

  it.each([
    ['a shell command', (pwned: string) => `${COPY_ONE}\\! touch ${pwned}\n`],
    ['a shell command after a statement', (pwned: string) => `${COPY_ONE}select 1; \\! touch ${pwned}\n`],
    ['an early \\unrestrict', (pwned: string) => `\\restrict abc\n${COPY_ONE}\\unrestrict abc\n\\! touch ${pwned}\n`],
    ['\\copy to a program', (pwned: string) => `${COPY_ONE}\\copy (select 1) to program 'touch ${pwned}'\n`],
  ])('never runs psql meta-commands from a dump (%s): the target stays as it was', async (_what, body) => {
    const pwned = path.join(dir, `pwned-${randomBytes(4).toString('hex')}`);
    forged += 1;
    const runId = `20250102T0300${String(forged).padStart(2, '0')}Z`;
    const file = `db-${runId}.sql.gz`;
    const dump = dumpOf(body(pwned), file, { 'public.samples': 1, 'public.runs': 0 });
    forge(runId, { [file]: dump.bytes }, (m) => ({ ...m, dumps: [dump.record] }));
    const before = await tableDigests(db());
    const failure = await failureOf(run(WorkflowType.restore, restoreInput(runId)));
    expect(failure.type).toBe('BackupCorrupt');
    expect(failure.message).toMatch(/not what pg_dump writes: line \d+: psql meta-command \\(!|copy)/);
    expect(existsSync(pwned)).toBe(false);
    expect(await tableDigests(db())).toEqual(before);
  });

  it('restores only the bytes it checked: a dump swapped after its checksum was read changes nothing', async () => {
    const runId = '20250101T030003Z';
    const file = `db-${runId}.sql.gz`;
    forge(runId, {}, (m) => ({ ...m, dumps: [{ ...m.dumps[0], file }] }));
    cpSync(path.join(dir, backupName, good.run, good.dumps[0]?.file as string), path.join(dir, backupName, runId, file));
    const before = await tableDigests(db());
    const handle = await t.client.workflow.start(WorkflowType.restore, {
      taskQueue: Queue.workflows,
      workflowId: uniqueId('restore'),
      args: [restoreInput(runId, { approve: true })],
    });
    // Checked and waiting for approval: now the file changes (a valid dump of other rows).
    await eventually('the restore to wait for approval', 30_000, async () => {
      const progress: Progress = await handle.query(progressQuery);
      return progress.current === 'approval' ? progress : undefined;
    });
    writeFileSync(path.join(dir, backupName, runId, file), gzipSync(COPY_ONE));
    await handle.signal(approveRestoreSignal);
    const failure = await failureOf(handle.result());
    expect(failure.message).toMatch(
      /^restore failed: .*(SHA-256 differs from the manifest|bytes where the manifest says).*nothing of it was applied/,
    );
    expect(await tableDigests(db())).toEqual(before);
    rmSync(path.join(dir, backupName, runId), { recursive: true });
  });
});
