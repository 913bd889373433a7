import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Failure, permanent } from '../../common/failures';
import { type BackupStore, tap, type Written } from './backup-store';

/**
 * Reading stored files against what their manifest says: checksums, and reads whose bytes are hashed as they
 * are used, so that what a restore applies is exactly what was checked.
 */

/** What a stored file must be (its manifest's size and SHA-256), and the S3 version that was checked. */
export interface Expected extends Written {
  readonly version?: string;
}

/**
 * SHA-256 and size of a stored file, read as a stream, and the version read (S3). The same bytes are also
 * written to `inspect` (e.g. a gunzip whose output is checked), in the same single read; an error there is
 * returned as `inspectError` and does not stop the checksum.
 */
export async function checksumOf(
  store: BackupStore,
  key: string,
  onBytes?: (bytes: number) => void,
  inspect?: Writable,
): Promise<Expected & { inspectError?: Error }> {
  const counted = tap(onBytes);
  let inspectError: Error | undefined;
  inspect?.on('error', (err) => {
    inspectError ??= err;
  });
  const open = () => inspect !== undefined && inspectError === undefined;
  const tee = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!open() || (inspect as Writable).write(chunk)) return done();
      // Backpressure: wait until the inspection has caught up (or failed).
      const go = () => {
        inspect?.off('drain', go).off('error', go);
        done();
      };
      inspect?.once('drain', go).once('error', go);
    },
    final(done) {
      if (!open()) return done();
      finished((inspect as Writable).end()).then(
        () => done(),
        () => done(),
      );
    },
  });
  const source = await store.read(key);
  await pipeline(source, counted.stream, tee);
  return {
    ...counted.result(),
    ...(source.version === undefined ? {} : { version: source.version }),
    ...(inspectError ? { inspectError } : {}),
  };
}

const corrupt = (key: string, why: string) => permanent(Failure.backupCorrupt, `${key}: ${why}`);

/** How the bytes found differ from what the manifest says; undefined when they are the same. */
export function mismatch(found: Written, expected: Written): string | undefined {
  if (found.bytes !== expected.bytes) return `${found.bytes} bytes where the manifest says ${expected.bytes} (truncated?)`;
  if (found.sha256 !== expected.sha256) return 'its SHA-256 differs from the manifest (altered or corrupted)';
  return undefined;
}

function checkWritten(key: string, found: Written, expected: Written): void {
  const why = mismatch(found, expected);
  if (why !== undefined) throw corrupt(key, why);
}

/** The gunzipped bytes of a stream; an error of the stream errors them too (pipe alone would leave them waiting). */
export function gunzipped(source: Readable): Readable {
  const gunzip = createGunzip();
  source.on('error', (err) => gunzip.destroy(err));
  // Whoever stops reading early (a failed restore) releases the file or connection underneath too.
  gunzip.on('close', () => source.destroy());
  return source.pipe(gunzip);
}

/**
 * Reads a stored file once, hashing the bytes as they pass: `check()`, called once the consumer has read what
 * it needs, throws BackupCorrupt unless exactly the expected bytes went by. Whatever the consumer made of
 * them must be thrown away (never committed) when it throws.
 */
export async function readChecked(
  store: BackupStore,
  key: string,
  expected: Expected,
  onBytes?: (bytes: number, total: number) => void,
): Promise<{ stream: Readable; check: () => void }> {
  const source = await store.read(key, onBytes, expected.version);
  const counted = tap();
  source.on('error', (err) => counted.stream.destroy(err));
  counted.stream.on('close', () => source.destroy());
  return { stream: source.pipe(counted.stream), check: () => checkWritten(key, counted.result(), expected) };
}

/**
 * A private local copy of a stored file (mode 0600 in a fresh 0700 directory), checked against the manifest
 * before it is handed over: what is then restored from it is exactly what was checked.
 */
export async function checkedCopy(
  store: BackupStore,
  key: string,
  expected: Expected,
  onBytes?: (bytes: number, total: number) => void,
): Promise<{ file: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sciops-restore-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    const file = path.join(dir, 'dump');
    const counted = tap();
    await pipeline(await store.read(key, onBytes, expected.version), counted.stream, createWriteStream(file, { mode: 0o600, flags: 'wx' }));
    checkWritten(key, counted.result(), expected);
    return { file, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}
