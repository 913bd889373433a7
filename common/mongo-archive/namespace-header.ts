import { BSON } from 'mongodb';
import { MongoArchiveError } from './format';

/**
 * The document that opens every block after the prelude: `{db, collection, EOF, CRC}`. A segment's has
 * EOF false and CRC 0; an EOF block's has EOF true and the CRC-64 of all the namespace's documents, as
 * the int64 Go's `int64(crc.Sum64())` makes of it.
 */
export interface NamespaceHeader {
  readonly db: string;
  /** The data collection: `system.buckets.<name>` for a time-series collection. */
  readonly collection: string;
  readonly eof: boolean;
  readonly crc: bigint;
}

export function encodeNamespaceHeader(h: NamespaceHeader): Uint8Array {
  return BSON.serialize({ db: h.db, collection: h.collection, EOF: h.eof, CRC: BSON.Long.fromBigInt(h.crc) });
}

export function decodeNamespaceHeader(bytes: Uint8Array, offset: number): NamespaceHeader {
  let doc: Record<string, unknown>;
  try {
    doc = BSON.deserialize(bytes, { useBigInt64: true });
  } catch (err) {
    throw new MongoArchiveError(`a namespace header is not a valid BSON document: ${(err as Error).message}`, offset);
  }
  const name = typeof doc.db === 'string' && typeof doc.collection === 'string' ? `${doc.db}.${doc.collection}` : undefined;
  const fail = (why: string): never => {
    throw new MongoArchiveError(`invalid namespace header: ${why}`, offset, name);
  };
  if (typeof doc.db !== 'string') fail('db is not a string');
  if (typeof doc.collection !== 'string' || doc.collection === '') fail('collection is missing');
  const eof = doc.EOF ?? false;
  if (typeof eof !== 'boolean') fail('EOF is not a boolean');
  const crc = doc.CRC ?? 0n;
  if (typeof crc !== 'bigint' && !(typeof crc === 'number' && Number.isSafeInteger(crc))) fail('CRC is not an integer');
  return { db: doc.db as string, collection: doc.collection as string, eof: eof as boolean, crc: BigInt(crc as bigint | number) };
}
