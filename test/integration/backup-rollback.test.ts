import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { WorkflowHandle } from '@temporalio/client';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackupReport } from '../../common/backup';
import type { Manifest } from '../../common/backup-manifest';
import { Queue } from '../../common/queues';
import type { RestoreReport } from '../../common/restore';
import { WorkflowType } from '../../common/workflow-types';
import type { ScratchDatabase } from '../support/database';
import { tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { useTestbed } from '../support/harness';
import { createSleepingService, removeService } from '../support/services';

// What a restore does to put things back as they were when it fails (H3).
const suffix = Date.now().toString(36);
const dir = tempDir('backup-rollback');
const destination = { kind: 'local', dir };
const name = `rollback-${suffix}`;
const service = `sciops-rollback-${suffix}`;
const t = useTestbed({
  databases: ['rollback_one', 'rollback_two'],
  before: async (t) => {
    const one = t.database('rollback_one');
    const two = t.database('rollback_two');
    for (const db of [one, two]) {
      db.pool.on('error', () => undefined);
      await db.pool.query(
        "create table samples (id serial primary key, name text); insert into samples (name) select 'sample ' || i from generate_series(1, 300) i",
      );
    }
    const twoName = new URL(two.url).pathname.slice(1);
    await two.pool.query(`alter database ${twoName} set work_mem = '8MB'`);
    await two.pool.query(`alter database ${twoName} set search_path = "$user", public, extra`);
    process.env.SCIOPS_TEST_ROLLBACK_ONE = one.url;
    process.env.SCIOPS_TEST_ROLLBACK_TWO = two.url;
    await createSleepingService(t.docker, service, 1);
  },
  workers: () => [{ queues: ['sciops', 'docker', 'db'] }],
  after: async (t) => {
    await removeService(t.docker, service);
  },
});
const { docker } = t;
const one = () => t.database('rollback_one');
const two = () => t.database('rollback_two');
let first: BackupReport;

const spec = {
  name,
  targets: [
    { kind: 'postgres', name: 'one', urlEnv: 'SCIOPS_TEST_ROLLBACK_ONE' },
    { kind: 'postgres', name: 'two', urlEnv: 'SCIOPS_TEST_ROLLBACK_TWO', mode: 'full' },
  ],
  destination,
  stopServices: [service],
};
const start = (type: string, input: unknown) =>
  t.client.workflow.start(type, { taskQueue: Queue.workflows, workflowId: uniqueId(type), args: [input] });

async function digest(target: ScratchDatabase): Promise<string> {
  const { rows } = await target.pool.query("select md5(coalesce(string_agg(t::text, '|' order by id), '')) as d from samples t");
  return rows[0].d;
}

/** The database's own settings and encoding, as pg_database keeps them. */
async function databaseState(target: ScratchDatabase) {
  const admin = (await import('pg')).Client;
  const c = new admin({ connectionString: t.bed.databaseUrl });
  await c.connect();
  try {
    const { rows } = await c.query(
      `select pg_get_userbyid(d.datdba) as owner, pg_encoding_to_char(d.encoding) as encoding, d.datcollate,
         (select s.setconfig from pg_db_role_setting s where s.setdatabase = d.oid and s.setrole = 0) as settings
       from pg_database d where d.datname = $1`,
      [new URL(target.url).pathname.slice(1)],
    );
    return rows[0];
  } finally {
    await c.end();
  }
}

/** The activities a workflow scheduled, in order. */
async function activities(handle: WorkflowHandle): Promise<Array<{ type: string; input: string }>> {
  const { events } = await handle.fetchHistory();
  return (events ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes)
    .map((e) => {
      const a = e.activityTaskScheduledEventAttributes;
      const payload = a?.input?.payloads?.[0]?.data;
      return { type: a?.activityType?.name ?? '', input: payload ? Buffer.from(payload).toString() : '' };
    });
}

beforeAll(async () => {
  first = (await (await start(WorkflowType.backup, spec)).result()) as BackupReport;
});

describe('a restore', () => {
  it('takes its safety backup with the services stopped, and re-creates a database with its settings', async () => {
    const stateBefore = await databaseState(two());
    expect(stateBefore.settings).toEqual(['work_mem=8MB', 'search_path="$user", public, extra']);
    const expected = await digest(two());
    await two().pool.query("update samples set name = 'changed'");
    const handle = await start(WorkflowType.restore, { destination, backup: name, run: first.run, force: true });
    expect(((await handle.result()) as RestoreReport).restored).toEqual(['one', 'two']);
    // Writes the services make until they stop would be in neither the safety backup nor the restored data.
    const order = (await activities(handle)).map((a) => a.type);
    expect(order.indexOf('pauseService')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('pauseService')).toBeLessThan(order.indexOf('dumpPostgres'));
    expect(await digest(two())).toBe(expected);
    expect(await databaseState(two())).toEqual(stateBefore);
  });

  it('that fails puts the safety backup back only into the targets it touched, and says so', async () => {
    // A run whose first dump checks out but fails half-way; the second target is never reached.
    const run = '20250101T030004Z';
    const folder = path.join(dir, name, run);
    mkdirSync(folder, { recursive: true });
    const bad = gzipSync('COPY public.samples (id, name) FROM stdin;\n1\tfrom the bad dump\n\\.\nselect 1/0;\n');
    const manifest = JSON.parse(readFileSync(path.join(dir, name, first.run, 'manifest.json'), 'utf8')) as Manifest;
    const [oneDump, twoDump] = manifest.dumps as [Manifest['dumps'][0], Manifest['dumps'][0]];
    writeFileSync(path.join(folder, `one-${run}.sql.gz`), bad);
    writeFileSync(path.join(folder, `two-${run}.sql.gz`), readFileSync(path.join(dir, name, first.run, twoDump.file)));
    const dumps = [
      { ...oneDump, file: `one-${run}.sql.gz`, bytes: bad.length, sha256: createHash('sha256').update(bad).digest('hex') },
      { ...twoDump, file: `two-${run}.sql.gz` },
    ];
    writeFileSync(path.join(folder, 'manifest.json'), JSON.stringify({ ...manifest, run, dumps }));
    await one().pool.query("update samples set name = 'marked' where id = 1");
    const [oneBefore, twoBefore, twoState] = [await digest(one()), await digest(two()), await databaseState(two())];
    const handle = await start(WorkflowType.restore, { destination, backup: name, run, force: true });
    const failure = await failureOf(handle.result());
    expect(failure.message).toMatch(
      /^restore failed: psql failed .*division by zero.*\. The safety backup \(.*safety-[^/]+\/\) was put back into one$/,
    );
    const restores = (await activities(handle)).filter((a) => a.type === 'restorePostgres');
    expect(restores.map((a) => JSON.parse(a.input).urlEnv)).toEqual(['SCIOPS_TEST_ROLLBACK_ONE', 'SCIOPS_TEST_ROLLBACK_ONE']);
    expect([await digest(one()), await digest(two()), await databaseState(two())]).toEqual([oneBefore, twoBefore, twoState]);
    expect((await docker.getService(service).inspect()).Spec.Mode.Replicated.Replicas).toBe(1);
  });

  it('that fails in a re-created database puts both targets back, that one with its settings', async () => {
    // The first target restores fine; the second (a full dump) breaks after its database was re-created.
    const run = '20250101T030005Z';
    const folder = path.join(dir, name, run);
    mkdirSync(folder, { recursive: true });
    const bad = gzipSync('CREATE TABLE public.samples (id integer, name text);\nselect 1/0;\n');
    const manifest = JSON.parse(readFileSync(path.join(dir, name, first.run, 'manifest.json'), 'utf8')) as Manifest;
    const [oneDump, twoDump] = manifest.dumps as [Manifest['dumps'][0], Manifest['dumps'][0]];
    writeFileSync(path.join(folder, `one-${run}.sql.gz`), readFileSync(path.join(dir, name, first.run, oneDump.file)));
    writeFileSync(path.join(folder, `two-${run}.sql.gz`), bad);
    const dumps = [
      { ...oneDump, file: `one-${run}.sql.gz` },
      { ...twoDump, file: `two-${run}.sql.gz`, bytes: bad.length, sha256: createHash('sha256').update(bad).digest('hex') },
    ];
    writeFileSync(path.join(folder, 'manifest.json'), JSON.stringify({ ...manifest, run, dumps }));
    await one().pool.query("update samples set name = 'one marked' where id = 2");
    await two().pool.query("update samples set name = 'two marked' where id = 2");
    const [oneBefore, twoBefore, twoState] = [await digest(one()), await digest(two()), await databaseState(two())];
    const failure = await failureOf((await start(WorkflowType.restore, { destination, backup: name, run, force: true })).result());
    expect(failure.message).toMatch(
      /^restore failed: psql failed .*division by zero.*\. The safety backup \(.*\) was put back into one, two$/,
    );
    expect([await digest(one()), await digest(two()), await databaseState(two())]).toEqual([oneBefore, twoBefore, twoState]);
  });
});
