import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';
import { type Destination, type DumpRecord, fileOf, type MongoTarget } from '../../common/backup';
import { backupFailed } from '../../common/failures';
import { checkedCopy, type Expected } from '../files/backup-checks';
import { backupStore } from '../files/backup-store';
import { heartbeating } from '../heartbeating';
import { ARCHIVE_TOOL, archiveCollections, writeArchive } from './mongo-dump';
import { checkDumpFile, DumpRefused } from './mongo-dump-file';
import { type RestoreProgress, restoreDump } from './mongo-restore';
import { urlFromEnv } from './url-from-env';

async function withMongo<T>(urlEnv: string, work: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(urlFromEnv(urlEnv), { serverSelectionTimeoutMS: 10_000 });
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.close();
  }
}

async function counts(client: MongoClient, database: string): Promise<Record<string, number>> {
  const db = client.db(database);
  const found: Record<string, number> = {};
  for (const c of await db.listCollections({}, { nameOnly: true }).toArray()) {
    if (!c.name.startsWith('system.')) found[c.name] = await db.collection(c.name).countDocuments();
  }
  return found;
}

/** What a Mongo restore reads: a stored dump, held to its manifest; `from` is the database that was dumped. */
interface StoredDump {
  readonly destination: Destination;
  readonly key: string;
  readonly expected: Expected;
  /** The database whose collections are restored; default: the only one the dump holds. */
  readonly from?: string;
}

/**
 * MongoDB databases, dumped as `mongodump --archive --gzip` writes them (so `mongorestore --archive --gzip`
 * restores them) and restored from such archives (sciops' own or mongodump's) and from the `sciops-mongo/1`
 * dumps of earlier versions. The dump streams, one cursor batch in memory at a time.
 */
export function createMongoBackup(s3: () => S3Client) {
  /**
   * Restores a dump into database `into`: read once into a private local copy checked against the manifest,
   * that copy checked whole (every archive block and CRC-64, or every legacy line), and only then the
   * database dropped and filled from it. Returns its documents per collection.
   */
  async function restoreInto(
    client: MongoClient,
    source: StoredDump,
    into: string,
    progress: RestoreProgress & { bytes: number; total: number },
    signal: AbortSignal,
  ) {
    const { key } = source;
    const copy = await checkedCopy(backupStore(source.destination, s3), key, source.expected, (bytes, total) => {
      progress.bytes = bytes;
      progress.total = total;
    });
    try {
      progress.step = 'checking the dump';
      const dump = await checkDumpFile(copy.file, source.from).catch((err: unknown) => {
        if (err instanceof DumpRefused) throw backupFailed(`${key} cannot be restored: ${err.message}; nothing was changed`);
        throw err;
      });
      await restoreDump(client.db(into), dump, progress, signal);
      return counts(client, into);
    } finally {
      await copy.remove();
    }
  }

  return {
    async dumpMongo(input: { target: MongoTarget; destination: Destination; key: string }): Promise<DumpRecord> {
      const store = backupStore(input.destination, s3);
      return withMongo(input.target.urlEnv, async (client) => {
        const db = client.db(input.target.database);
        const server = String((await db.admin().command({ buildInfo: 1 })).version);
        const collections = await archiveCollections(db);
        const progress = { target: input.target.name, bytes: 0 };
        const { written, counts } = await heartbeating(progress, (signal) =>
          writeArchive(
            db,
            collections,
            server,
            store,
            input.key,
            (bytes) => {
              progress.bytes = bytes;
            },
            signal,
          ),
        );
        return {
          target: input.target.name,
          kind: 'mongo',
          file: fileOf(input.key),
          ...written,
          tool: ARCHIVE_TOOL,
          server,
          collections: counts,
          database: input.target.database,
        };
      });
    },

    /** Documents per collection (a count of each: a large collection takes a while, so it heartbeats). */
    async mongoDocuments(input: { target: MongoTarget }): Promise<Record<string, number>> {
      return heartbeating({ counting: input.target.database }, () =>
        withMongo(input.target.urlEnv, (client) => counts(client, input.target.database)),
      );
    },

    /**
     * Drops the target's database and loads the dump into it (the collections of the database it was taken
     * of, under their own names); returns documents per collection. A dump that fails its checks is refused
     * (BackupFailed) with the database untouched.
     */
    async restoreMongo(input: StoredDump & { target: MongoTarget }): Promise<Record<string, number>> {
      const progress = { restoring: input.key, bytes: 0, total: 0 };
      return withMongo(input.target.urlEnv, (client) =>
        heartbeating(progress, (signal) => restoreInto(client, input, input.target.database, progress, signal)),
      );
    },

    /**
     * Restores into a scratch database beside the source and returns its documents per collection. The
     * scratch database has a random name (`sciops_verify_<random>`) that must not exist yet, and only a
     * database this verification found absent and then filled is dropped afterwards.
     */
    async verifyMongoDump(input: StoredDump & { target: MongoTarget }): Promise<Record<string, number>> {
      const scratch = `sciops_verify_${randomBytes(8).toString('hex')}`;
      return withMongo(input.target.urlEnv, async (client) => {
        const { databases } = await client.db().admin().listDatabases({ nameOnly: true });
        if (databases.some((d) => d.name === scratch))
          throw backupFailed(`a database ${scratch} exists already: not used as a scratch database, try again`);
        const progress = { verifying: input.key, bytes: 0, total: 0 };
        try {
          return await heartbeating(progress, (signal) => restoreInto(client, input, scratch, progress, signal));
        } finally {
          await client.db(scratch).dropDatabase();
        }
      });
    },
  };
}
