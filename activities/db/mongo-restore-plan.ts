import type { Document } from 'mongodb';
import { type ArchiveCollection, type CollectionType, dataNamespaceOf } from '../../common/mongo-archive';

/**
 * Which collections a restore writes, decided from a dump before anything is dropped. Pure.
 */

/** One collection a restore creates in the target database, as the dump describes it. */
export interface RestoreCollection {
  /** Its name in the target database. */
  readonly name: string;
  readonly type: CollectionType;
  /** The `create` command's options (capped, size, validator, viewOn and pipeline, timeseries, ...). */
  readonly options: Document;
  /** Its indexes but `_id_` (created with the collection), each without `v` and `ns`: created after the data. */
  readonly indexes: readonly Document[];
  /** Where its documents go: itself, or a time-series collection's buckets (`system.buckets.<name>`). */
  readonly data: string;
}

/** The collections a restore writes, or why the dump cannot be restored. */
export type RestorePlan =
  | { readonly database: string | undefined; readonly collections: readonly RestoreCollection[]; readonly refused?: undefined }
  | { readonly refused: string };

/**
 * An index as `createIndexes` takes it: without the `v` the server sets itself, and without the `ns` that
 * servers before 4.4 recorded (and mongorestore sends back), which FerretDB refuses as an unknown option.
 */
export function indexToCreate({ v: _v, ns: _ns, ...index }: Document): Document {
  return index;
}

function toRestore(c: ArchiveCollection): RestoreCollection {
  return {
    name: c.collection,
    type: c.type,
    options: c.options,
    indexes: c.indexes.filter((i) => i.name !== '_id_').map(indexToCreate),
    data: dataNamespaceOf(c).slice(c.db.length + 1),
  };
}

/**
 * The collections of an archive's prelude a restore writes: those of database `from` (the database that was
 * backed up), or, without `from`, of the only database the archive holds. Each keeps its name in the target
 * database. Refused: an archive that holds collections but none of `from`, or those of several databases
 * when `from` is not given. An archive without any collection (the dump of an empty database) restores an
 * empty database.
 */
export function archivePlan(collections: readonly ArchiveCollection[], from?: string): RestorePlan {
  const databases = [...new Set(collections.map((c) => c.db))];
  if (databases.length === 0) return { database: from, collections: [] };
  const listed = databases.join(', ');
  if (from === undefined && databases.length > 1)
    return { refused: `it holds the collections of several databases (${listed}) and which one to restore was not said` };
  const database = from ?? databases[0];
  const chosen = collections.filter((c) => c.db === database);
  if (chosen.length === 0) return { refused: `it holds no collection of database ${database} (only of ${listed})` };
  return { database, collections: chosen.map(toRestore) };
}
