import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import type { BackupTarget, Destination } from '../../common/backup';
import { CrlfToLf, type ImportCheck, parseImportSource, SqlDumpShape, sqlDumpProblem } from '../../common/backup-import';
import { SqlDumpLines } from '../../common/backup-sql-dump';
import { Failure, permanent } from '../../common/failures';
import { MongoArchiveError, scanArchive } from '../../common/mongo-archive';
import { TarListing } from '../../common/tar-files';
import { archivePlan } from '../db/mongo-restore-plan';
import { heartbeating } from '../heartbeating';
import { backupStore, tap, type Written } from './backup-store';

const GZIP = [0x1f, 0x8b];
/** An import's file is refused for good: it is not what the target's kind restores (or not there to read). */
const refused = (file: string, why: string) => permanent(Failure.backupCorrupt, `${file}: ${why}; nothing was imported`);

/**
 * Files made outside sciops, imported as a run of a backup: read from this worker's disk (only under its
 * SCIOPS_BACKUP_DIR, symlinks resolved: a worker is privileged, a path in a workflow input is not) or from
 * S3, checked to be what the target's kind restores, and streamed into the backup store, repaired on the way
 * (CRLF line ends made LF, gzipped) when the check said so.
 */
export function createBackupImport(s3: () => S3Client, backupDir: string | undefined) {
  /** The file's bytes, read anew each time (so a store re-reads exactly what it checks). */
  async function openSource(file: string): Promise<Readable> {
    const source = parseImportSource(file);
    if ('problem' in source) throw refused(file, `not a file to import: ${source.problem}`);
    if (source.kind === 's3') {
      const got = await s3()
        .send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key }))
        .catch((err: unknown) => {
          // What no retry changes is refused; anything else (a lost connection) is worth another attempt.
          const name = (err as Error).name;
          if (['NoSuchKey', 'NoSuchBucket', 'AccessDenied', 'InvalidObjectState'].includes(name))
            throw refused(file, `cannot be read (${name}: ${(err as Error).message})`);
          throw err;
        });
      return got.Body as Readable;
    }
    if (backupDir === undefined) {
      throw refused(file, 'this worker reads no file to import: it has no SCIOPS_BACKUP_DIR (put the file under it, or give an s3:// URL)');
    }
    // Checked as written first, so that nothing outside the directory is even looked up (no probing of which
    // files exist there); then with symlinks resolved.
    const outside = () =>
      refused(
        file,
        `not under this worker's SCIOPS_BACKUP_DIR (${backupDir}): copy it there (e.g. ${path.join(backupDir, 'import')}/) and import that`,
      );
    if (!source.path.startsWith(`${backupDir.replace(/\/+$/, '')}/`)) throw outside();
    const [root, real] = await Promise.all([
      realpath(backupDir),
      realpath(source.path).catch((err: unknown) => {
        throw refused(file, `cannot be read on this worker (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }),
    ]);
    if (!real.startsWith(`${root}${path.sep}`)) throw outside();
    // Not through a symlink put in its place since it was resolved.
    const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw refused(file, 'not a regular file');
    }
    return handle.createReadStream();
  }

  /** Size and SHA-256 of the file as it is now. */
  async function digest(file: string): Promise<Written> {
    const counted = tap();
    await pipeline(await openSource(file), counted.stream, new PassThrough().resume());
    return counted.result();
  }

  /**
   * Hands the file's content to `consume` chunk by chunk (gunzipped when it is gzipped); whether it was
   * gzipped. A broken or truncated gzip stream refuses the file.
   */
  async function readContent(file: string, consume: (chunk: Buffer) => void): Promise<{ gzipped: boolean }> {
    const chunks = (await openSource(file))[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const first = await chunks.next();
    // The first bytes say whether the content is gzipped (`gzip` of the runbook) or not.
    const gzipped = !first.done && first.value[0] === GZIP[0] && first.value[1] === GZIP[1];
    async function* all() {
      for (let next = first; !next.done; next = await chunks.next()) yield next.value;
    }
    const sink = async (input: AsyncIterable<Buffer>) => {
      for await (const chunk of input) consume(chunk);
    };
    try {
      await (gzipped ? pipeline(all(), createGunzip(), sink) : pipeline(all(), sink));
    } catch (err) {
      if (err instanceof ApplicationFailure) throw err;
      if (gzipped) throw refused(file, `the gzip stream is truncated or corrupt (${(err as Error).message})`);
      throw refused(file, `cannot be read (${(err as Error).message})`);
    }
    return { gzipped };
  }

  /** What a file of each kind must be, checked through once; what storing it takes. */
  const checks: Record<BackupTarget['kind'], (file: string, target: BackupTarget) => Promise<Omit<ImportCheck, 'bytes' | 'sha256'>>> = {
    async postgres(file, target) {
      const shape = new SqlDumpShape();
      const lines = new SqlDumpLines();
      const { gzipped } = await readContent(file, (chunk) => {
        shape.push(chunk);
        lines.push(chunk);
      });
      shape.end();
      lines.end();
      const problem = sqlDumpProblem(shape, target.kind === 'postgres' ? target.mode : 'data-only');
      if (problem !== undefined) throw refused(file, problem);
      if (lines.problems.length > 0) throw refused(file, `not what pg_dump writes: ${lines.problems.slice(0, 3).join('; ')}`);
      return {
        crlf: shape.crlf,
        gzip: !gzipped,
        tool: `imported (pg_dump${shape.pgDump === undefined ? '' : ` ${shape.pgDump}`}, format checked by sciops)`,
        ...(shape.server === undefined ? {} : { server: shape.server }),
      };
    },

    async mongo(file) {
      const scanned = await scanArchive(await openSource(file)).catch((err: unknown) => {
        if (err instanceof MongoArchiveError)
          throw refused(file, `not a whole mongodump archive (${err.message.replace(/^mongodump archive: /, '')})`);
        throw err;
      });
      const plan = archivePlan(scanned.collections);
      if (plan.refused !== undefined) throw refused(file, `mongodump archive: ${plan.refused}`);
      return {
        crlf: false,
        gzip: !scanned.gzipped,
        tool: `imported (mongodump ${scanned.header.toolVersion}, archive checked by sciops)`,
        server: scanned.header.serverVersion,
        ...(plan.database === undefined ? {} : { database: plan.database }),
      };
    },

    async volume(file) {
      const listing = new TarListing();
      const { gzipped } = await readContent(file, (chunk) => listing.push(chunk));
      listing.end();
      if (listing.problems.length > 0) throw refused(file, `not a tar archive to extract into a volume: ${listing.problems.join('; ')}`);
      return { crlf: false, gzip: !gzipped, tool: 'imported (tar, format checked by sciops)' };
    },
  };

  return {
    /**
     * Checks, writing nothing, that a file is what the target's kind restores: a plain SQL dump of pg_dump
     * (gzipped or not; its header and last line, no psql meta-command, data-only or not as the target), a
     * whole mongodump archive of one database (every block and CRC-64), or a tar (gzipped or not) whose every
     * header checks out and no entry of which is absolute or has `..`. Refuses (BackupCorrupt, no retry) naming
     * what is wrong.
     */
    async checkImportFile(input: { file: string; target: BackupTarget }): Promise<ImportCheck> {
      return heartbeating({ checking: input.file }, async () => {
        const original = await digest(input.file);
        if (original.bytes === 0) throw refused(input.file, 'the file is empty');
        const found = await checks[input.target.kind](input.file, input.target);
        return { ...original, ...found };
      });
    },

    /**
     * Streams a checked file into the store at `key` (written atomically, as a dump is), repaired as its
     * check said: CRLF line ends made LF, gzipped. The original bytes are hashed as they are read: when they
     * are not those checked (the file changed since), the stored copy is removed and the import refused.
     */
    async storeImportFile(input: { file: string; destination: Destination; key: string; check: ImportCheck }): Promise<Written> {
      const { check } = input;
      const store = backupStore(input.destination, s3);
      const progress = { importing: input.file, bytes: 0 };
      return heartbeating(progress, async () => {
        const original = tap((bytes) => {
          progress.bytes = bytes;
        });
        const repairs: Transform[] = [];
        if (check.crlf || check.gzip) {
          if (!check.gzip) repairs.push(createGunzip());
          if (check.crlf) repairs.push(crlfToLf());
          repairs.push(createGzip());
        }
        const out = new PassThrough();
        const reading = pipeline(await openSource(input.file), original.stream, ...repairs, out);
        reading.catch(() => undefined);
        const written = await store.write(input.key, out);
        await reading;
        const read = original.result();
        if (read.bytes !== check.bytes || read.sha256 !== check.sha256) {
          await store.removePrefix(input.key);
          throw refused(input.file, 'it changed since it was checked (another size or SHA-256)');
        }
        return written;
      });
    },
  };
}

/** A stream that makes CR LF line ends LF (see CrlfToLf). */
function crlfToLf(): Transform {
  const lines = new CrlfToLf();
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      done(null, lines.push(chunk));
    },
    flush(done) {
      const rest = lines.end();
      done(null, rest.length > 0 ? rest : undefined);
    },
  });
}
