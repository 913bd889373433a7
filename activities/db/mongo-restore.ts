import type { Db } from 'mongodb';
import type { CheckedDump } from './mongo-dump-file';
import { ParallelInserts } from './mongo-inserts';

/** What a restore has done so far, for its heartbeats. */
export interface RestoreProgress {
  step?: string;
  documents?: number;
}

/**
 * Replaces database `db` with a checked dump: drops it, creates every collection with its options, inserts
 * the documents (a few batches in flight per collection), then creates the indexes, after the data as
 * mongorestore does. Stops between batches once `signal` aborts (the activity was cancelled).
 */
export async function restoreDump(db: Db, dump: CheckedDump, progress: RestoreProgress, signal?: AbortSignal): Promise<void> {
  progress.step = 'dropping the database';
  await db.dropDatabase();
  progress.step = 'creating collections';
  for (const c of dump.collections) await db.command({ create: c.name, ...c.options });
  progress.step = 'inserting documents';
  const inserts = new ParallelInserts(db);
  try {
    for await (const batch of dump.batches()) {
      signal?.throwIfAborted();
      await inserts.add(batch.collection, batch.documents);
      progress.documents = inserts.inserted;
    }
  } catch (err) {
    await inserts.drain().catch(() => undefined);
    throw err;
  }
  await inserts.drain();
  progress.documents = inserts.inserted;
  progress.step = 'creating indexes';
  for (const c of dump.collections) if (c.indexes.length > 0) await db.command({ createIndexes: c.name, indexes: c.indexes as unknown[] });
}
