import type { Client } from '@temporalio/client';
import { BSON, type Db, Long, MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupReport, RestoreReport } from '../../common/backup';
import { Failure } from '../../common/failures';
import { Queue } from '../../common/queues';
import { WorkflowType } from '../../common/workflow-types';
import { tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { loadTestbed } from '../support/testbed';
import { type RunningWorkers, startWorkers, testClient } from '../support/workers';

// The MongoDB-wire server of the testbed is FerretDB (scripts/ferretdb.sh).
const suffix = Date.now().toString(36);
const database = `omics_${suffix}`;
const copy = `omics_copy_${suffix}`;
const destination = { kind: 'local', dir: tempDir('mongo-backups') };
let client: Client;
let closeClient: () => Promise<void>;
let workers: RunningWorkers[] = [];
let mongo: MongoClient;

const spec = {
  name: `mongo-${suffix}`,
  targets: [{ kind: 'mongo', name: 'meta', urlEnv: 'SCIOPS_TEST_MONGO_URL', database }],
  destination,
  verify: true,
};
const run = <T>(type: string, input: unknown) =>
  client.workflow.execute(type, { taskQueue: Queue.workflows, workflowId: uniqueId(type), args: [input] }) as Promise<T>;

/** Every document of every collection, in canonical Extended JSON (types included), sorted. */
async function contents(db: Db): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
    const docs = await db.collection(name).find({}).toArray();
    out[name] = docs.map((d) => BSON.EJSON.stringify(d, { relaxed: false })).sort();
  }
  return out;
}

beforeAll(async () => {
  const bed = loadTestbed();
  mongo = new MongoClient(bed.mongoUrl);
  await mongo.connect();
  const db = mongo.db(database);
  await db.collection('samples').insertMany(
    Array.from({ length: 2500 }, (_, i) => ({
      _id: new ObjectId(),
      name: `sample ${i}`,
      reads: Long.fromNumber(i * 1_000_000_000),
      taken: new Date(Date.UTC(2026, 0, 1) + i * 60_000),
      tags: ['mri', i % 2 === 0 ? 'even' : 'odd'],
      raw: new BSON.Binary(Buffer.from(`bytes ${i}`)),
      meta: { site: `site-${i % 7}`, score: i / 3 },
    })),
  );
  await db.collection('samples').createIndex({ name: 1 }, { unique: true, name: 'name_unique' });
  await db
    .collection<{ _id: number; ok: boolean }>('runs')
    .insertMany(Array.from({ length: 300 }, (_, i) => ({ _id: i, ok: i % 3 !== 0 })));
  ({ client, close: closeClient } = await testClient());
  workers = [await startWorkers({ queues: ['sciops', 'docker', 'db'] })];
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await mongo?.db(database).dropDatabase();
  await mongo?.db(copy).dropDatabase();
  await mongo?.close();
  await closeClient?.();
});

describe('MongoDB backup and restore', () => {
  let first: BackupReport;
  let before: Record<string, string[]>;

  it('dumps every collection with its documents, types and indexes, verified in a scratch database', async () => {
    before = await contents(mongo.db(database));
    first = await run<BackupReport>(WorkflowType.backup, spec);
    expect(first.verified).toBe(true);
    expect(first.dumps[0]).toMatchObject({ kind: 'mongo', collections: { samples: 2500, runs: 300 } });
    expect(first.dumps[0]?.file).toBe(`meta-${first.run}.ejson.gz`);
    expect((await mongo.db('admin').admin().listDatabases()).databases.map((d) => d.name)).not.toContain(`${database}_sciops_verify`);
  });

  it('restores over changed data with force, equal document for document', async () => {
    const db = mongo.db(database);
    await db.collection('samples').deleteMany({ tags: 'odd' });
    await db.collection('runs').updateMany({}, { $set: { ok: false } });
    await db.collection('extra').insertOne({ x: 1 });
    const refused = await failureOf(run(WorkflowType.restore, { destination, backup: spec.name, run: first.run }));
    expect(refused.type).toBe('TargetNotEmpty');
    const report = await run<RestoreReport>(WorkflowType.restore, { destination, backup: spec.name, run: first.run, force: true });
    expect(report.restored).toEqual(['meta']);
    expect(await contents(db)).toEqual(before);
    const indexes = await db.collection('samples').indexes();
    expect(indexes.find((i) => i.name === 'name_unique')).toMatchObject({ key: { name: 1 }, unique: true });
  });

  it('restores into another database with nsFrom / nsTo, leaving the source alone', async () => {
    const report = await run<RestoreReport>(WorkflowType.restore, {
      destination,
      backup: spec.name,
      run: first.run,
      nsFrom: `${database}.*`,
      nsTo: `${copy}.*`,
    });
    expect(report.restored).toEqual(['meta']);
    expect(await contents(mongo.db(copy))).toEqual(before);
    expect(await contents(mongo.db(database))).toEqual(before);
  });

  it('refuses an nsFrom that names no database of the backup, even forced, changing nothing (review M4)', async () => {
    const typo = `${database.slice(0, -1)}.*`;
    await mongo.db(database).collection('samples').insertOne({ name: 'written after the backup' });
    const now = await contents(mongo.db(database));
    const refused = await failureOf(
      run(WorkflowType.restore, { destination, backup: spec.name, run: first.run, nsFrom: typo, nsTo: `${copy}_x.*`, force: true }),
    );
    expect(refused.type).toBe(Failure.invalidInput);
    expect(refused.message).toContain(
      `nsFrom: ${typo} matches no database of this restore (the MongoDB databases restored are ${database})`,
    );
    expect(await contents(mongo.db(database))).toEqual(now);
  });
});
