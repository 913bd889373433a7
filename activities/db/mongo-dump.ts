import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Db } from 'mongodb';
import {
  ARCHIVE_FORMAT_VERSION,
  type ArchiveCollection,
  collectionFromListing,
  dataNamespaceOf,
  MongoArchiveWriter,
} from '../../common/mongo-archive';
import type { BackupStore, Written } from '../files/backup-store';
import { parallelGzip } from '../files/parallel-gzip';

/** The driver's own version, for the dump record. */
const DRIVER_VERSION = (require('mongodb/package.json') as { version: string }).version;
/** Documents per cursor batch: the most of a collection held in memory at once (with one archive segment). */
const CURSOR_BATCH = 1000;
/** Numbers exactly as the server has them (Int32, Long, Double), for the collection options. */
const EXACT = { promoteValues: false } as const;

/** The version of sciops in its package.json, found upwards from here (source tree and built image alike). */
function sciopsVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'sciops' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here: look further up
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

/** What wrote the archive, as the dump record's `tool` and the archive header's `tool_version` say it. */
export const ARCHIVE_TOOL = `sciops ${sciopsVersion()} (mongodump archive format ${ARCHIVE_FORMAT_VERSION}, mongodb driver ${DRIVER_VERSION})`;

/**
 * The prelude of a database's archive, as mongodump builds it: every collection but `system.*` ones, with
 * its type, options and UUID from listCollections, its indexes from listIndexes (none for a view) and its
 * size from collStats. Sorted by name, so that two dumps of the same data have the same prelude.
 */
export async function archiveCollections(db: Db): Promise<ArchiveCollection[]> {
  const listed = (await db.listCollections({}, EXACT).toArray()).filter((c) => !c.name.startsWith('system.'));
  const out: ArchiveCollection[] = [];
  for (const c of listed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const view = c.type === 'view';
    const indexes = view ? [] : await db.collection(c.name).listIndexes(EXACT).toArray();
    const size = view ? 0 : Number((await db.command({ collStats: c.name })).size ?? 0);
    out.push(collectionFromListing(db.databaseName, c, indexes, Number.isSafeInteger(size) && size >= 0 ? size : 0));
  }
  return out;
}

/**
 * Writes a database as `mongodump --archive --gzip` does, streamed into the store at `key`: the prelude,
 * then each collection's documents (raw BSON, as the server sent them; a time-series collection's are its
 * buckets, a view has none), one collection at a time, one cursor batch and one archive segment in memory.
 * Returns what was written and the documents of each collection, counted as they went into the archive.
 * Once `signal` aborts (the activity was cancelled) the archive is abandoned, and the store keeps no file.
 */
export async function writeArchive(
  db: Db,
  collections: readonly ArchiveCollection[],
  serverVersion: string,
  store: BackupStore,
  key: string,
  onBytes: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<{ written: Written; counts: Record<string, number> }> {
  const writer = new MongoArchiveWriter(collections, { header: { concurrentCollections: 1, serverVersion, toolVersion: ARCHIVE_TOOL } });
  // `--gzip` gzips the whole archive: members of one .gz, compressed on every core (mongorestore reads them as one).
  const gzip = parallelGzip();
  writer.stream.on('error', (err) => gzip.destroy(err));
  writer.stream.pipe(gzip);
  const writing = store.write(key, gzip, onBytes);
  // A store that gives up (disk full, bucket refused) must not leave the producer waiting for a reader.
  writing.catch((err: Error) => writer.abort(err));
  const counts: Record<string, number> = {};
  const producing = (async () => {
    for (const c of collections) {
      let documents = 0;
      if (c.type !== 'view') {
        const source = db.collection(dataNamespaceOf(c).slice(c.db.length + 1));
        for await (const raw of source.find({}, { raw: true, batchSize: CURSOR_BATCH })) {
          if (documents % CURSOR_BATCH === 0) signal?.throwIfAborted();
          await writer.write(c, raw as unknown as Buffer);
          documents++;
        }
      }
      await writer.end(c);
      counts[c.collection] = documents;
    }
    writer.finish();
  })().catch((err: Error) => {
    writer.abort(err);
    throw err;
  });
  const [written] = await Promise.all([writing, producing]);
  return { written, counts };
}
