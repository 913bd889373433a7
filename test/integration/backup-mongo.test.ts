import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { BSON, type Db, type Document, Long, MongoClient, ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMongoBackup } from '../../activities/db/mongo-backup';
import { createBackupRuns } from '../../activities/files/backup-runs';
import { type BackupReport, type DumpRecord, runId, runPath } from '../../common/backup';
import { MANIFEST_FILE, MANIFEST_FORMAT } from '../../common/backup-manifest';
import { Failure } from '../../common/failures';
import { MongoArchiveWriter, openArchive } from '../../common/mongo-archive';
import { Queue } from '../../common/queues';
import type { RestoreReport } from '../../common/restore';
import { WorkflowType } from '../../common/workflow-types';
import { tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { useTestbed } from '../support/harness';

// The MongoDB-wire server of the testbed is FerretDB (scripts/ferretdb.sh); the referee for the archive
// format is mongodump/mongorestore 100.11.0 (scripts/mongo-tools.sh). FerretDB refuses the index option `ns`
// that mongorestore sends, so mongorestore runs with --noIndexRestore and the indexes are checked from the
// archive's own metadata.
const exec = promisify(execFile);
const suffix = Date.now().toString(36);
const database = `omics_${suffix}`;
const copy = `omics_copy_${suffix}`;
const created = [database, copy];
const destination = { kind: 'local' as const, dir: tempDir('mongo-backups') };
let mongo: MongoClient;
const t = useTestbed({
  before: async (t) => {
    mongo = new MongoClient(t.bed.mongoUrl);
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
  },
  workers: () => [{ queues: ['sciops', 'docker', 'db'] }],
  after: async () => {
    for (const name of created) await mongo?.db(name).dropDatabase();
    await mongo?.close();
  },
});
const { mongoUrl, mongoTools } = t.bed;
/** The activities themselves, called outside a worker (the destination is local: no S3). */
const activities = createMongoBackup((): S3Client => {
  throw new Error('no S3 here');
});
const inActivity = <T>(fn: () => Promise<T>): Promise<T> => new MockActivityEnvironment().run(fn);
const target = (name: string) => ({ kind: 'mongo' as const, name: 'meta', urlEnv: 'SCIOPS_TEST_MONGO_URL', database: name });

const spec = {
  name: `mongo-${suffix}`,
  targets: [{ kind: 'mongo', name: 'meta', urlEnv: 'SCIOPS_TEST_MONGO_URL', database }],
  destination,
  verify: true,
};
const run = <T>(type: string, input: unknown) =>
  t.client.workflow.execute(type, { taskQueue: Queue.workflows, workflowId: uniqueId(type), args: [input] }) as Promise<T>;

/** Every document of every collection, in canonical Extended JSON (types included), sorted. */
async function contents(db: Db): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
    const docs = await db.collection(name).find({}, { promoteValues: false, bsonRegExp: true }).toArray();
    out[name] = docs.map((d) => BSON.EJSON.stringify(d, { relaxed: false })).sort();
  }
  return out;
}

/** Every collection's indexes, as listIndexes gives them, sorted. */
async function indexes(db: Db): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray())
    out[name] = (await db.collection(name).listIndexes().toArray()).map((i) => BSON.EJSON.stringify(i)).sort();
  return out;
}

/** A digest of everything a database holds: documents and indexes. */
async function digest(db: Db): Promise<string> {
  const held = JSON.stringify({ contents: await contents(db), indexes: await indexes(db) });
  return createHash('sha256').update(held).digest('hex');
}

/** Documents per collection. */
const countsOf = (held: Record<string, string[]>) => Object.fromEntries(Object.entries(held).map(([name, docs]) => [name, docs.length]));

/** Stores `bytes` in the destination under `key`; what a manifest would say of it. */
function stored(key: string, bytes: Buffer) {
  const file = path.join(destination.dir, key);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  return { destination, key, expected: { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') } };
}

const tool = (name: string, args: string[]) => exec(path.join(mongoTools, name), [`--uri=${mongoUrl}`, ...args], { maxBuffer: 64 << 20 });

/** A fresh database name this test drops afterwards. */
function scratch(name: string): string {
  const db = `${name}_${suffix}`;
  created.push(db);
  return db;
}

/**
 * A dump as sciops wrote it before it wrote mongodump archives (`sciops-mongo/1`): a JSON header with each
 * collection's options, indexes and count, then one canonical Extended JSON line per document, gzipped.
 * Made here from a database, as that version's dumpMongo did, to check that such runs still restore.
 */
async function legacyDump(db: Db, extraLines: string[] = []): Promise<Buffer> {
  const { EJSON } = BSON;
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
  const collections = [];
  const lines: string[] = [];
  for (const name of names) {
    const [info] = await db.listCollections({ name }).toArray();
    collections.push({
      name,
      options: EJSON.serialize((info as { options?: Document }).options ?? {}),
      indexes: (await db.collection(name).indexes()).map((i) => EJSON.serialize(i)),
      count: await db.collection(name).countDocuments(),
    });
    // Numbers as stored (that version read them promoted, which turned a double 2.0 into an int32 2).
    for (const d of await db.collection(name).find({}, { promoteValues: false }).toArray())
      lines.push(EJSON.stringify({ c: name, d }, { relaxed: false }));
  }
  const header = JSON.stringify({ format: 'sciops-mongo/1', database: db.databaseName, collections });
  return gzipSync([header, ...lines, ...extraLines, ''].join('\n'));
}

/**
 * An archive of two databases, as `mongodump` without --db writes them (here with the sciops writer), gzipped:
 * `<database>_second.notes` and `<database>.samples`, one document each.
 */
async function twoDatabases(): Promise<Buffer> {
  const other = { db: `${database}_second`, collection: 'notes', type: 'collection' as const, options: {}, indexes: [], size: 0 };
  const samples = { ...other, db: database, collection: 'samples' };
  const writer = new MongoArchiveWriter([other, samples]);
  const chunks: Buffer[] = [];
  writer.stream.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve) => writer.stream.on('end', resolve));
  await writer.write(other, { _id: 1, note: 'the second database' });
  await writer.write(samples, { _id: 1, name: 'the only sample' });
  await writer.end(other);
  await writer.end(samples);
  writer.finish();
  await ended;
  return gzipSync(Buffer.concat(chunks));
}

/**
 * A run of a backup of one Mongo target (database `into`), made by hand: `archive` as its dump, and a manifest
 * that records it as given (its size and SHA-256 those of `archive`), for the restore workflow to restore.
 */
function handMadeRun(backup: string, into: string, archive: Buffer, record: Partial<DumpRecord>, extension = 'archive.gz'): string {
  const run = runId(new Date(), randomBytes(4).toString('hex'));
  const file = `meta-${run}.${extension}`;
  const { expected } = stored(`${runPath(backup, run)}${file}`, archive);
  const at = new Date().toISOString();
  const manifest = {
    format: MANIFEST_FORMAT,
    backup,
    run,
    startedAt: at,
    finishedAt: at,
    spec: { name: backup, targets: [target(into)], destination },
    dumps: [{ target: 'meta', kind: 'mongo', file, ...expected, tool: 'made by the test', ...record }],
    verified: false,
  };
  stored(`${runPath(backup, run)}${MANIFEST_FILE}`, Buffer.from(JSON.stringify(manifest)));
  return run;
}

/** The failure an activity call ends with (it must fail). */
async function refusal(call: Promise<unknown>): Promise<Error & { type?: string; nonRetryable?: boolean }> {
  return call.then(
    () => {
      throw new Error('the restore succeeded');
    },
    (err: Error & { type?: string }) => err,
  );
}

let first: BackupReport;
let before: Record<string, string[]>;
let indexesBefore: Record<string, string[]>;

describe('MongoDB backup and restore', () => {
  it('dumps every collection with its documents, types and indexes, verified in a scratch database', async () => {
    before = await contents(mongo.db(database));
    indexesBefore = await indexes(mongo.db(database));
    first = await run<BackupReport>(WorkflowType.backup, spec);
    expect(first.verified).toBe(true);
    expect(first.dumps[0]).toMatchObject({ kind: 'mongo', database, collections: { samples: 2500, runs: 300 } });
    expect(first.dumps[0]?.file).toBe(`meta-${first.run}.archive.gz`);
    expect(first.dumps[0]?.tool).toMatch(/^sciops \S+ \(mongodump archive format 0\.1, mongodb driver \d+\.\d+\.\d+\)$/);
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

  it('restores the database the run recorded from an archive that holds two', async () => {
    const backup = `two-${suffix}`;
    const into = scratch('omics_two');
    const recorded = `${database}_second`;
    const made = handMadeRun(backup, into, await twoDatabases(), { database: recorded, collections: { notes: 1 } });
    const report = await run<RestoreReport>(WorkflowType.restore, { destination, backup, run: made });
    expect(report.restored).toEqual(['meta']);
    expect(await contents(mongo.db(into))).toEqual({
      notes: [BSON.EJSON.stringify({ _id: 1, note: 'the second database' }, { relaxed: false })],
    });
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

describe('the mongodump archive format, with mongodump and mongorestore as referees', () => {
  const dumpFile = () => path.join(destination.dir, `${runPath(spec.name, first.run)}${first.dumps[0]?.file}`);

  it('writes a backup that mongorestore --archive --gzip restores: same documents, counts and indexes', async () => {
    const into = scratch('omics_mongorestore');
    const { stderr } = await tool('mongorestore', [
      `--archive=${dumpFile()}`,
      '--gzip',
      '--noIndexRestore',
      `--nsFrom=${database}.*`,
      `--nsTo=${into}.*`,
    ]);
    expect(stderr).toMatch(/2800 document\(s\) restored successfully\. 0 document\(s\) failed to restore/);
    const restored = mongo.db(into);
    expect(await contents(restored)).toEqual(before);
    expect(countsOf(await contents(restored))).toEqual(first.dumps[0]?.collections);
    // The indexes as the archive's metadata records them (read with the sciops reader), created without `ns`.
    const archive = await openArchive(createReadStream(dumpFile()));
    await archive.close();
    expect(archive.header.toolVersion).toBe(first.dumps[0]?.tool);
    expect(archive.collections.every((c) => c.uuid?.length === 32)).toBe(true);
    for (const c of archive.collections) {
      const wanted = c.indexes.filter((i) => i.name !== '_id_').map(({ v: _v, ns: _ns, ...i }) => i);
      if (wanted.length > 0) await restored.command({ createIndexes: c.collection, indexes: wanted });
    }
    expect(await indexes(restored)).toEqual(indexesBefore);
  });

  describe('a mongodump --archive --gzip file, restored by restoreMongo', () => {
    let file: ReturnType<typeof stored>;
    let dumped: Record<string, string[]>;
    let dumpedIndexes: Record<string, string[]>;

    beforeAll(async () => {
      const source = mongo.db(database);
      await source.createCollection('events', { capped: true, size: 1 << 20 });
      await source
        .collection('events')
        .insertMany(Array.from({ length: 120 }, (_, i) => ({ i, at: new Date(i * 1e9), score: new BSON.Double(2) })));
      await source.createCollection('empty');
      const out = path.join(tempDir('mongodump'), 'dump.archive.gz');
      await tool('mongodump', [`--db=${database}`, `--archive=${out}`, '--gzip']);
      file = stored(`imports/mongodump-${suffix}.archive.gz`, readFileSync(out));
      dumped = await contents(source);
      dumpedIndexes = await indexes(source);
    });

    it('restores it over the database it was taken of, as it was', async () => {
      const db = mongo.db(database);
      await db.collection('samples').deleteMany({ tags: 'even' });
      await db.collection('late').insertOne({ written: 'after the dump' });
      const restored = await inActivity(() => activities.restoreMongo({ target: target(database), ...file }));
      expect(restored).toEqual({ samples: 2501, runs: 300, events: 120, empty: 0 });
      expect(await contents(db)).toEqual(dumped);
      expect(await indexes(db)).toEqual(dumpedIndexes);
      const [events] = await db.listCollections({ name: 'events' }).toArray();
      expect((events as { options?: Document }).options).toMatchObject({ capped: true, size: 1 << 20 });
    });

    it('restores it into another database (nsFrom/nsTo), leaving the source alone', async () => {
      const into = scratch('omics_renamed');
      const restored = await inActivity(() => activities.restoreMongo({ target: target(into), ...file }));
      expect(restored).toEqual(countsOf(dumped));
      expect(await contents(mongo.db(into))).toEqual(dumped);
      expect(await indexes(mongo.db(into))).toEqual(dumpedIndexes);
      expect(await contents(mongo.db(database))).toEqual(dumped);
    });

    it('refuses an archive that holds no collection of the database it is said to be of', async () => {
      const into = scratch('omics_other');
      await mongo.db(into).collection('kept').insertOne({ kept: true });
      const held = await digest(mongo.db(into));
      const err = await refusal(inActivity(() => activities.restoreMongo({ target: target(into), ...file, from: `${database}_x` })));
      expect(err).toMatchObject({ type: Failure.backupFailed, nonRetryable: true });
      expect(err.message).toBe(
        `${file.key} cannot be restored: mongodump archive: it holds no collection of database ${database}_x (only of ${database}); nothing was changed`,
      );
      expect(await digest(mongo.db(into))).toBe(held);
    });

    it('restores only the named database of an archive of several, and refuses such an archive when none is named', async () => {
      const both = stored(`imports/two-databases-${suffix}.archive.gz`, await twoDatabases());
      const into = scratch('omics_one_of_two');
      const restored = await inActivity(() => activities.restoreMongo({ target: target(into), ...both, from: database }));
      expect(restored).toEqual({ samples: 1 });
      expect(await contents(mongo.db(into))).toEqual({
        samples: [BSON.EJSON.stringify({ _id: 1, name: 'the only sample' }, { relaxed: false })],
      });
      const held = await digest(mongo.db(into));
      const err = await refusal(inActivity(() => activities.restoreMongo({ target: target(into), ...both })));
      expect(err).toMatchObject({ type: Failure.backupFailed, nonRetryable: true });
      expect(err.message).toContain(`it holds the collections of several databases (${database}_second, ${database})`);
      expect(await digest(mongo.db(into))).toBe(held);
    });

    describe('refuses a damaged archive whose checksums match its manifest, changing nothing', () => {
      const damaged = [
        {
          what: 'a flipped byte in a document',
          damage: (archive: Buffer) => {
            const at = archive.indexOf('sample 1234');
            archive[at + 9] = '9'.charCodeAt(0);
            return archive;
          },
          says: new RegExp(`CRC mismatch: .* \\(at byte \\d+, namespace ${database}\\.samples\\)`),
        },
        {
          what: 'a truncated archive',
          damage: (archive: Buffer) => archive.subarray(0, Math.floor(archive.length * 0.7)),
          says: /the archive is truncated/,
        },
        {
          what: 'a wrong magic number',
          damage: (archive: Buffer) => {
            archive[0] ^= 0xff;
            return archive;
          },
          says: /not a mongodump archive: the uncompressed stream starts with 92e29981, not 6de29981/,
        },
        {
          what: 'a gzip stream cut short',
          gzipped: (gz: Buffer) => gz.subarray(0, Math.floor(gz.length * 0.6)),
          says: /the gzip stream is corrupt or truncated/,
        },
      ];
      for (const d of damaged) {
        it(d.what, async () => {
          const db = mongo.db(database);
          await db.collection('late').insertOne({ written: 'after the restore' });
          const held = await digest(db);
          const gz = readFileSync(path.join(destination.dir, file.key));
          const bytes = d.gzipped ? d.gzipped(gz) : gzipSync(d.damage(Buffer.from(gunzipSync(gz))));
          const bad = stored(`imports/damaged-${suffix}-${damaged.indexOf(d)}.archive.gz`, bytes);
          const err = await refusal(inActivity(() => activities.restoreMongo({ target: target(database), ...bad })));
          expect(err).toMatchObject({ type: Failure.backupFailed, nonRetryable: true });
          expect(err.message).toMatch(new RegExp(`^${bad.key} cannot be restored: mongodump archive: `));
          expect(err.message).toMatch(d.says);
          expect(err.message).toMatch(/; nothing was changed$/);
          expect(await digest(db)).toBe(held);
        });
      }
    });
  });
});

describe('a sciops-mongo/1 dump of an earlier version', () => {
  let legacy: ReturnType<typeof stored>;
  let held: Record<string, string[]>;
  let heldIndexes: Record<string, string[]>;

  beforeAll(async () => {
    const db = mongo.db(database);
    held = await contents(db);
    heldIndexes = await indexes(db);
    legacy = stored(`legacy/meta-${suffix}.ejson.gz`, await legacyDump(db));
  });

  it('still restores, with its documents, types and indexes', async () => {
    const into = scratch('omics_legacy');
    await mongo.db(into).collection('stale').insertOne({ stale: true });
    const restored = await inActivity(() => activities.restoreMongo({ target: target(into), ...legacy }));
    expect(restored).toEqual(countsOf(held));
    expect(await contents(mongo.db(into))).toEqual(held);
    expect(await indexes(mongo.db(into))).toEqual(heldIndexes);
  });

  it('restores through the workflow from a run of that version (its manifest names a .ejson.gz file)', async () => {
    const backup = `legacy-${suffix}`;
    const into = scratch('omics_legacy_run');
    const made = handMadeRun(
      backup,
      into,
      readFileSync(path.join(destination.dir, legacy.key)),
      { collections: countsOf(held) },
      'ejson.gz',
    );
    const report = await run<RestoreReport>(WorkflowType.restore, { destination, backup, run: made });
    expect(report.restored).toEqual(['meta']);
    expect(await contents(mongo.db(into))).toEqual(held);
  });

  it('is read through and checked before anything is dropped: a bad line, and a line too long to hold (L9)', async () => {
    const into = scratch('omics_legacy_bad');
    await mongo.db(into).collection('kept').insertOne({ kept: true });
    const before = await digest(mongo.db(into));
    const cases = [
      { lines: ['{"c": "runs", "d": {"_id": '], says: /: line \d+ is not Extended JSON/ },
      { lines: ['{"c": "nowhere", "d": {"_id": 1}}'], says: /: line \d+ is a document of nowhere, which the header does not list/ },
      { lines: [`{"c": "runs", "d": {"_id": "${'x'.repeat(49 * 1024 * 1024)}"}}`], says: /: line \d+ is longer than 50331648 bytes/ },
    ];
    for (const [i, c] of cases.entries()) {
      const bad = stored(`legacy/bad-${suffix}-${i}.ejson.gz`, await legacyDump(mongo.db(database), c.lines));
      const err = await refusal(inActivity(() => activities.restoreMongo({ target: target(into), ...bad })));
      expect(err).toMatchObject({ type: Failure.backupFailed, nonRetryable: true });
      expect(err.message).toMatch(new RegExp(`^${bad.key} cannot be restored: sciops-mongo/1 dump: `));
      expect(err.message).toMatch(c.says);
      expect(await digest(mongo.db(into))).toBe(before);
    }
  });
});

describe('a restore whose Mongo dump fails its format check refuses it before it locks, pauses or backs up anything', () => {
  const backup = `corrupt-${suffix}`;

  /** Restores a run with the workflow, which must fail: its failure, and the activities it scheduled. */
  async function refusedRestore(made: string) {
    const handle = await t.client.workflow.start(WorkflowType.restore, {
      taskQueue: Queue.workflows,
      workflowId: uniqueId(WorkflowType.restore),
      args: [{ destination, backup, run: made, force: true }],
    });
    const failure = await failureOf(handle.result());
    const { events } = await handle.fetchHistory();
    const scheduled = (events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    return { failure, scheduled };
  }

  const firstArchive = () =>
    gunzipSync(readFileSync(path.join(destination.dir, `${runPath(spec.name, first.run)}${first.dumps[0]?.file}`)));
  const cases = [
    {
      what: 'an archive with a flipped byte in a document, its checksums those of the manifest',
      dump: async () => {
        const archive = Buffer.from(firstArchive());
        archive[archive.indexOf('sample 1234') + 9] = '9'.charCodeAt(0);
        return gzipSync(archive);
      },
      record: () => ({ database, collections: first.dumps[0]?.collections }),
      says: new RegExp(`: cannot be restored: mongodump archive: CRC mismatch: .* \\(at byte \\d+, namespace ${database}\\.samples\\)`),
    },
    {
      what: 'an archive of two databases whose manifest names neither (a run of an earlier version)',
      dump: twoDatabases,
      record: () => ({ collections: { samples: 1 } }),
      says: /: cannot be restored: mongodump archive: it holds the collections of several databases/,
    },
    {
      what: 'an archive that holds no collection of the database its manifest names',
      dump: twoDatabases,
      record: () => ({ database: `${database}_third`, collections: { samples: 1 } }),
      says: new RegExp(`: cannot be restored: mongodump archive: it holds no collection of database ${database}_third`),
    },
    {
      what: 'a sciops-mongo/1 dump with a line that is not Extended JSON',
      dump: () => legacyDump(mongo.db(database), ['{"c": "runs", "d": {"_id": ']),
      record: () => ({ collections: {} }),
      says: /: cannot be restored: sciops-mongo\/1 dump: line \d+ is not Extended JSON/,
    },
  ];
  it('is the check verifyDumpFile makes as it reads the file for its checksum, whole even when refused at byte 0', async () => {
    const runs = createBackupRuns((): S3Client => {
      throw new Error('no S3 here');
    });
    const verify = (bytes: Buffer, database?: string) => {
      const { key, expected } = stored(`checks/${randomBytes(4).toString('hex')}.archive`, bytes);
      return inActivity(() => runs.verifyDumpFile({ destination, key, ...expected, kind: 'mongo', database }));
    };
    // Not gzipped (mongodump --archive without --gzip), so that its many chunks pass after a refusal at byte 0.
    const archive = Buffer.from(firstArchive());
    expect(archive.length).toBeGreaterThan(256 * 1024);
    await expect(verify(archive, database)).resolves.toEqual({});
    await expect(verify(archive)).resolves.toEqual({});
    await expect(verify(archive, `${database}_x`)).rejects.toThrow(
      /cannot be restored: mongodump archive: it holds no collection of database/,
    );
    const wrongMagic = Buffer.from(archive);
    wrongMagic[0] ^= 0xff;
    await expect(verify(wrongMagic, database)).rejects.toMatchObject({
      type: Failure.backupCorrupt,
      message: expect.stringMatching(/: cannot be restored: .*not a mongodump archive: .*; nothing was changed$/),
    });
  });

  for (const c of cases) {
    it(c.what, async () => {
      const into = scratch(`omics_refused_${cases.indexOf(c)}`);
      await mongo.db(into).collection('kept').insertOne({ kept: true });
      const held = await digest(mongo.db(into));
      const made = handMadeRun(backup, into, await c.dump(), c.record());
      const { failure, scheduled } = await refusedRestore(made);
      expect(failure.type).toBe(Failure.backupCorrupt);
      expect(failure.message).toMatch(c.says);
      expect(failure.message).toMatch(/; nothing was changed$/);
      expect(scheduled).toContain('verifyDumpFile');
      // No safety backup (dumpMongo), no restore, and so nothing to put back.
      expect(scheduled).not.toContain('dumpMongo');
      expect(scheduled).not.toContain('restoreMongo');
      expect(readdirSync(path.join(destination.dir, backup)).filter((f) => f.startsWith('safety-'))).toEqual([]);
      expect(await digest(mongo.db(into))).toBe(held);
    });
  }
});
