import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Destination } from '../../common/backup';
import { Failure, permanent } from '../../common/failures';

/** What a store wrote: its size and SHA-256, counted on the bytes as they went by. */
export interface Written {
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * Where backups go: a local directory or an S3 bucket, behind one interface. Writes stream (constant memory,
 * whatever the size) and are atomic: a local file is written under a temporary name, fsynced and renamed; an S3
 * object appears only when its multipart upload completes. A failed write leaves nothing under the final name.
 */
export interface BackupStore {
  write(key: string, source: Readable, onBytes?: (bytes: number) => void): Promise<Written>;
  /**
   * The stored bytes as a stream; `onBytes` hears how many have been read so far, and of how many. With a
   * `version` (S3: the VersionId, or else the ETag, that a check saw) only that version is read.
   */
  read(key: string, onBytes?: (bytes: number, total: number) => void, version?: string): Promise<Readable & { version?: string }>;
  readText(key: string): Promise<string | undefined>;
  /** Every key under a prefix (recursively), relative to the store. */
  list(prefix: string): Promise<string[]>;
  /** Removes every key under a prefix. */
  removePrefix(prefix: string): Promise<void>;
}

/** Counts and hashes the bytes that pass. */
export function tap(onBytes?: (bytes: number) => void): { stream: Transform; result: () => Written } {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      onBytes?.(bytes);
      done(null, chunk);
    },
  });
  return { stream, result: () => ({ bytes, sha256: hash.digest('hex') }) };
}

/** Reports the bytes read from a stream so far (of `total`), as they pass. */
function counting(source: Readable, total: number, onBytes?: (bytes: number, total: number) => void): Readable {
  if (onBytes === undefined) return source;
  let bytes = 0;
  // Piped, not listened to: a 'data' listener would start the flow before the caller pipes, and lose chunks.
  const counted = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      onBytes(bytes, total);
      done(null, chunk);
    },
  });
  source.on('error', (err) => counted.destroy(err));
  counted.on('close', () => source.destroy());
  return source.pipe(counted);
}

/**
 * Ends a writable stream (e.g. the gzip in front of a store's write) once `finished` resolves, or destroys it
 * with the error when it rejects: what a tool wrote is published only if the tool succeeded.
 */
export function endWhen(stream: Writable, finished: Promise<unknown>): void {
  finished.then(
    () => stream.end(),
    (err: unknown) => stream.destroy(err as Error),
  );
}

/** A key names a place under the destination: never `..`, `.`, an empty segment or an absolute path. */
function checkedKey(key: string): string {
  const segments = key.split('/');
  if (segments.slice(0, -1).some((s) => s === '' || s === '.' || s === '..') || ['.', '..'].includes(segments.at(-1) as string)) {
    throw permanent(Failure.backupCorrupt, `${key}: not a key inside the backup store`);
  }
  return key;
}

function localStore(dir: string): BackupStore {
  const full = (key: string) => path.join(dir, ...checkedKey(key).split('/'));
  async function walk(at: string, rel: string): Promise<string[]> {
    const entries = await readdir(at, { withFileTypes: true }).catch(() => []);
    const found = await Promise.all(
      entries.map((e) => (e.isDirectory() ? walk(path.join(at, e.name), `${rel}${e.name}/`) : Promise.resolve([`${rel}${e.name}`]))),
    );
    return found.flat();
  }
  return {
    async write(key, source, onBytes) {
      const target = full(key);
      // A dump is the database: readable by the worker's user only, as pg_dump's output should be.
      await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      const partial = `${target}.partial-${randomBytes(4).toString('hex')}`;
      const counted = tap(onBytes);
      try {
        await pipeline(source, counted.stream, createWriteStream(partial, { mode: 0o600, flags: 'wx' }));
        const handle = await open(partial, 'r');
        await handle.sync();
        await handle.close();
        await rename(partial, target);
      } catch (err) {
        await rm(partial, { force: true });
        throw err;
      }
      return counted.result();
    },
    async read(key, onBytes) {
      const { size } = await stat(full(key));
      return counting(createReadStream(full(key)), size, onBytes);
    },
    readText: (key) => readFile(full(key), 'utf8').catch(() => undefined),
    async list(prefix) {
      const base = full(prefix);
      return (await walk(base, '')).map((rel) => `${prefix}${rel}`);
    },
    async removePrefix(prefix) {
      await rm(full(prefix), { recursive: true, force: true });
    },
  };
}

function s3Store(s3: S3Client, bucket: string, prefix: string, kmsKeyId: string | undefined): BackupStore {
  const encryption = kmsKeyId === undefined ? {} : { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: kmsKeyId };
  const full = (key: string) => `${prefix}${checkedKey(key)}`;
  async function keys(under: string): Promise<string[]> {
    const found: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: full(under), ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key !== undefined) found.push(o.Key.slice(prefix.length));
      token = page.NextContinuationToken;
    } while (token !== undefined);
    return found;
  }
  return {
    async write(key, source, onBytes) {
      const counted = tap(onBytes);
      const body = new PassThrough();
      // Parts of 8 MiB, two in flight: memory stays bounded whatever the size.
      const upload = new Upload({
        client: s3,
        params: { Bucket: bucket, Key: full(key), Body: body, ...encryption },
        partSize: 8 * 1024 * 1024,
        queueSize: 2,
      });
      await Promise.all([pipeline(source, counted.stream, body), upload.done()]).catch(async (err: unknown) => {
        // Whichever side failed, stop the other: no half-read source left waiting, no upload left open.
        source.destroy();
        body.destroy();
        await upload.abort().catch(() => undefined);
        throw err;
      });
      return counted.result();
    },
    async read(key, onBytes, version) {
      // An ETag is quoted; a VersionId is not.
      const pin = version === undefined ? {} : version.startsWith('"') ? { IfMatch: version } : { VersionId: version };
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: full(key), ...pin }));
      return Object.assign(counting(got.Body as Readable, got.ContentLength ?? 0, onBytes), { version: got.VersionId ?? got.ETag });
    },
    async readText(key) {
      try {
        const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: full(key) }));
        return await (Body as { transformToString(): Promise<string> }).transformToString();
      } catch (err) {
        if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
        throw err;
      }
    },
    list: keys,
    async removePrefix(under) {
      const found = await keys(under);
      for (let i = 0; i < found.length; i += 1000) {
        const Objects = found.slice(i, i + 1000).map((k) => ({ Key: full(k) }));
        await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects } }));
      }
    },
  };
}

/** The store a destination names; S3 needs the aws clients' S3 client. */
export function backupStore(destination: Destination, s3: () => S3Client): BackupStore {
  return destination.kind === 'local'
    ? localStore(destination.dir)
    : s3Store(s3(), destination.bucket, destination.prefix, destination.kmsKeyId);
}
