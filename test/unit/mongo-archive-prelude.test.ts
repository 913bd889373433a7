import { Readable } from 'node:stream';
import { BSON } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { Crc64, MongoArchiveError, openArchive, scanArchive } from '../../common/mongo-archive';

/** An archive built by hand, block by block, to break one rule at a time. */
const MAGIC = Buffer.from([0x6d, 0xe2, 0x99, 0x81]);
const END = Buffer.from([0xff, 0xff, 0xff, 0xff]);
const doc = (d: Record<string, unknown>) => Buffer.from(BSON.serialize(d));
const header = (over: Record<string, unknown> = {}) =>
  doc({ concurrent_collections: new BSON.Int32(4), version: '0.1', server_version: '7.0.4', tool_version: '100.11.0', ...over });
const metadata = (collection: string, meta: Record<string, unknown> | string, over: Record<string, unknown> = {}) =>
  doc({
    db: 'lab',
    collection,
    metadata: typeof meta === 'string' ? meta : BSON.EJSON.stringify(meta, { relaxed: false }),
    size: new BSON.Int32(0),
    type: 'collection',
    ...over,
  });
const goodMeta = (name: string) => ({
  indexes: [{ v: new BSON.Int32(2), key: { _id: new BSON.Int32(1) }, name: '_id_' }],
  uuid: 'ba7e0575bc5f456aad97634df3e67e54',
  collectionName: name,
  type: 'collection',
});
const nsHeader = (collection: string, eof: boolean, crc = 0n) => doc({ db: 'lab', collection, EOF: eof, CRC: BSON.Long.fromBigInt(crc) });

async function failure(p: Promise<unknown>): Promise<MongoArchiveError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MongoArchiveError);
  return err as MongoArchiveError;
}

const open = (...parts: Buffer[]) => openArchive(Readable.from([Buffer.concat(parts)]));
const scan = (...parts: Buffer[]) => scanArchive(Readable.from([Buffer.concat(parts)]));

describe('the archive prelude', () => {
  it('reads what mongodump writes: header fields, metadata with options, indexes and uuid', async () => {
    const meta = { options: { capped: true, size: BSON.Long.fromNumber(100000) }, ...goodMeta('events') };
    const archive = await open(MAGIC, header(), metadata('events', meta, { size: new BSON.Int32(512) }), END);
    expect(archive.header).toEqual({ concurrentCollections: 4, formatVersion: '0.1', serverVersion: '7.0.4', toolVersion: '100.11.0' });
    expect(archive.collections).toHaveLength(1);
    const [c] = archive.collections;
    expect(c).toMatchObject({ db: 'lab', collection: 'events', type: 'collection', uuid: 'ba7e0575bc5f456aad97634df3e67e54', size: 512 });
    expect(c.options.size).toEqual(BSON.Long.fromNumber(100000));
    expect(c.indexes).toEqual([{ v: new BSON.Int32(2), key: { _id: new BSON.Int32(1) }, name: '_id_' }]);
  });

  it.each([
    ['a wrong format version', header({ version: '0.2' }), /header's version is "0.2"; only archive format 0.1 exists/],
    ['no format version', doc({ concurrent_collections: 1 }), /header's version is missing/],
    ['a negative concurrency', header({ concurrent_collections: -1 }), /concurrent_collections is -1/],
    ['a tool version that is not a string', header({ tool_version: 100 }), /tool_version is not a string/],
  ])('refuses a header with %s', async (_what, bad, message) => {
    const err = await failure(open(MAGIC, bad, END));
    expect(err.message).toMatch(message);
    expect(err.offset).toBe(4);
  });

  it.each([
    ['metadata that is not Extended JSON', metadata('c', '{"indexes": ['), /metadata is not Extended JSON/],
    ['an index without a key', metadata('c', { indexes: [{ name: 'x_1' }] }), /index x_1 has no key/],
    ['a uuid that is not hex', metadata('c', { ...goodMeta('c'), uuid: 'zz' }), /uuid "zz" is not 32 hex digits/],
    ['another collection name', metadata('c', goodMeta('d')), /names collection "d"/],
    ['an unknown type', metadata('c', goodMeta('c'), { type: 'table' }), /type "table" is none of/],
    ['a negative size', metadata('c', goodMeta('c'), { size: -5 }), /size -5 is not/],
    ['no collection', metadata('', goodMeta('')), /collection is missing/],
  ])('refuses collection metadata with %s, naming it', async (_what, bad, message) => {
    const first = metadata('ok', goodMeta('ok'));
    const err = await failure(open(MAGIC, header(), first, bad, END));
    expect(err.message).toMatch(message);
    expect(err.offset).toBe(4 + header().length + first.length);
  });

  it('refuses a prelude that lists a collection twice, or that does not end', async () => {
    const c = metadata('c', goodMeta('c'));
    expect((await failure(open(MAGIC, header(), c, c, END))).message).toMatch(/lists this collection twice.*lab\.c/);
    expect((await failure(open(MAGIC, header(), c))).message).toMatch(/truncated: it ends inside the prelude/);
    expect((await failure(open(MAGIC, END))).message).toMatch(/header is missing/);
    expect((await failure(open(MAGIC, header(), Buffer.from([1, 0, 0, 0])))).message).toMatch(/1 is neither a BSON document length/);
  });
});

describe('the archive data', () => {
  const prelude = () => [MAGIC, header(), metadata('c', goodMeta('c')), END];
  const one = doc({ _id: 1 });
  const crc = new Crc64().update(one).digestInt64();

  it('accepts an empty segment before an EOF block, and an EOF block alone', async () => {
    const empty = await scan(...prelude(), nsHeader('c', false), END, nsHeader('c', true), END);
    expect(empty.collections[0].documents).toBe(0);
    const alone = await scan(...prelude(), nsHeader('c', true), END);
    expect(alone.collections[0].documents).toBe(0);
    const full = await scan(...prelude(), nsHeader('c', false), one, END, nsHeader('c', true, crc), END);
    expect(full.collections[0]).toMatchObject({ documents: 1, bytes: one.length });
  });

  it.each([
    ['a namespace the prelude does not list', [nsHeader('other', false), one, END], /namespace the prelude does not list.*lab\.other/],
    ['data after the EOF block', [nsHeader('c', true), END, nsHeader('c', false), one, END], /comes after its EOF block.*lab\.c/],
    ['a missing EOF block', [nsHeader('c', false), one, END], /ends before the EOF block of lab\.c/],
    [
      'a wrong CRC',
      [nsHeader('c', false), one, END, nsHeader('c', true, crc + 1n), END],
      /CRC mismatch: the 1 document\(s\) read checksum to/,
    ],
    ['two terminators', [END, END], /a terminator stands where a namespace header should be/],
    ['a document after an EOF header', [nsHeader('c', true), one, END], /EOF block is not followed by the terminator/],
    ['a document without its NUL', [nsHeader('c', false), Buffer.from([5, 0, 0, 0, 1]), END], /does not end with a NUL byte/],
    ['a header without a collection', [doc({ db: 'lab', EOF: false, CRC: 0 })], /collection is missing/],
  ])('refuses %s', async (_what, blocks, message) => {
    const err = await failure(scan(...prelude(), ...blocks));
    expect(err.message).toMatch(message);
  });
});
