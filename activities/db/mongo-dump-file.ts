import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { constants, gunzipSync } from 'node:zlib';
import type { Document } from 'mongodb';
import { decodeDocument, MongoArchiveError, openArchive, scanArchive } from '../../common/mongo-archive';
import { checkLegacyDump, LEGACY_FORMAT, LegacyDumpError } from './mongo-legacy-dump';
import { archivePlan, type RestoreCollection } from './mongo-restore-plan';

/**
 * A Mongo dump file (a private, checksummed local copy), told apart by its content and checked whole before
 * a restore touches any database: a mongodump archive (sciops' own or mongodump's, gzipped or not) is read
 * through with every block and every namespace's CRC-64 checked, a `sciops-mongo/1` dump with every line
 * parsed. What a restore then reads from it is the same file, read once more.
 */

/** Thrown when a dump cannot be restored, saying why; nothing has been changed when it is. */
export class DumpRefused extends Error {
  override readonly name = 'DumpRefused';
}

/** A dump file, checked, and what restoring it writes. */
export interface CheckedDump {
  /** `mongodump archive` or `sciops-mongo/1`. */
  readonly format: string;
  /** The database whose collections are restored (undefined: an empty archive, which names none). */
  readonly database: string | undefined;
  readonly collections: readonly RestoreCollection[];
  /** The documents, in bounded batches of one collection each (`collection` is a RestoreCollection's `data`). */
  batches(): AsyncGenerator<{ collection: string; documents: Document[] }>;
}

const GZIP = [0x1f, 0x8b];

/** The first byte of the file's content, gunzipped when the file is gzipped (undefined: a broken gzip start). */
async function firstContentByte(file: string): Promise<number | undefined> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read({ buffer: Buffer.alloc(64 * 1024), position: 0 });
    const head = buffer.subarray(0, bytesRead);
    if (bytesRead === 0) throw new DumpRefused('the file is empty');
    if (head[0] !== GZIP[0] || head[1] !== GZIP[1]) return head[0];
    try {
      return gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH })[0];
    } catch {
      // A gzip stream broken from its start: the archive reader says how.
      return undefined;
    }
  } finally {
    await handle.close();
  }
}

async function checkArchive(file: string, from: string | undefined): Promise<CheckedDump> {
  let scanned: Awaited<ReturnType<typeof scanArchive>>;
  try {
    scanned = await scanArchive(createReadStream(file));
  } catch (err) {
    if (err instanceof MongoArchiveError) throw new DumpRefused(err.message);
    throw err;
  }
  const plan = archivePlan(scanned.collections, from);
  if (plan.refused !== undefined) throw new DumpRefused(`mongodump archive: ${plan.refused}`);
  const database = plan.database;
  return {
    format: 'mongodump archive',
    database,
    collections: plan.collections,
    async *batches() {
      const archive = await openArchive(createReadStream(file));
      for await (const entry of archive.entries()) {
        if (entry.kind !== 'documents' || entry.collection.db !== database) continue;
        const data = plan.collections.find((c) => c.name === entry.collection.collection)?.data;
        if (data !== undefined) yield { collection: data, documents: entry.documents.map(decodeDocument) };
      }
    },
  };
}

async function checkLegacy(file: string, from: string | undefined): Promise<CheckedDump> {
  try {
    const dump = await checkLegacyDump(file);
    if (from !== undefined && dump.database !== from)
      throw new DumpRefused(`${LEGACY_FORMAT} dump: it is a dump of database ${dump.database}, not of ${from}`);
    return { format: LEGACY_FORMAT, ...dump, batches: () => dump.batches() };
  } catch (err) {
    if (err instanceof LegacyDumpError) throw new DumpRefused(`${LEGACY_FORMAT} dump: ${err.message}`);
    throw err;
  }
}

/**
 * Checks a dump file whole and says what restoring it writes: the collections of database `from` (the one
 * backed up; without it, the archive's only database). A file whose content starts with `{` is a
 * `sciops-mongo/1` dump, anything else is read as a mongodump archive (whose magic number is checked).
 * Throws DumpRefused saying what is wrong.
 */
export async function checkDumpFile(file: string, from?: string): Promise<CheckedDump> {
  const first = await firstContentByte(file);
  return first === '{'.charCodeAt(0) ? checkLegacy(file, from) : checkArchive(file, from);
}
