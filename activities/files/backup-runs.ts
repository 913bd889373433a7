import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { type Destination, MANIFEST_FILE, type Manifest, RUN_ID, runPath } from '../../common/backup';
import { BACKUP_CORRUPT_TYPE } from '../../common/backup-failures';
import { heartbeating } from '../heartbeating';
import { backupStore, checksumOf } from './backup-store';

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

    async readManifest(input: { destination: Destination; backup: string; run: string }): Promise<Manifest | null> {
      const text = await backupStore(input.destination, s3).readText(`${runPath(input.backup, input.run)}${MANIFEST_FILE}`);
      return text === undefined ? null : (JSON.parse(text) as Manifest);
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

    async removeBackupRuns(input: { destination: Destination; backup: string; runs: string[] }): Promise<void> {
      const store = backupStore(input.destination, s3);
      for (const run of input.runs) await store.removePrefix(runPath(input.backup, run));
    },

    /** Refuses (no retry) a file that is missing, truncated or altered: before anything is restored from it. */
    async verifyDumpFile(input: { destination: Destination; key: string; bytes: number; sha256: string }): Promise<void> {
      const corrupt = (why: string) =>
        ApplicationFailure.create({ type: BACKUP_CORRUPT_TYPE, nonRetryable: true, message: `${input.key}: ${why}; nothing was changed` });
      const store = backupStore(input.destination, s3);
      const progress = { checking: input.key, bytes: 0 };
      const found = await heartbeating(progress, () =>
        checksumOf(store, input.key, (bytes) => {
          progress.bytes = bytes;
        }).catch((err: unknown) => {
          throw corrupt(`cannot be read (${(err as Error).message})`);
        }),
      );
      if (found.bytes !== input.bytes) throw corrupt(`${found.bytes} bytes where the manifest says ${input.bytes} (truncated?)`);
      if (found.sha256 !== input.sha256) throw corrupt('its SHA-256 differs from the manifest (altered or corrupted)');
    },
  };
}
