import { BSON } from 'mongodb';
import {
  ARCHIVE_FORMAT_VERSION,
  type ArchiveCollection,
  type ArchiveHeader,
  type CollectionType,
  type IndexDefinition,
  MongoArchiveError,
  namespaceOf,
} from './format';

/**
 * The prelude's documents both ways: the header and one collection-metadata document per collection. The
 * metadata travels as canonical Extended JSON v2 inside a string field, as `<coll>.metadata.json` holds it:
 * `{options?, indexes, uuid?, collectionName, type?}`. Decoding keeps canonical types (Int32, Long, Double
 * wrappers), so options and index keys go back to a server exactly as they came.
 */

/** Where a prelude document starts, for the errors. */
interface At {
  readonly offset: number;
}

const TYPES: Readonly<Record<string, CollectionType>> = {
  '': 'collection',
  collection: 'collection',
  view: 'view',
  timeseries: 'timeseries',
};

export function encodeHeader(header: ArchiveHeader): Uint8Array {
  return BSON.serialize({
    concurrent_collections: new BSON.Int32(header.concurrentCollections),
    version: header.formatVersion,
    server_version: header.serverVersion,
    tool_version: header.toolVersion,
  });
}

export function encodeCollectionMetadata(c: ArchiveCollection): Uint8Array {
  const meta: Record<string, unknown> = {};
  if (Object.keys(c.options).length > 0) meta.options = c.options;
  meta.indexes = c.indexes;
  if (c.uuid) meta.uuid = c.uuid;
  meta.collectionName = c.collection;
  meta.type = c.type;
  return BSON.serialize({
    db: c.db,
    collection: c.collection,
    metadata: BSON.EJSON.stringify(meta, { relaxed: false }),
    size: Number.isSafeInteger(c.size) && c.size <= 0x7fffffff ? new BSON.Int32(c.size) : BSON.Long.fromNumber(c.size),
    type: c.type,
  });
}

function decode(bytes: Uint8Array, what: string, at: At): Record<string, unknown> {
  try {
    return BSON.deserialize(bytes, { useBigInt64: true });
  } catch (err) {
    throw new MongoArchiveError(`the ${what} is not a valid BSON document: ${(err as Error).message}`, at.offset);
  }
}

/** A whole number from an int32, int64 or integral double field; undefined when absent. */
function integer(value: unknown): number | undefined {
  if (typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER))
    return Number(value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !('_bsontype' in value);
}

/** Reads and checks the header document: format version 0.1, the counts and versions of the right types. */
export function decodeHeader(bytes: Uint8Array, at: At): ArchiveHeader {
  const doc = decode(bytes, 'header', at);
  const bad = (field: string, why: string): never => {
    throw new MongoArchiveError(`the header's ${field} ${why}`, at.offset);
  };
  if (doc.version === undefined) bad('version', 'is missing: this is not a mongodump archive header');
  if (doc.version !== ARCHIVE_FORMAT_VERSION)
    bad('version', `is ${JSON.stringify(doc.version)}; only archive format ${ARCHIVE_FORMAT_VERSION} exists`);
  const concurrent = integer(doc.concurrent_collections ?? 0);
  if (concurrent === undefined || concurrent < 0)
    bad('concurrent_collections', `is ${String(doc.concurrent_collections)}, not a whole number of collections`);
  for (const field of ['server_version', 'tool_version'])
    if (doc[field] !== undefined && typeof doc[field] !== 'string') bad(field, 'is not a string');
  return {
    concurrentCollections: concurrent as number,
    formatVersion: ARCHIVE_FORMAT_VERSION,
    serverVersion: (doc.server_version as string | undefined) ?? '',
    toolVersion: (doc.tool_version as string | undefined) ?? '',
  };
}

function decodeIndexes(value: unknown, fail: (why: string) => never): IndexDefinition[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return fail('its indexes are not a list');
  return value.map((index, i) => {
    if (!isPlainObject(index)) return fail(`index ${i} is not a document`);
    if (typeof index.name !== 'string' || index.name === '') return fail(`index ${i} has no name`);
    if (!isPlainObject(index.key) || Object.keys(index.key).length === 0) return fail(`index ${index.name} has no key`);
    return index as IndexDefinition;
  });
}

/** Reads and checks one collection-metadata document of the prelude, its Extended JSON metadata included. */
export function decodeCollectionMetadata(bytes: Uint8Array, at: At): ArchiveCollection {
  const doc = decode(bytes, 'collection metadata', at);
  const name = typeof doc.db === 'string' && typeof doc.collection === 'string' ? `${doc.db}.${doc.collection}` : undefined;
  const fail = (why: string): never => {
    throw new MongoArchiveError(`the prelude's collection metadata is invalid: ${why}`, at.offset, name);
  };
  if (typeof doc.db !== 'string') fail('db is not a string');
  if (typeof doc.collection !== 'string' || doc.collection === '') fail('collection is missing');
  const type = TYPES[typeof doc.type === 'string' ? doc.type : String(doc.type ?? '')];
  if (type === undefined) fail(`type ${JSON.stringify(doc.type)} is none of collection, view, timeseries`);
  const size = integer(doc.size ?? 0);
  if (size === undefined || size < 0) fail(`size ${String(doc.size)} is not a whole number of bytes`);
  if (doc.metadata !== undefined && typeof doc.metadata !== 'string') fail('metadata is not a string');

  let meta: Record<string, unknown> = {};
  if (typeof doc.metadata === 'string' && doc.metadata !== '') {
    let parsed: unknown;
    try {
      parsed = BSON.EJSON.parse(doc.metadata, { relaxed: false });
    } catch (err) {
      fail(`its metadata is not Extended JSON: ${(err as Error).message}`);
    }
    if (!isPlainObject(parsed)) fail('its metadata is not a JSON object');
    meta = parsed as Record<string, unknown>;
  }
  if (meta.options !== undefined && !isPlainObject(meta.options)) fail('its options are not a document');
  if (meta.collectionName !== undefined && meta.collectionName !== doc.collection)
    fail(`its metadata names collection ${JSON.stringify(meta.collectionName)}`);
  const uuid = meta.uuid ?? '';
  if (typeof uuid !== 'string' || (uuid !== '' && !/^[0-9a-f]{32}$/i.test(uuid)))
    fail(`its uuid ${JSON.stringify(uuid)} is not 32 hex digits`);
  return {
    db: doc.db as string,
    collection: doc.collection as string,
    type: type as CollectionType,
    options: (meta.options as Record<string, unknown> | undefined) ?? {},
    indexes: decodeIndexes(meta.indexes, fail),
    ...(uuid === '' ? {} : { uuid: (uuid as string).toLowerCase() }),
    size: size as number,
  };
}

/** Checks what the writer is given before anything is written; throws naming the collection at fault. */
export function checkCollection(c: ArchiveCollection): void {
  const fail = (why: string): never => {
    throw new MongoArchiveError(why, undefined, namespaceOf(c));
  };
  if (typeof c.collection !== 'string' || c.collection === '') fail('a collection needs a name');
  if (TYPES[c.type] === undefined) fail(`type ${JSON.stringify(c.type)} is none of collection, view, timeseries`);
  if (!Number.isSafeInteger(c.size) || c.size < 0) fail(`size ${c.size} is not a whole number of bytes`);
  if (c.uuid !== undefined && !/^[0-9a-f]{32}$/i.test(c.uuid)) fail(`uuid ${c.uuid} is not 32 hex digits`);
  decodeIndexes(c.indexes, fail);
}
