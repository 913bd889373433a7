import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { BSON, type Document, MongoClient } from 'mongodb';
import { type Destination, type DumpRecord, fileOf, type MongoTarget } from '../../common/backup';
import { Failure } from '../../common/failures';
import { checkedCopy, type Expected } from '../files/backup-checks';
import { backupStore } from '../files/backup-store';
import { heartbeating } from '../heartbeating';
import { urlFromEnv } from './url-from-env';

const { EJSON } = BSON;
const FORMAT = 'sciops-mongo/1';
const DRIVER_VERSION = (require('mongodb/package.json') as { version: string }).version;
const BATCH = 1000;
const failed = (message: string) => ApplicationFailure.create({ type: Failure.backupFailed, nonRetryable: true, message });

/** The first line of a dump: the database, and each collection's options, indexes and count. */
interface Header {
  readonly format: typeof FORMAT;
  readonly database: string;
  readonly collections: Array<{ name: string; options: Document; indexes: Document[]; count: number }>;
}

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

/**
 * MongoDB databases, dumped and restored through the driver as gzipped canonical Extended JSON (every BSON
 * type kept exactly): a header line with each collection's options, indexes and count, then one line per
 * document. mongodump and mongorestore cannot be built here (their module is not on the Go module proxy), so
 * this is sciops' own format; the dump streams (one cursor batch in memory at a time) like the others.
 */
export function createMongoBackup(s3: () => S3Client) {
  /**
   * Restores a dump into database `into`: read once into a private local copy checked against the manifest,
   * its header parsed, and only then the database dropped and filled from that copy. Returns its documents
   * per collection.
   */
  async function restoreInto(
    client: MongoClient,
    source: { destination: Destination; key: string; expected: Expected },
    into: string,
    progress: { bytes: number; total: number },
  ) {
    const { key } = source;
    const copy = await checkedCopy(backupStore(source.destination, s3), key, source.expected, (bytes, total) => {
      progress.bytes = bytes;
      progress.total = total;
    });
    try {
      const lines = createInterface({ input: createReadStream(copy.file).pipe(createGunzip()), crlfDelay: Number.POSITIVE_INFINITY });
      // The iterator buffers lines from here on, so awaiting between reads loses none.
      const next = lines[Symbol.asyncIterator]();
      const first = await next.next();
      const header = first.done === true ? undefined : (JSON.parse(first.value) as Header);
      if (header === undefined) throw failed(`${key} is empty`);
      if (header.format !== FORMAT) throw failed(`${key} is not a ${FORMAT} dump`);
      const db = client.db(into);
      await db.dropDatabase();
      for (const c of header.collections) await db.createCollection(c.name, EJSON.deserialize(c.options) as Document);
      let batch: { collection: string; docs: Document[] } = { collection: '', docs: [] };
      const flush = async () => {
        if (batch.docs.length > 0) await db.collection(batch.collection).insertMany(batch.docs, { ordered: true });
        batch = { collection: batch.collection, docs: [] };
      };
      for (let line = await next.next(); line.done !== true; line = await next.next()) {
        if (line.value === '') continue;
        const { c, d } = EJSON.parse(line.value, { relaxed: false }) as { c: string; d: Document };
        if (c !== batch.collection || batch.docs.length >= BATCH) {
          await flush();
          batch.collection = c;
        }
        batch.docs.push(d);
      }
      await flush();
      for (const c of header.collections) {
        const indexes = c.indexes.filter((i) => i.name !== '_id_').map((i) => EJSON.deserialize(i) as Document);
        for (const { key: spec, name, v: _v, ns: _ns, ...options } of indexes) {
          await db.collection(c.name).createIndex(spec as Document, { name: name as string, ...options });
        }
      }
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
        const names = (await db.listCollections({}, { nameOnly: true }).toArray())
          .map((c) => c.name)
          .filter((n) => !n.startsWith('system.'));
        const header: Header = { format: FORMAT, database: input.target.database, collections: [] };
        for (const name of names.sort()) {
          const [info] = await db.listCollections({ name }).toArray();
          header.collections.push({
            name,
            options: EJSON.serialize((info as { options?: Document } | undefined)?.options ?? {}) as Document,
            indexes: (await db.collection(name).indexes()).map((i) => EJSON.serialize(i) as Document),
            count: await db.collection(name).countDocuments(),
          });
        }
        async function* lines() {
          yield `${JSON.stringify(header)}\n`;
          for (const { name } of header.collections) {
            for await (const d of db.collection(name).find({}, { batchSize: BATCH }))
              yield `${EJSON.stringify({ c: name, d }, { relaxed: false })}\n`;
          }
        }
        const progress = { target: input.target.name, bytes: 0 };
        const written = await heartbeating(progress, () =>
          store.write(input.key, Readable.from(lines()).pipe(createGzip()), (bytes) => {
            progress.bytes = bytes;
          }),
        );
        const buildInfo = await db.admin().command({ buildInfo: 1 });
        return {
          target: input.target.name,
          kind: 'mongo',
          file: fileOf(input.key),
          ...written,
          tool: `mongodb driver ${DRIVER_VERSION} (${FORMAT})`,
          server: String(buildInfo.version),
          collections: Object.fromEntries(header.collections.map((c) => [c.name, c.count])),
        };
      });
    },

    async mongoDocuments(input: { target: MongoTarget }): Promise<Record<string, number>> {
      return withMongo(input.target.urlEnv, (client) => counts(client, input.target.database));
    },

    /** Drops the target's database and loads the dump into it, whatever database it came from; returns documents per collection. */
    async restoreMongo(input: {
      target: MongoTarget;
      destination: Destination;
      key: string;
      expected: Expected;
    }): Promise<Record<string, number>> {
      const progress = { restoring: input.key, bytes: 0, total: 0 };
      return withMongo(input.target.urlEnv, (client) =>
        heartbeating(progress, () => restoreInto(client, input, input.target.database, progress)),
      );
    },

    /**
     * Restores into a scratch database beside the source and returns its documents per collection. The
     * scratch database has a random name (`sciops_verify_<random>`) that must not exist yet, and only a
     * database this verification found absent and then filled is dropped afterwards.
     */
    async verifyMongoDump(input: {
      target: MongoTarget;
      destination: Destination;
      key: string;
      expected: Expected;
    }): Promise<Record<string, number>> {
      const scratch = `sciops_verify_${randomBytes(8).toString('hex')}`;
      return withMongo(input.target.urlEnv, async (client) => {
        const { databases } = await client.db().admin().listDatabases({ nameOnly: true });
        if (databases.some((d) => d.name === scratch))
          throw failed(`a database ${scratch} exists already: not used as a scratch database, try again`);
        try {
          return await heartbeating({ verifying: input.key }, () => restoreInto(client, input, scratch, { bytes: 0, total: 0 }));
        } finally {
          await client.db(scratch).dropDatabase();
        }
      });
    },
  };
}
