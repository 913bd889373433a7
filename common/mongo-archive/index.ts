/**
 * The mongodump archive format (`mongodump --archive [--gzip]`), both ways, as streams, and mongorestore's
 * `--nsFrom/--nsTo` renames. Node streams only: activities import it, workflows must not.
 */

export { collectionFromListing, type ListedCollection } from './collection-listing';
export { Crc64 } from './crc64';
export { decodeDocument, encodeDocument } from './documents';
export {
  ARCHIVE_FORMAT_VERSION,
  type ArchiveCollection,
  type ArchiveHeader,
  type CollectionType,
  dataNamespaceOf,
  type IndexDefinition,
  MongoArchiveError,
  namespaceOf,
} from './format';
export {
  type NamespaceRename,
  NamespaceRenameError,
  NamespaceRenamer,
  planRenames,
  splitNamespace,
} from './namespace-rename';
export { type ArchiveEntry, type MongoArchiveReader, openArchive, type ReadArchiveOptions } from './reader';
export { type ArchiveScan, scanArchive } from './scan';
export { type CollectionName, MongoArchiveWriter, type WriteArchiveOptions } from './writer';
