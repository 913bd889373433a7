/**
 * The mongodump archive format (what `mongodump --archive` writes and `mongorestore --archive` reads), as the
 * MongoDB Database Tools specify it in `common/archive/spec.md`:
 *
 *     archive   = magic, header, *collection-metadata, terminator, *(segment | eof)
 *     segment   = namespace-header {EOF: false, CRC: 0}, *document, terminator
 *     eof       = namespace-header {EOF: true, CRC: CRC-64-ECMA of the namespace's documents}, terminator
 *
 * Every block is a BSON document; the terminator is the int32 -1 where a document's length would be.
 * `--gzip` gzips the whole stream. Segments of different namespaces interleave; an empty collection may have
 * an empty segment (mongodump writes one) or only its EOF block.
 */

/** The first four bytes: 0x8199e26d little-endian. */
export const ARCHIVE_MAGIC: Readonly<Uint8Array> = Uint8Array.of(0x6d, 0xe2, 0x99, 0x81);
/** The int32 -1 that closes the prelude and every block. */
export const TERMINATOR: Readonly<Uint8Array> = Uint8Array.of(0xff, 0xff, 0xff, 0xff);
/** The only archive format version there is. */
export const ARCHIVE_FORMAT_VERSION = '0.1';
/** The largest BSON document a server accepts (and the tools read): 16 MiB. */
export const MAX_BSON_SIZE = 16 * 1024 * 1024;
/** An empty BSON document is five bytes: its length and the closing NUL. */
export const MIN_BSON_SIZE = 5;
/** The gzip magic, to tell `--gzip` archives from plain ones. */
export const GZIP_MAGIC: Readonly<Uint8Array> = Uint8Array.of(0x1f, 0x8b);

/** The archive's header document. */
export interface ArchiveHeader {
  /** How many collections the dump wrote at once (`--numParallelCollections`); mongorestore restores as many. */
  readonly concurrentCollections: number;
  /** The archive format version: always "0.1". */
  readonly formatVersion: string;
  /** The version of the server that was dumped. */
  readonly serverVersion: string;
  /** The version of the program that wrote the archive. */
  readonly toolVersion: string;
}

/** What a collection is: the archive's `type` (mongodump writes listCollections' type; "" is a collection too). */
export type CollectionType = 'collection' | 'view' | 'timeseries';

/** An index as listIndexes returns it: `key` and `name`, plus any options (`unique`, `sparse`, `v`, ...). */
export interface IndexDefinition {
  readonly key: Record<string, unknown>;
  readonly name: string;
  readonly [option: string]: unknown;
}

/** One collection of the archive's prelude, with its metadata (what `<coll>.metadata.json` holds). */
export interface ArchiveCollection {
  readonly db: string;
  readonly collection: string;
  readonly type: CollectionType;
  /** The createCollection options (capped, size, validator, collation, viewOn/pipeline for a view, ...). */
  readonly options: Record<string, unknown>;
  readonly indexes: readonly IndexDefinition[];
  /** The collection's UUID as 32 hex digits, when the dump recorded one. */
  readonly uuid?: string;
  /** The uncompressed size of its documents in bytes, as the dump estimated it before writing them. */
  readonly size: number;
}

/** `db.collection`: how the format (and mongorestore's --nsFrom/--nsTo) names a namespace. */
export function namespaceOf(c: { readonly db: string; readonly collection: string }): string {
  return `${c.db}.${c.collection}`;
}

/** The namespace the documents of a collection travel under: a time-series collection's are its buckets. */
export function dataNamespaceOf(c: Pick<ArchiveCollection, 'db' | 'collection' | 'type'>): string {
  return c.type === 'timeseries' ? `${c.db}.system.buckets.${c.collection}` : namespaceOf(c);
}

/**
 * Thrown by the archive reader and writer when the bytes are not a valid mongodump archive, or the input
 * given to the writer cannot be one. `offset` is the byte offset in the uncompressed archive where the bad
 * part starts; `namespace` the `db.collection` concerned, when one is.
 */
export class MongoArchiveError extends Error {
  override readonly name = 'MongoArchiveError';
  constructor(
    message: string,
    readonly offset?: number,
    readonly namespace?: string,
  ) {
    const where = [
      offset === undefined ? undefined : `at byte ${offset}`,
      namespace === undefined ? undefined : `namespace ${namespace}`,
    ].filter((w) => w !== undefined);
    super(where.length > 0 ? `mongodump archive: ${message} (${where.join(', ')})` : `mongodump archive: ${message}`);
  }
}
