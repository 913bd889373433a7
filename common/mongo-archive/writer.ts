import { Readable } from 'node:stream';
import type { Document } from 'mongodb';
import { Crc64 } from './crc64';
import { encodeDocument } from './documents';
import {
  ARCHIVE_FORMAT_VERSION,
  ARCHIVE_MAGIC,
  type ArchiveCollection,
  type ArchiveHeader,
  dataNamespaceOf,
  MAX_BSON_SIZE,
  MIN_BSON_SIZE,
  MongoArchiveError,
  namespaceOf,
  TERMINATOR,
} from './format';
import { encodeNamespaceHeader } from './namespace-header';
import { checkCollection, encodeCollectionMetadata, encodeHeader } from './prelude';

/**
 * Writes a mongodump archive, as `mongodump --archive` does: the prelude (magic, header, every collection's
 * metadata) at once, then each collection's documents in segments, then its EOF block with the CRC-64 of
 * its documents. Several collections may be written at once (from parallel cursors): each has its own
 * segment buffer of `segmentBytes`, written out whole, so segments interleave as mongodump's do. `stream`
 * is the archive (pipe it through zlib's createGzip for `--gzip`); `write` and `end` wait while its reader
 * is behind, so memory stays at the segment buffers plus the stream's high-water mark.
 *
 * Every collection of the prelude must be ended, views too (mongodump writes an empty segment for each:
 * mongorestore creates the view when it meets it), before `finish`.
 */

export interface WriteArchiveOptions {
  /** The header's fields; format version 0.1 always. */
  readonly header?: Partial<Omit<ArchiveHeader, 'formatVersion'>>;
  /** A segment is written once its documents reach this many bytes; default 1 MiB. */
  readonly segmentBytes?: number;
  /** The stream's high-water mark in bytes; default 1 MiB. */
  readonly highWaterMark?: number;
}

/** A collection of the prelude, by its names. */
export interface CollectionName {
  readonly db: string;
  readonly collection: string;
}

interface Pending {
  readonly collection: ArchiveCollection;
  readonly crc: Crc64;
  buffer: Uint8Array[];
  buffered: number;
  written: number;
  ended: boolean;
}

export class MongoArchiveWriter {
  /** The archive's bytes (uncompressed). */
  readonly stream: Readable;
  private readonly pending = new Map<string, Pending>();
  private readonly segmentBytes: number;
  private waiters: (() => void)[] = [];
  private blocked = false;
  private failure: Error | undefined;
  private finished = false;

  constructor(collections: readonly ArchiveCollection[], options: WriteArchiveOptions = {}) {
    this.segmentBytes = options.segmentBytes ?? 1024 * 1024;
    const header: ArchiveHeader = {
      concurrentCollections: options.header?.concurrentCollections ?? 1,
      formatVersion: ARCHIVE_FORMAT_VERSION,
      serverVersion: options.header?.serverVersion ?? '',
      toolVersion: options.header?.toolVersion ?? '',
    };
    if (!Number.isInteger(header.concurrentCollections) || header.concurrentCollections < 0 || header.concurrentCollections > 0x7fffffff)
      throw new MongoArchiveError(`concurrentCollections ${header.concurrentCollections} is not a whole number of collections`);
    const prelude: Uint8Array[] = [ARCHIVE_MAGIC, encodeHeader(header)];
    for (const c of collections) {
      checkCollection(c);
      const key = namespaceOf(c);
      if (this.pending.has(key)) throw new MongoArchiveError('the collection is listed twice', undefined, key);
      this.pending.set(key, { collection: c, crc: new Crc64(), buffer: [], buffered: 0, written: 0, ended: false });
      prelude.push(encodeCollectionMetadata(c));
    }
    prelude.push(TERMINATOR);
    this.stream = new Readable({
      highWaterMark: options.highWaterMark ?? 1024 * 1024,
      read: () => this.wake(),
      destroy: (err, callback) => {
        this.failure ??= err ?? new Error('the mongodump archive stream was closed before the archive was finished');
        this.wake();
        callback(err);
      },
    });
    this.stream.push(Buffer.concat(prelude));
  }

  /** Adds one document (raw BSON bytes, kept until its segment is written, or an object) to a collection. */
  async write(name: CollectionName, document: Uint8Array | Document): Promise<void> {
    const p = this.open(name);
    if (p.collection.type === 'view') throw new MongoArchiveError('a view has no documents to write', undefined, namespaceOf(name));
    const bytes = encodeDocument(document);
    const size = bytes.length >= 4 ? bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24) : -1;
    if (size !== bytes.length || size < MIN_BSON_SIZE || bytes[size - 1] !== 0)
      throw new MongoArchiveError(
        `document ${p.written + 1} is not one BSON document (${bytes.length} bytes, length field ${size})`,
        undefined,
        namespaceOf(name),
      );
    if (size > MAX_BSON_SIZE) throw new MongoArchiveError(`document ${p.written + 1} is larger than 16 MiB`, undefined, namespaceOf(name));
    p.crc.update(bytes);
    p.buffer.push(bytes);
    p.buffered += size;
    p.written++;
    if (p.buffered >= this.segmentBytes) await this.emit(this.takeSegment(p));
  }

  /** Writes what is left of a collection's documents and its EOF block; no document may follow. */
  async end(name: CollectionName): Promise<void> {
    const p = this.open(name);
    p.ended = true;
    // A collection without documents still gets its (empty) segment, as mongodump writes it.
    const segment = p.buffer.length > 0 || p.written === 0 ? this.takeSegment(p) : [];
    const eof = encodeNamespaceHeader({ ...this.dataName(p), eof: true, crc: p.crc.digestInt64() });
    await this.emit(Buffer.concat([...segment, eof, TERMINATOR]));
  }

  /** Ends the archive; every collection of the prelude must have been ended. */
  finish(): void {
    this.check();
    const open = [...this.pending.values()].filter((p) => !p.ended).map((p) => namespaceOf(p.collection));
    if (open.length > 0) throw new MongoArchiveError(`cannot finish the archive: ${open.join(', ')} not ended`);
    this.finished = true;
    this.stream.push(null);
  }

  /** Fails the stream (its reader sees `err`); later writes throw. */
  abort(err: Error): void {
    this.stream.destroy(err);
  }

  private open(name: CollectionName): Pending {
    this.check();
    const p = this.pending.get(namespaceOf(name));
    if (p === undefined) throw new MongoArchiveError('the collection is not in the archive prelude', undefined, namespaceOf(name));
    if (p.ended) throw new MongoArchiveError('the collection was already ended', undefined, namespaceOf(name));
    return p;
  }

  private check(): void {
    if (this.failure) throw this.failure;
    if (this.finished) throw new MongoArchiveError('the archive is already finished');
  }

  private dataName(p: Pending): { db: string; collection: string } {
    return { db: p.collection.db, collection: dataNamespaceOf(p.collection).slice(p.collection.db.length + 1) };
  }

  private takeSegment(p: Pending): Uint8Array[] {
    const segment = [encodeNamespaceHeader({ ...this.dataName(p), eof: false, crc: 0n }), ...p.buffer, TERMINATOR];
    p.buffer = [];
    p.buffered = 0;
    return segment;
  }

  private async emit(chunk: Uint8Array | Uint8Array[]): Promise<void> {
    this.check();
    const bytes = Array.isArray(chunk) ? Buffer.concat(chunk) : chunk;
    if (!this.stream.push(bytes)) this.blocked = true;
    while (this.blocked) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      if (this.failure) throw this.failure;
    }
  }

  private wake(): void {
    this.blocked = false;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
