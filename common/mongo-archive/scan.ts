import type { ArchiveCollection, ArchiveHeader } from './format';
import { namespaceOf } from './format';
import { openArchive, type ReadArchiveOptions } from './reader';

/** What a whole pass over an archive found: the prelude, and per collection its documents and bytes. */
export interface ArchiveScan {
  readonly header: ArchiveHeader;
  readonly gzipped: boolean;
  readonly collections: readonly (ArchiveCollection & { readonly documents: number; readonly bytes: number })[];
}

/**
 * Reads a whole archive, checking every block and every namespace's CRC, and keeps only counts: the check
 * to run before anything is dropped or written, when the input can be read twice. Throws the reader's
 * `MongoArchiveError`.
 */
export async function scanArchive(input: AsyncIterable<Uint8Array>, options: ReadArchiveOptions = {}): Promise<ArchiveScan> {
  const archive = await openArchive(input, options);
  const counts = new Map<string, { documents: number; bytes: number }>();
  for await (const entry of archive.entries())
    if (entry.kind === 'end') counts.set(namespaceOf(entry.collection), { documents: entry.documents, bytes: entry.bytes });
  return {
    header: archive.header,
    gzipped: archive.gzipped,
    collections: archive.collections.map((c) => ({ ...c, documents: 0, bytes: 0, ...counts.get(namespaceOf(c)) })),
  };
}
