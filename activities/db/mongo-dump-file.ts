import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { constants, gunzipSync } from 'node:zlib';
import type { Document } from 'mongodb';
import { decodeDocument, MongoArchiveError, openArchive, scanArchive } from '../../common/mongo-archive';
import { checkLegacyDump, checkLegacyStream, LEGACY_FORMAT, LegacyDumpError } from './mongo-legacy-dump';
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
/** How much of a dump's start is read to tell its format. */
const HEAD = 64 * 1024;

/** The first byte of a dump's content from its first bytes, gunzipped when gzipped (undefined: a broken gzip start). */
function contentStart(head: Buffer): number | undefined {
  if (head[0] !== GZIP[0] || head[1] !== GZIP[1]) return head[0];
  try {
    return gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH })[0];
  } catch {
    // A gzip stream broken from its start: the archive reader says how.
    return undefined;
  }
}

/** The first byte of the file's content (see contentStart). */
async function firstContentByte(file: string): Promise<number | undefined> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read({ buffer: Buffer.alloc(HEAD), position: 0 });
    if (bytesRead === 0) throw new DumpRefused('the file is empty');
    return contentStart(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/** A file whose content starts with `{` is a `sciops-mongo/1` dump; anything else is read as an archive. */
const isLegacy = (first: number | undefined) => first === '{'.charCodeAt(0);

/** Refuses a legacy dump of another database than `from`. */
function legacyOf(database: string, from: string | undefined): void {
  if (from !== undefined && database !== from)
    throw new DumpRefused(`${LEGACY_FORMAT} dump: it is a dump of database ${database}, not of ${from}`);
}

/** Runs a legacy check, its LegacyDumpError a DumpRefused. */
async function legacyChecked<T>(check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (err) {
    if (err instanceof LegacyDumpError) throw new DumpRefused(`${LEGACY_FORMAT} dump: ${err.message}`);
    throw err;
  }
}

/** An archive read through (every block and CRC-64), and what restoring database `from` of it writes. */
async function scannedPlan(input: AsyncIterable<Uint8Array>, from: string | undefined) {
  let scanned: Awaited<ReturnType<typeof scanArchive>>;
  try {
    scanned = await scanArchive(input);
  } catch (err) {
    if (err instanceof MongoArchiveError) throw new DumpRefused(err.message);
    throw err;
  }
  const plan = archivePlan(scanned.collections, from);
  if (plan.refused !== undefined) throw new DumpRefused(`mongodump archive: ${plan.refused}`);
  return plan;
}

async function checkArchive(file: string, from: string | undefined): Promise<CheckedDump> {
  const plan = await scannedPlan(createReadStream(file), from);
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
  const dump = await legacyChecked(() => checkLegacyDump(file));
  legacyOf(dump.database, from);
  return { format: LEGACY_FORMAT, ...dump, batches: () => dump.batches() };
}

/**
 * Checks a dump file whole and says what restoring it writes: the collections of database `from` (the one
 * backed up; without it, the archive's only database). A file whose content starts with `{` is a
 * `sciops-mongo/1` dump, anything else is read as a mongodump archive (whose magic number is checked).
 * Throws DumpRefused saying what is wrong.
 */
export async function checkDumpFile(file: string, from?: string): Promise<CheckedDump> {
  return isLegacy(await firstContentByte(file)) ? checkLegacy(file, from) : checkArchive(file, from);
}

/**
 * The same check as checkDumpFile, of a dump as it streams past: what the file store's read of a stored dump
 * runs, so that a dump a restore would refuse is refused before the restore locks, pauses or backs up
 * anything. Holds one chunk (and an archive block, or a legacy line) at a time. Throws DumpRefused.
 */
export async function checkDumpStream(input: AsyncIterable<Buffer>, from?: string): Promise<void> {
  const chunks = input[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  while (size < HEAD) {
    const next = await chunks.next();
    if (next.done) break;
    head.push(next.value);
    size += next.value.length;
  }
  if (size === 0) throw new DumpRefused('the file is empty');
  async function* replayed(): AsyncGenerator<Buffer> {
    try {
      yield* head;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
    } finally {
      await chunks.return?.();
    }
  }
  if (isLegacy(contentStart(Buffer.concat(head, size)))) {
    legacyOf((await legacyChecked(() => checkLegacyStream(Readable.from(replayed())))).database, from);
  } else await scannedPlan(replayed(), from);
}
