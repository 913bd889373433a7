import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { BSON } from 'mongodb';
import { describe, expect, it } from 'vitest';
import {
  type ArchiveCollection,
  type ArchiveEntry,
  decodeDocument,
  MongoArchiveError,
  MongoArchiveWriter,
  openArchive,
  scanArchive,
} from '../../common/mongo-archive';

const samples: ArchiveCollection[] = [
  {
    db: 'omics',
    collection: 'samples',
    type: 'collection',
    options: { validator: { $jsonSchema: { required: ['name'] } } },
    indexes: [
      { v: new BSON.Int32(2), key: { _id: new BSON.Int32(1) }, name: '_id_' },
      { v: new BSON.Int32(2), key: { name: new BSON.Int32(1) }, name: 'name_1', unique: true },
    ],
    uuid: '0123456789abcdef0123456789abcdef',
    size: 1234,
  },
  {
    db: 'omics',
    collection: 'runs',
    type: 'collection',
    options: { capped: true, size: BSON.Long.fromNumber(1 << 20) },
    indexes: [],
    size: 0,
  },
  { db: 'omics', collection: 'empty', type: 'collection', options: {}, indexes: [], size: 0 },
];

function sample(i: number): Record<string, unknown> {
  return {
    _id: new BSON.ObjectId(),
    name: `sample-${i}`,
    taken: new Date(Date.UTC(2024, 0, 1) + i * 60_000),
    score: new BSON.Double(i % 2 === 0 ? 1 : 0.5 + i),
    reads: BSON.Long.fromNumber(i * 1_000_000_007),
    raw: new BSON.Binary(Buffer.from([i & 0xff, 1, 2, 3])),
    nested: { tags: ['a', `t${i % 7}`], meta: { depth: new BSON.Int32(i % 3) } },
  };
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** Writes 500 samples and 300 runs, interleaved, with small segments so that segments interleave too. */
async function writeArchive(): Promise<{ bytes: Buffer; docs: Map<string, Uint8Array[]> }> {
  const writer = new MongoArchiveWriter(samples, { header: { serverVersion: '7.0.0', toolVersion: 'sciops' }, segmentBytes: 4096 });
  const out = bytesOf(writer.stream);
  const docs = new Map<string, Uint8Array[]>([
    ['omics.samples', []],
    ['omics.runs', []],
  ]);
  for (let i = 0; i < 500; i++) {
    const s = BSON.serialize(sample(i));
    docs.get('omics.samples')?.push(s);
    await writer.write({ db: 'omics', collection: 'samples' }, s);
    if (i < 300) {
      const r = BSON.serialize({ _id: i, run: `r${i}` });
      docs.get('omics.runs')?.push(r);
      await writer.write({ db: 'omics', collection: 'runs' }, r);
    }
  }
  await writer.end({ db: 'omics', collection: 'runs' });
  await writer.end({ db: 'omics', collection: 'empty' });
  await writer.end({ db: 'omics', collection: 'samples' });
  writer.finish();
  return { bytes: await out, docs };
}

async function readAll(bytes: Uint8Array, batchDocuments?: number) {
  const archive = await openArchive(Readable.from([bytes]), { batchDocuments });
  const entries: ArchiveEntry[] = [];
  for await (const e of archive.entries()) entries.push(e);
  return { archive, entries };
}

function documentsOf(entries: ArchiveEntry[], name: string): Buffer[] {
  return entries.flatMap((e) => (e.kind === 'documents' && `${e.collection.db}.${e.collection.collection}` === name ? e.documents : []));
}

/** The error a promise rejects with (the test fails if it resolves). */
async function failure(p: Promise<unknown>): Promise<MongoArchiveError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MongoArchiveError);
  return err as MongoArchiveError;
}

function drain(bytes: Uint8Array): Promise<unknown> {
  return scanArchive(Readable.from([bytes]));
}

describe('the mongodump archive writer and reader', () => {
  it('round-trips the prelude and every document, byte for byte, plain and gzipped', async () => {
    const { bytes, docs } = await writeArchive();
    expect([...bytes.subarray(0, 4)]).toEqual([0x6d, 0xe2, 0x99, 0x81]);
    for (const input of [bytes, gzipSync(bytes)]) {
      const { archive, entries } = await readAll(input, 64);
      expect(archive.gzipped).toBe(input !== bytes);
      expect(archive.header).toEqual({ concurrentCollections: 1, formatVersion: '0.1', serverVersion: '7.0.0', toolVersion: 'sciops' });
      expect(BSON.EJSON.stringify(archive.collections, { relaxed: false })).toBe(BSON.EJSON.stringify(samples, { relaxed: false }));
      for (const [name, expected] of docs)
        expect(documentsOf(entries, name).map((d) => Buffer.from(d))).toEqual(expected.map((d) => Buffer.from(d)));
      expect(entries.filter((e) => e.kind === 'documents').every((e) => e.documents.length <= 64)).toBe(true);
      const ends = entries.filter((e) => e.kind === 'end').map((e) => [e.collection.collection, e.documents]);
      expect(ends).toEqual([
        ['runs', 300],
        ['empty', 0],
        ['samples', 500],
      ]);
    }
    // Segments interleave: the two collections alternate more than once before their EOF blocks.
    const { entries } = await readAll(bytes);
    const order = entries.filter((e) => e.kind === 'documents').map((e) => e.collection.collection);
    expect(order.filter((c, i) => c !== order[i - 1]).length).toBeGreaterThan(4);
  });

  it('decodes documents so that they serialize back to the same bytes', async () => {
    const { bytes, docs } = await writeArchive();
    const { entries } = await readAll(bytes);
    const read = documentsOf(entries, 'omics.samples');
    expect(read.map((d) => Buffer.from(BSON.serialize(decodeDocument(d))))).toEqual(docs.get('omics.samples')?.map((d) => Buffer.from(d)));
    expect(decodeDocument(read[0]).score).toBeInstanceOf(BSON.Double);
  });

  it('refuses a document whose CRC does not match, naming the namespace', async () => {
    const { bytes } = await writeArchive();
    const broken = Buffer.from(bytes);
    // Flip one byte inside the string of the first sample's name ("sample-0").
    const at = broken.indexOf('sample-0');
    broken[at + 7] = '9'.charCodeAt(0);
    const err = await failure(drain(broken));
    expect(err.message).toMatch(/CRC mismatch/);
    expect(err.namespace).toBe('omics.samples');
    expect(err.offset).toBeGreaterThan(at);
  });

  it('refuses an archive cut anywhere, plain or gzipped, and never reads it as complete', async () => {
    const { bytes } = await writeArchive();
    const cuts = [0, 1, 3, 4, 10, 200, bytes.indexOf('sample-0') + 2];
    for (let i = 1; i < 40; i++) cuts.push(Math.floor((bytes.length * i) / 40));
    cuts.push(bytes.length - 4, bytes.length - 1);
    for (const cut of cuts) {
      const err = await failure(drain(bytes.subarray(0, cut)));
      expect(err.message).toMatch(/truncated|not a mongodump archive|is empty/);
    }
    const gz = gzipSync(bytes);
    const err = await failure(drain(gz.subarray(0, gz.length - 10)));
    expect(err.message).toMatch(/gzip stream is corrupt or truncated/);
  });

  it('refuses a stream that is not an archive, before reading further', async () => {
    const json = Buffer.from('{"not": "an archive"}\n');
    const err = await failure(openArchive(Readable.from([json])));
    expect(err.message).toBe('mongodump archive: not a mongodump archive: the stream starts with 7b226e6f, not 6de29981 (at byte 0)');
    const gz = await failure(openArchive(Readable.from([gzipSync(json)])));
    expect(gz.message).toMatch(/the uncompressed stream starts with 7b226e6f/);
    expect((await failure(openArchive(Readable.from([Buffer.alloc(0)])))).message).toMatch(/the stream is empty/);
  });
});

describe('the archive writer', () => {
  it('waits for its reader: memory stays at the segment buffer and the high-water mark', async () => {
    const writer = new MongoArchiveWriter([samples[2]], { segmentBytes: 16 * 1024, highWaterMark: 64 * 1024 });
    let written = 0;
    const writing = (async () => {
      for (let i = 0; i < 10_000; i++) {
        await writer.write(samples[2], { _id: i, pad: 'x'.repeat(200) });
        written++;
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    expect(written).toBeLessThan(1000);
    expect(writer.stream.readableLength).toBeLessThanOrEqual(64 * 1024 + 16 * 1024 + 1024);
    const out = bytesOf(writer.stream);
    await writing;
    await writer.end(samples[2]);
    writer.finish();
    const scan = await scanArchive(Readable.from([await out]));
    expect(scan.collections[0].documents).toBe(10_000);
  });

  it('refuses what would make an archive mongorestore rejects', async () => {
    const writer = new MongoArchiveWriter(samples);
    await expect(writer.write({ db: 'omics', collection: 'other' }, { a: 1 })).rejects.toThrow(/omics.other.*|not in the archive prelude/);
    await expect(writer.write(samples[0], Uint8Array.of(9, 0, 0, 0, 0))).rejects.toThrow(/not one BSON document/);
    await writer.end(samples[1]);
    await expect(writer.write(samples[1], { a: 1 })).rejects.toThrow(/already ended/);
    expect(() => writer.finish()).toThrow(/omics.samples, omics.empty not ended/);
    expect(() => new MongoArchiveWriter([samples[0], samples[0]])).toThrow(/listed twice/);
    expect(() => new MongoArchiveWriter([{ ...samples[0], uuid: 'nope' }])).toThrow(/uuid nope is not 32 hex digits/);
    expect(() => new MongoArchiveWriter([{ ...samples[0], indexes: [{ key: {}, name: 'x' }] }])).toThrow(/index x has no key/);
  });

  it('gives a view its empty segment and refuses documents for it', async () => {
    const view: ArchiveCollection = {
      db: 'omics',
      collection: 'v',
      type: 'view',
      options: { viewOn: 'samples', pipeline: [] },
      indexes: [],
      size: 0,
    };
    const writer = new MongoArchiveWriter([view]);
    const out = bytesOf(writer.stream);
    await expect(writer.write(view, { a: 1 })).rejects.toThrow(/a view has no documents/);
    await writer.end(view);
    writer.finish();
    const { archive, entries } = await readAll(await out);
    expect(archive.collections[0]).toMatchObject({ type: 'view', options: { viewOn: 'samples' } });
    expect(entries).toMatchObject([{ kind: 'end', documents: 0, crc: 0n }]);
  });
});
