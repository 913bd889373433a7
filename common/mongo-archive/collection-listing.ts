import { BSON } from 'mongodb';
import type { ArchiveCollection, CollectionType, IndexDefinition } from './format';

/**
 * A prelude entry from what a server says of a collection, as mongodump builds it: the `listCollections`
 * entry gives the type, the options and the UUID (`info.uuid`, binary subtype 4, written as hex), and
 * `listIndexes` the indexes, as they are. `size` is the documents' size in bytes if known (collStats).
 */
export interface ListedCollection {
  readonly name: string;
  readonly type?: string;
  readonly options?: Record<string, unknown>;
  readonly info?: { readonly uuid?: unknown };
}

export function collectionFromListing(
  db: string,
  listed: ListedCollection,
  indexes: readonly Record<string, unknown>[],
  size = 0,
): ArchiveCollection {
  const type: CollectionType = listed.type === 'view' || listed.type === 'timeseries' ? listed.type : 'collection';
  const uuid = listed.info?.uuid;
  const base: ArchiveCollection = {
    db,
    collection: listed.name,
    type,
    options: listed.options ?? {},
    // mongodump writes no indexes for a view.
    indexes: type === 'view' ? [] : (indexes as IndexDefinition[]),
    size,
  };
  if (uuid instanceof BSON.Binary && uuid.sub_type === BSON.Binary.SUBTYPE_UUID)
    return { ...base, uuid: Buffer.from(uuid.buffer).toString('hex') };
  return base;
}
