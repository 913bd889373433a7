import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip, gunzipSync } from 'node:zlib';
import { BSON, type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ArchiveCollection,
  collectionFromListing,
  decodeDocument,
  MongoArchiveWriter,
  type NamespaceRename,
  namespaceOf,
  openArchive,
  planRenames,
} from '../../common/mongo-archive';
import { tempDir } from '../support/experiments';
import { useTestbed } from '../support/harness';

// The referee: mongodump/mongorestore 100.11.0 (scripts/mongo-tools.sh) against the testbed's FerretDB 1.24,
// which refuses the index option "ns" that mongorestore sends: indexes are restored with --noIndexRestore off
// and checked from the archive's metadata instead.
const run = promisify(execFile);
const suffix = Date.now().toString(36);
const source = `marc_src_${suffix}`;
const dir = tempDir('mongo-archive');
const created: string[] = [source];
const t = useTestbed();
const { mongoUrl: url, mongoTools: tools } = t.bed;
let mongo: MongoClient;

const tool = (name: string, args: string[]) => run(path.join(tools, name), [`--uri=${url}`, ...args], { maxBuffer: 64 << 20 });
const bsonOptions = { promoteValues: false, bsonRegExp: true } as const;
const canonical = (d: unknown) => BSON.EJSON.stringify(d, { relaxed: false });
const relaxed = (d: unknown) => BSON.EJSON.stringify(d, { relaxed: true });
const sorted = (docs: unknown[]) => docs.map(canonical).sort();

/** Every collection's documents (types kept), canonical Extended JSON, sorted. */
async function contents(db: Db): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray())
    out[name] = sorted(await db.collection(name).find({}, bsonOptions).toArray());
  return out;
}

async function indexesOf(db: Db, name: string): Promise<string[]> {
  return (await db.collection(name).listIndexes().toArray()).map(relaxed).sort();
}

/** What the server says of each collection, as the archive's prelude should carry it. */
async function listing(db: Db): Promise<ArchiveCollection[]> {
  const out: ArchiveCollection[] = [];
  for (const c of await db.listCollections().toArray())
    out.push(collectionFromListing(db.databaseName, c, await db.collection(c.name).listIndexes().toArray()));
  return out.sort((a, b) => a.collection.localeCompare(b.collection));
}

beforeAll(async () => {
  mongo = await MongoClient.connect(url);
  const db = mongo.db(source);
  await db.collection('samples').insertMany(
    Array.from({ length: 2500 }, (_, i) => ({
      _id: new BSON.ObjectId(),
      name: `sample ${i}`,
      reads: BSON.Long.fromNumber(i * 1_000_000_007),
      score: new BSON.Double(i % 4 === 0 ? 2 : i / 7),
      taken: new Date(Date.UTC(2025, 5, 1) + i * 90_000),
      raw: new BSON.Binary(Buffer.from(`fastq ${i}`)),
      tags: ['rna-seq', i % 2 === 0 ? 'tumour' : 'normal'],
      meta: { site: `site-${i % 9}`, lanes: [1, 2, 3].map((l) => ({ lane: l, ok: (i + l) % 5 !== 0 })) },
    })),
  );
  await db.collection('samples').createIndex({ name: 1 }, { unique: true, name: 'name_unique' });
  await db.collection('samples').createIndex({ 'meta.site': 1, taken: -1 }, { name: 'site_taken' });
  await db
    .collection<{ _id: number }>('runs')
    .insertMany(Array.from({ length: 800 }, (_, i) => ({ _id: i, sample: `sample ${i % 2500}`, at: new Date(i * 1e9) })));
  await db.createCollection('events', { capped: true, size: 1 << 20 });
  await db.collection('events').insertMany(Array.from({ length: 300 }, (_, i) => ({ i, what: `event ${i}`, ref: new BSON.ObjectId() })));
  await db.createCollection('empty');
});

afterAll(async () => {
  for (const name of created) await mongo?.db(name).dropDatabase();
  await mongo?.close();
});

describe('the sciops archive writer, read by mongorestore', () => {
  /** Dumps the source database with the sciops writer, all collections at once, into a gzipped file. */
  async function sciopsDump(file: string, gzip: boolean): Promise<ArchiveCollection[]> {
    const db = mongo.db(source);
    const collections = await listing(db);
    const { version } = await mongo.db('admin').command({ buildInfo: 1 });
    const writer = new MongoArchiveWriter(collections, {
      header: { serverVersion: version, toolVersion: 'sciops' },
      segmentBytes: 32 * 1024,
    });
    const written = gzip
      ? pipeline(writer.stream, createGzip(), createWriteStream(file))
      : pipeline(writer.stream, createWriteStream(file));
    await Promise.all(
      collections.map(async (c) => {
        for await (const raw of db.collection(c.collection).find({}, { raw: true })) await writer.write(c, raw as unknown as Buffer);
        await writer.end(c);
      }),
    );
    writer.finish();
    await written;
    return collections;
  }

  it('restores with mongorestore --archive --gzip: same documents, options, and the indexes of its metadata', async () => {
    const file = path.join(dir, 'sciops.archive.gz');
    const collections = await sciopsDump(file, true);
    const target = `marc_a_${suffix}`;
    created.push(target);
    const { stderr } = await tool('mongorestore', [
      `--archive=${file}`,
      '--gzip',
      '--noIndexRestore',
      `--nsFrom=${source}.*`,
      `--nsTo=${target}.*`,
    ]);
    expect(stderr).toMatch(/3600 document\(s\) restored successfully\. 0 document\(s\) failed to restore/);
    const restored = mongo.db(target);
    expect(await contents(restored)).toEqual(await contents(mongo.db(source)));
    const [events] = await restored.listCollections({ name: 'events' }, { nameOnly: false }).toArray();
    expect(events.options).toMatchObject({ capped: true });
    // Indexes from the archive's own metadata (read back with the sciops reader), created without `ns`.
    const archive = await openArchive(createReadStream(file));
    for (const c of archive.collections)
      for (const { v: _v, ...index } of c.indexes.filter((i) => i.name !== '_id_'))
        await restored.collection(c.collection).createIndexes([index as never]);
    await archive.close();
    for (const c of collections) expect(await indexesOf(restored, c.collection)).toEqual(await indexesOf(mongo.db(source), c.collection));
  });

  it('carries CRCs that mongorestore checks: one flipped byte and it refuses the namespace', async () => {
    const file = path.join(dir, 'sciops.archive');
    await sciopsDump(file, false);
    const bytes = readFileSync(file);
    const at = bytes.indexOf('event 42');
    bytes[at + 7] = '7'.charCodeAt(0);
    writeFileSync(file, bytes);
    const target = `marc_crc_${suffix}`;
    created.push(target);
    const err = await tool('mongorestore', [`--archive=${file}`, '--noIndexRestore', `--nsFrom=${source}.*`, `--nsTo=${target}.*`]).catch(
      (e) => e,
    );
    expect(String(err.stderr)).toMatch(new RegExp(`CRC mismatch for namespace ${source}\\.events`));
  });
});

describe('a mongodump --archive --gzip archive, read by the sciops reader', () => {
  const file = path.join(dir, 'mongodump.archive.gz');

  beforeAll(async () => {
    await tool('mongodump', [`--db=${source}`, `--archive=${file}`, '--gzip']);
  });

  it('has every document and the collection metadata that is in the database', async () => {
    const archive = await openArchive(createReadStream(file));
    expect(archive.gzipped).toBe(true);
    const { version } = await mongo.db('admin').command({ buildInfo: 1 });
    expect(archive.header).toEqual({ concurrentCollections: 4, formatVersion: '0.1', serverVersion: version, toolVersion: '100.11.0' });
    const db = mongo.db(source);
    const expected = await listing(db);
    const got = [...archive.collections].sort((a, b) => a.collection.localeCompare(b.collection));
    expect(got.map((c) => [c.collection, c.type, c.uuid, relaxed(c.options), c.indexes.map(relaxed).sort()])).toEqual(
      expected.map((c) => [c.collection, c.type, c.uuid, relaxed(c.options), c.indexes.map(relaxed).sort()]),
    );
    expect(got.every((c) => c.uuid?.length === 32)).toBe(true);
    const docs: Record<string, unknown[]> = Object.fromEntries(got.map((c) => [c.collection, []]));
    const ends: Record<string, number> = {};
    for await (const entry of archive.entries()) {
      if (entry.kind === 'end') ends[entry.collection.collection] = entry.documents;
      else docs[entry.collection.collection].push(...entry.documents.map(decodeDocument));
    }
    expect(ends).toEqual({ samples: 2500, runs: 800, events: 300, empty: 0 });
    expect(Object.fromEntries(Object.entries(docs).map(([name, d]) => [name, sorted(d)]))).toEqual(await contents(db));
  });

  it('renames namespaces as mongorestore does with the same --nsFrom/--nsTo', async () => {
    const [one, two, rest] = ['one', 'two', 'rest'].map((n) => `marc_${n}_${suffix}`);
    created.push(one, two, rest);
    const renames: NamespaceRename[] = [
      { from: `${source}.*`, to: `${rest}.*` },
      { from: '$db$.$coll$', to: `${two}.$coll$_of_$db$` },
      { from: `${source}.s*s`, to: `${one}.renamed_s*s` },
      { from: `${source}.e*`, to: `${one}.e*` },
    ];
    const args = renames.flatMap((r) => [`--nsFrom=${r.from}`, `--nsTo=${r.to}`]);
    await tool('mongorestore', [`--archive=${file}`, '--gzip', '--noIndexRestore', ...args]);
    const actual: string[] = [];
    for (const db of [one, two, rest])
      for (const { name } of await mongo.db(db).listCollections({}, { nameOnly: true }).toArray()) actual.push(`${db}.${name}`);
    const archive = await openArchive(createReadStream(file));
    await archive.close();
    const plan = planRenames(archive.collections.map(namespaceOf), renames);
    expect(actual.sort()).toEqual([...plan.values()].map((t) => `${t.db}.${t.collection}`).sort());
    expect(plan.get(`${source}.samples`)).toEqual({ db: one, collection: 'renamed_samples' });
    expect(plan.get(`${source}.runs`)).toEqual({ db: two, collection: `runs_of_${source}` });
    expect(plan.get(`${source}.events`)).toEqual({ db: one, collection: 'events' });
    expect(await mongo.db(two).collection(`runs_of_${source}`).countDocuments()).toBe(800);
  });

  it('is refused by the sciops reader when its gzip is cut short', async () => {
    const bytes = readFileSync(file);
    const cut = path.join(dir, 'cut.archive.gz');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const archive = await openArchive(createReadStream(cut));
    const read = (async () => {
      for await (const _ of archive.entries());
    })();
    await expect(read).rejects.toThrow(/gzip stream is corrupt or truncated/);
    expect(gunzipSync(bytes).subarray(0, 4)).toEqual(Buffer.from([0x6d, 0xe2, 0x99, 0x81]));
  });
});
