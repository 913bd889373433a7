import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { BSON, type Document } from 'mongodb';
import { gunzipped } from '../files/backup-checks';
import { indexToCreate, type RestoreCollection } from './mongo-restore-plan';

/**
 * Reading the dumps of sciops before it wrote mongodump archives: `sciops-mongo/1`, gzipped canonical
 * Extended JSON lines. The first line is a header (the database, and each collection's options, indexes
 * and count as EJSON-serialized objects); every other line is `{"c": collection, "d": document}`. Read only,
 * so that the runs of earlier versions still restore; nothing writes this format any more.
 */

const { EJSON } = BSON;
export const LEGACY_FORMAT = 'sciops-mongo/1';
/**
 * The longest line read: a 16 MiB document (the server's limit) takes at most about three times as many
 * bytes as canonical Extended JSON. A longer line is not a document this format can hold, and is refused
 * before it is all in memory.
 */
export const LEGACY_MAX_LINE = 48 * 1024 * 1024;
/** An insertMany batch holds at most this many documents, and about this many bytes of their lines. */
const BATCH_DOCUMENTS = 1000;
const BATCH_BYTES = 4 * 1024 * 1024;

/** Thrown when a legacy dump is not what sciops-mongo/1 writes; says where. */
export class LegacyDumpError extends Error {
  override readonly name = 'LegacyDumpError';
}

interface LegacyHeader {
  readonly format: string;
  readonly database: string;
  readonly collections: ReadonlyArray<{ name: string; options?: Document; indexes?: Document[]; count?: number }>;
}

/**
 * The lines of a byte stream (split at LF; a last line without one counts), each at most `maxBytes` long:
 * a longer line is refused as soon as that many bytes of it are read.
 */
export async function* boundedLines(input: AsyncIterable<Buffer>, maxBytes: number): AsyncGenerator<string> {
  let parts: Buffer[] = [];
  let size = 0;
  let line = 1;
  const tooLong = () => new LegacyDumpError(`line ${line} is longer than ${maxBytes} bytes`);
  for await (const chunk of input) {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
      if (size + nl - start > maxBytes) throw tooLong();
      parts.push(chunk.subarray(start, nl));
      yield Buffer.concat(parts).toString('utf8');
      parts = [];
      size = 0;
      line++;
      start = nl + 1;
    }
    if (start < chunk.length) {
      size += chunk.length - start;
      if (size > maxBytes) throw tooLong();
      parts.push(chunk.subarray(start));
    }
  }
  if (size > 0) yield Buffer.concat(parts).toString('utf8');
}

/** The lines of a gzipped stream; a gzip error says so. */
async function* dumpLines(source: Readable): AsyncGenerator<{ text: string; number: number }> {
  const gunzip = gunzipped(source);
  let number = 0;
  try {
    for await (const text of boundedLines(gunzip, LEGACY_MAX_LINE)) yield { text, number: ++number };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('Z_'))
      throw new LegacyDumpError(`it cannot be gunzipped after line ${number} (${(err as Error).message})`);
    throw err;
  } finally {
    gunzip.destroy();
  }
}

function parseHeader(text: string): LegacyHeader {
  let header: LegacyHeader;
  try {
    header = JSON.parse(text) as LegacyHeader;
  } catch (err) {
    throw new LegacyDumpError(`its first line is not a JSON header (${(err as Error).message})`);
  }
  if (header?.format !== LEGACY_FORMAT)
    throw new LegacyDumpError(`its header names format ${JSON.stringify(header?.format)}, not ${LEGACY_FORMAT}`);
  if (typeof header.database !== 'string' || !Array.isArray(header.collections))
    throw new LegacyDumpError('its header lacks the database or the collections');
  for (const c of header.collections)
    if (typeof c?.name !== 'string' || c.name === '') throw new LegacyDumpError('its header lists a collection without a name');
  return header;
}

function parseDocument(text: string, number: number, names: ReadonlySet<string>): { c: string; d: Document } {
  let line: { c?: unknown; d?: unknown };
  try {
    line = EJSON.parse(text, { relaxed: false }) as typeof line;
  } catch (err) {
    throw new LegacyDumpError(`line ${number} is not Extended JSON (${(err as Error).message})`);
  }
  if (typeof line?.c !== 'string' || typeof line.d !== 'object' || line.d === null || Array.isArray(line.d))
    throw new LegacyDumpError(`line ${number} is not a {c, d} document line`);
  if (!names.has(line.c)) throw new LegacyDumpError(`line ${number} is a document of ${line.c}, which the header does not list`);
  return line as { c: string; d: Document };
}

/** A legacy dump, read through once and checked: every line within the cap and parsed. */
export interface LegacyDump {
  readonly database: string;
  readonly collections: readonly RestoreCollection[];
  /** The documents, again from the file, in batches of one collection each. */
  batches(): AsyncGenerator<{ collection: string; documents: Document[] }>;
}

/** Reads a legacy dump through, every line parsed; its header. Throws LegacyDumpError naming the line at fault. */
async function readThrough(source: Readable): Promise<LegacyHeader> {
  let header: LegacyHeader | undefined;
  let names = new Set<string>();
  for await (const { text, number } of dumpLines(source)) {
    if (header === undefined) {
      header = parseHeader(text);
      names = new Set(header.collections.map((c) => c.name));
    } else if (text !== '') parseDocument(text, number, names);
  }
  if (header === undefined) throw new LegacyDumpError('it is empty');
  return header;
}

/**
 * Reads a legacy dump through as it streams past (a stored file checked before a restore locks anything) and
 * returns the database it is of. Throws LegacyDumpError naming the line at fault.
 */
export async function checkLegacyStream(source: Readable): Promise<{ database: string }> {
  return { database: (await readThrough(source)).database };
}

/**
 * Reads a legacy dump through (the check to make before anything is dropped) and returns how to restore
 * it. Throws LegacyDumpError naming the line at fault.
 */
export async function checkLegacyDump(file: string): Promise<LegacyDump> {
  const header = await readThrough(createReadStream(file));
  const names = new Set(header.collections.map((c) => c.name));
  const collections: RestoreCollection[] = header.collections.map((c) => {
    const options = EJSON.deserialize(c.options ?? {}) as Document;
    // That version listed views too, with the documents they showed: a view is created, never written to.
    const view = typeof options.viewOn === 'string';
    return {
      name: c.name,
      type: view ? 'view' : 'collection',
      options,
      indexes: view
        ? []
        : (c.indexes ?? [])
            .map((i) => EJSON.deserialize(i) as Document)
            .filter((i) => i.name !== '_id_')
            .map(indexToCreate),
      data: c.name,
    };
  });
  const views = new Set(collections.filter((c) => c.type === 'view').map((c) => c.name));
  return {
    database: header.database,
    collections,
    async *batches() {
      let batch: { collection: string; documents: Document[] } = { collection: '', documents: [] };
      let bytes = 0;
      for await (const { text, number } of dumpLines(createReadStream(file))) {
        if (number === 1 || text === '') continue;
        const { c, d } = parseDocument(text, number, names);
        if (views.has(c)) continue;
        if (c !== batch.collection || batch.documents.length >= BATCH_DOCUMENTS || bytes >= BATCH_BYTES) {
          if (batch.documents.length > 0) yield batch;
          batch = { collection: c, documents: [] };
          bytes = 0;
        }
        batch.documents.push(d);
        bytes += text.length;
      }
      if (batch.documents.length > 0) yield batch;
    },
  };
}
