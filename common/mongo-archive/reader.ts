import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { BlockReader } from './blocks';
import { ByteSource } from './byte-source';
import { Crc64 } from './crc64';
import {
  ARCHIVE_MAGIC,
  type ArchiveCollection,
  type ArchiveHeader,
  dataNamespaceOf,
  GZIP_MAGIC,
  MongoArchiveError,
  namespaceOf,
} from './format';
import { decodeNamespaceHeader } from './namespace-header';
import { decodeCollectionMetadata, decodeHeader } from './prelude';

/**
 * Reads a mongodump archive as a stream: `openArchive` reads and checks the whole prelude (magic, header,
 * every collection's metadata) before it returns, so nothing has been handed out when the prelude is bad;
 * `entries()` then hands out each namespace's documents in bounded batches, in the order of the archive,
 * and an `end` entry once the namespace's CRC-64 matched its EOF block. Errors are `MongoArchiveError`s
 * naming the byte offset (in the uncompressed archive) and the namespace. Documents come before their CRC
 * is checked: a consumer that must not keep a corrupt archive's data either reads the archive twice
 * (`scanArchive` first) or undoes what it did when `entries()` throws.
 */

export interface ReadArchiveOptions {
  /** `auto` (the default) gunzips when the input starts with the gzip magic, as `--gzip` archives do. */
  readonly gzip?: boolean | 'auto';
  /** A batch of documents holds at most this many bytes (beyond one document); default 1 MiB. */
  readonly batchBytes?: number;
  /** A batch holds at most this many documents; default 1000 (the driver's insertMany batches more). */
  readonly batchDocuments?: number;
}

/** What `entries()` hands out. */
export type ArchiveEntry =
  | {
      readonly kind: 'documents';
      readonly collection: ArchiveCollection;
      /** Raw BSON documents, each a view of the input's bytes (see `decodeDocument`). */
      readonly documents: readonly Buffer[];
    }
  | {
      readonly kind: 'end';
      readonly collection: ArchiveCollection;
      /** How many documents and bytes the namespace had, across all its segments. */
      readonly documents: number;
      readonly bytes: number;
      readonly crc: bigint;
    };

export interface MongoArchiveReader {
  readonly header: ArchiveHeader;
  /** The prelude's collections, in its order. */
  readonly collections: readonly ArchiveCollection[];
  /** Whether the input was gzipped. */
  readonly gzipped: boolean;
  /** The archive's data; once only. Ends after every collection's EOF block was read and checked. */
  entries(): AsyncGenerator<ArchiveEntry, void, undefined>;
  /** Stops reading the input (needed only when `entries()` was not read to its end). */
  close(): Promise<void>;
}

interface NamespaceState {
  readonly collection: ArchiveCollection;
  readonly crc: Crc64;
  documents: number;
  bytes: number;
  closed: boolean;
}

async function* gunzip(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const gz = createGunzip();
  pipeline(Readable.from(chunks, { objectMode: false }), gz).catch(() => undefined);
  try {
    for await (const chunk of gz) yield chunk as Buffer;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && e.code.startsWith('Z_'))
      throw new MongoArchiveError(`the gzip stream is corrupt or truncated (${e.message})`);
    throw err;
  } finally {
    gz.destroy();
  }
}

export async function openArchive(input: AsyncIterable<Uint8Array>, options: ReadArchiveOptions = {}): Promise<MongoArchiveReader> {
  const raw = new ByteSource(input);
  const start = await raw.peek(4);
  const gzipped = options.gzip === 'auto' || options.gzip === undefined ? startsWith(start, GZIP_MAGIC) : options.gzip;
  const source = gzipped ? new ByteSource(gunzip(raw.remaining())) : raw;
  const blocks = new BlockReader(source);
  try {
    const magic = await source.peek(4);
    if (!startsWith(magic, ARCHIVE_MAGIC)) {
      const what =
        magic.length === 0 ? 'is empty' : `starts with ${magic.toString('hex')}, not ${Buffer.from(ARCHIVE_MAGIC).toString('hex')}`;
      throw new MongoArchiveError(`not a mongodump archive: the ${gzipped ? 'uncompressed ' : ''}stream ${what}`, 0);
    }
    source.take(4);
    const header = await readHeader(blocks);
    const collections = await readCollections(blocks);
    return reader(header, collections, gzipped, blocks, options);
  } catch (err) {
    await blocks.close().catch(() => undefined);
    throw err;
  }
}

function startsWith(bytes: Uint8Array, prefix: Readonly<Uint8Array>): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

async function readHeader(blocks: BlockReader): Promise<ArchiveHeader> {
  const block = await blocks.next('the header');
  if (block === null) throw new MongoArchiveError('the archive is truncated: it ends after the magic number', blocks.offset);
  if (block.terminator) throw new MongoArchiveError('the header is missing: a terminator follows the magic number', block.offset);
  return decodeHeader(block.document, block);
}

async function readCollections(blocks: BlockReader): Promise<ArchiveCollection[]> {
  const collections: ArchiveCollection[] = [];
  const seen = new Set<string>();
  for (;;) {
    const block = await blocks.next('the prelude');
    if (block === null) throw new MongoArchiveError('the archive is truncated: it ends inside the prelude', blocks.offset);
    if (block.terminator) return collections;
    const c = decodeCollectionMetadata(block.document, block);
    const ns = dataNamespaceOf(c);
    if (seen.has(ns)) throw new MongoArchiveError('the prelude lists this collection twice', block.offset, namespaceOf(c));
    seen.add(ns);
    collections.push(c);
  }
}

function reader(
  header: ArchiveHeader,
  collections: readonly ArchiveCollection[],
  gzipped: boolean,
  blocks: BlockReader,
  options: ReadArchiveOptions,
): MongoArchiveReader {
  const batchBytes = options.batchBytes ?? 1024 * 1024;
  const batchDocuments = options.batchDocuments ?? 1000;
  const states = new Map<string, NamespaceState>(
    collections.map((c) => [dataNamespaceOf(c), { collection: c, crc: new Crc64(), documents: 0, bytes: 0, closed: false }]),
  );
  let started = false;

  async function* segment(state: NamespaceState, ns: string): AsyncGenerator<ArchiveEntry> {
    let batch: Buffer[] = [];
    let size = 0;
    for (;;) {
      const block = await blocks.next('a segment', ns);
      if (block === null) throw new MongoArchiveError('the archive is truncated: it ends inside a segment', blocks.offset, ns);
      if (block.terminator) break;
      state.crc.update(block.document);
      state.documents++;
      state.bytes += block.document.length;
      batch.push(block.document);
      size += block.document.length;
      if (size >= batchBytes || batch.length >= batchDocuments) {
        yield { kind: 'documents', collection: state.collection, documents: batch };
        batch = [];
        size = 0;
      }
    }
    if (batch.length > 0) yield { kind: 'documents', collection: state.collection, documents: batch };
  }

  async function* entries(): AsyncGenerator<ArchiveEntry, void, undefined> {
    if (started) throw new Error('the entries of a mongodump archive can be read only once');
    started = true;
    try {
      for (;;) {
        const block = await blocks.next('the data');
        if (block === null) break;
        if (block.terminator) throw new MongoArchiveError('a terminator stands where a namespace header should be', block.offset);
        const h = decodeNamespaceHeader(block.document, block.offset);
        const ns = `${h.db}.${h.collection}`;
        const state = states.get(ns);
        if (state === undefined) throw new MongoArchiveError('the data has a namespace the prelude does not list', block.offset, ns);
        if (state.closed) throw new MongoArchiveError('a block of this namespace comes after its EOF block', block.offset, ns);
        if (!h.eof) {
          yield* segment(state, ns);
          continue;
        }
        const after = await blocks.next('an EOF block', ns);
        if (after === null) throw new MongoArchiveError('the archive is truncated: it ends inside an EOF block', blocks.offset, ns);
        if (!after.terminator) throw new MongoArchiveError('the EOF block is not followed by the terminator', after.offset, ns);
        const crc = state.crc.digestInt64();
        if (crc !== h.crc)
          throw new MongoArchiveError(
            `CRC mismatch: the ${state.documents} document(s) read checksum to ${crc}, the EOF block says ${h.crc}`,
            block.offset,
            ns,
          );
        state.closed = true;
        yield { kind: 'end', collection: state.collection, documents: state.documents, bytes: state.bytes, crc };
      }
      const open = [...states].filter(([, s]) => !s.closed).map(([ns]) => ns);
      if (open.length > 0)
        throw new MongoArchiveError(`the archive is truncated: it ends before the EOF block of ${open.join(', ')}`, blocks.offset);
    } finally {
      await blocks.close().catch(() => undefined);
    }
  }

  return { header, collections, gzipped, entries, close: () => blocks.close() };
}
