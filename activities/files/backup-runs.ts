import { Readable, Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { type Destination, type DumpRecord, RUN_ID, runPath } from '../../common/backup';
import { checkedManifest, MANIFEST_FILE, type Manifest } from '../../common/backup-manifest';
import { SqlDumpLines } from '../../common/backup-sql-dump';
import { Failure, permanent } from '../../common/failures';
import { checkDumpStream, DumpRefused } from '../db/mongo-dump-file';
import { heartbeating } from '../heartbeating';
import { checksumOf, mismatch } from './backup-checks';
import { backupStore } from './backup-store';

/**
 * The runs of a backup in its destination: `<backup>/<run>/`, complete once its manifest is there (written
 * last). Listing, manifests, checksums and pruning.
 */
export function createBackupRuns(s3: () => S3Client) {
  return {
    async writeManifest(input: { destination: Destination; manifest: Manifest }): Promise<void> {
      const store = backupStore(input.destination, s3);
      await store.write(
        `${runPath(input.manifest.backup, input.manifest.run)}${MANIFEST_FILE}`,
        Readable.from([JSON.stringify(input.manifest, null, 2)]),
      );
    },

    /**
     * The run's manifest, checked (see checkedManifest): null when there is none (the run is incomplete); a
     * manifest that is not valid JSON, not of this run or not consistent is refused, naming what is wrong.
     */
    async readManifest(input: { destination: Destination; backup: string; run: string }): Promise<Manifest | null> {
      const key = `${runPath(input.backup, input.run)}${MANIFEST_FILE}`;
      const text = await backupStore(input.destination, s3).readText(key);
      if (text === undefined) return null;
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (err) {
        throw permanent(Failure.backupCorrupt, `${key} is not JSON (${(err as Error).message}); nothing was changed`);
      }
      const checked = checkedManifest(raw, input);
      if ('problems' in checked)
        throw permanent(Failure.backupCorrupt, `${key} is not a manifest of this run: ${checked.problems.join('; ')}; nothing was changed`);
      return checked.manifest;
    },

    /** Run ids, oldest first: complete ones (with a manifest) and incomplete ones (without). */
    async listBackupRuns(input: { destination: Destination; backup: string }): Promise<{ complete: string[]; incomplete: string[] }> {
      const keys = await backupStore(input.destination, s3).list(`${input.backup}/`);
      const runs = new Map<string, boolean>();
      for (const key of keys) {
        const [, run, file] = key.split('/');
        if (run === undefined || !RUN_ID.test(run)) continue;
        runs.set(run, (runs.get(run) ?? false) || file === MANIFEST_FILE);
      }
      const sorted = [...runs.keys()].sort();
      return { complete: sorted.filter((r) => runs.get(r)), incomplete: sorted.filter((r) => !runs.get(r)) };
    },

    /** Leftovers of writes a dead worker began (local `.partial-*` files) in a folder: never part of a backup. */
    async removePartials(input: { destination: Destination; folder: string }): Promise<string[]> {
      const store = backupStore(input.destination, s3);
      const partial = (await store.list(input.folder)).filter((key) => /\.partial-[0-9a-f]+$/.test(key));
      for (const key of partial) await store.removePrefix(key);
      return partial;
    },

    /** Removes whole runs (many files, or many S3 objects: it heartbeats). */
    async removeBackupRuns(input: { destination: Destination; backup: string; runs: string[] }): Promise<void> {
      const store = backupStore(input.destination, s3);
      await heartbeating({ removing: input.runs }, async () => {
        for (const run of input.runs) await store.removePrefix(runPath(input.backup, run));
      });
    },

    /**
     * Refuses (no retry) a file that is missing, truncated or altered, a SQL dump holding what pg_dump never
     * writes (psql meta-commands such as `\!`), and a Mongo dump a restore would refuse (a block or CRC-64 of
     * an archive, or a line of a `sciops-mongo/1` dump, that does not check out; no collection of `database`,
     * the one dumped): before anything is locked or restored. Returns the version read (S3), for the restore
     * to read that one only.
     */
    async verifyDumpFile(input: {
      destination: Destination;
      key: string;
      bytes: number;
      sha256: string;
      kind?: DumpRecord['kind'];
      database?: string;
    }): Promise<{ version?: string }> {
      const store = backupStore(input.destination, s3);
      const progress = { checking: input.key, bytes: 0 };
      const refused = (why: string) => permanent(Failure.backupCorrupt, `${input.key}: ${why}; nothing was changed`);
      // A SQL dump is also read through, gunzipped, for what pg_dump never writes, and a Mongo dump checked
      // whole as a restore checks it, in the same read.
      const lines = input.kind === 'postgres' ? new SqlDumpLines() : undefined;
      const gunzip = lines === undefined ? undefined : createGunzip();
      gunzip?.pipe(sink(lines as SqlDumpLines));
      const mongo = input.kind === 'mongo' ? streamedTo((chunks) => checkDumpStream(chunks, input.database)) : undefined;
      const found = await heartbeating(progress, () =>
        checksumOf(store, input.key, (bytes) => Object.assign(progress, { bytes }), gunzip ?? mongo).catch((err: unknown) => {
          throw refused(`cannot be read (${(err as Error).message})`);
        }),
      );
      const why = mismatch(found, input);
      if (why !== undefined) throw refused(why);
      const inspected = found.inspectError;
      if (inspected instanceof DumpRefused) throw refused(`cannot be restored: ${inspected.message}`);
      if (inspected !== undefined && mongo !== undefined) throw inspected;
      if (inspected !== undefined) throw refused(`cannot be gunzipped (${inspected.message})`);
      lines?.end();
      const problems = lines?.problems ?? [];
      if (problems.length > 0) throw refused(`not what pg_dump writes: ${problems.slice(0, 3).join('; ')}`);
      return found.version === undefined ? {} : { version: found.version };
    },
  };
}

/**
 * A writable whose chunks `consume` reads as an async iterable, one at a time (a write completes once it has
 * been taken, so the writer waits for the reader). Once `consume` has settled, later chunks are dropped; its
 * failure is the writable's, at its end (so the whole file is still read, for its checksum).
 */
function streamedTo(consume: (chunks: AsyncIterable<Buffer>) => Promise<unknown>): Writable {
  let pending: { chunk: Buffer | undefined; taken: () => void } | undefined;
  let wake: (() => void) | undefined;
  let settled = false;
  async function* chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      while (pending === undefined) await new Promise<void>((resolve) => (wake = resolve));
      const { chunk, taken } = pending;
      pending = undefined;
      taken();
      if (chunk === undefined) return;
      yield chunk;
    }
  }
  const result = consume(chunks()).finally(() => {
    settled = true;
    pending?.taken();
    pending = undefined;
  });
  result.catch(() => undefined);
  const offer = (chunk: Buffer | undefined, taken: () => void) => {
    if (settled) return taken();
    pending = { chunk, taken };
    wake?.();
  };
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      offer(chunk, () => done());
    },
    final(done) {
      offer(undefined, () => undefined);
      result.then(
        () => done(),
        (err: Error) => done(err),
      );
    },
  });
}

/** A writable that hands every chunk to the dump scanner (whose output is not needed here). */
const sink = (lines: SqlDumpLines) =>
  new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk);
      done();
    },
  });
