import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import type Dockerode from 'dockerode';
import { type Destination, type DumpRecord, fileOf, type VolumeTarget } from '../../common/backup';
import { BACKUP_FAILED_TYPE } from '../../common/backup-failures';
import { backupStore, endWhen } from '../files/backup-store';
import { heartbeating } from '../heartbeating';
import { engineStatus, ignoreStatus } from './errors';

const MOUNT = '/volume';
const HELPER_LABEL = 'sciops.volume-helper';
const failed = (message: string) => ApplicationFailure.create({ type: BACKUP_FAILED_TYPE, nonRetryable: true, message });

/**
 * Named volumes, read and filled by a short-lived helper container on the volume's own engine (run these on
 * its node's queue): `tar -c | gzip` into a backup store, and back with `gunzip | tar -x` after emptying it,
 * streamed both ways. The helper mounts the volume read-only to back it up.
 */
export function createVolumeBackup(docker: Dockerode, s3: () => S3Client) {
  /** Runs the helper; `input` is fed to its stdin, its stdout is handed to `consume`. Fails on a non-zero exit. */
  async function helper(
    target: VolumeTarget,
    command: string,
    options: { readOnly: boolean; input?: Readable; consume?: (stdout: Readable) => Promise<unknown> },
  ): Promise<string> {
    await docker
      .getVolume(target.volume)
      .inspect()
      .catch((err: unknown) => {
        throw engineStatus(err) === 404 ? failed(`volume ${target.volume} does not exist on this node's engine`) : err;
      });
    const container = await docker.createContainer({
      Image: target.image,
      Cmd: ['sh', '-c', command],
      OpenStdin: options.input !== undefined,
      StdinOnce: options.input !== undefined,
      Labels: { [HELPER_LABEL]: target.volume },
      HostConfig: { Mounts: [{ Type: 'volume', Source: target.volume, Target: MOUNT, ReadOnly: options.readOnly }] },
    });
    try {
      const stream = await container.attach({ stream: true, stdin: options.input !== undefined, stdout: true, stderr: true, hijack: true });
      const stdout = new PassThrough();
      let stderr = '';
      const errors = new PassThrough().on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
      });
      docker.modem.demuxStream(stream, stdout, errors);
      stream.on('end', () => stdout.end());
      await container.start();
      const consumed = options.consume?.(stdout) ?? stdout.resume();
      let broken: Error | undefined;
      if (options.input !== undefined) {
        // The end of the input closes the helper's stdin; a broken input kills the connection instead.
        options.input.on('error', (err) => {
          broken = err;
          (stream as unknown as { destroy(): void }).destroy();
        });
        options.input.pipe(stream as unknown as NodeJS.WritableStream);
      }
      const [{ StatusCode }] = await Promise.all([container.wait() as Promise<{ StatusCode: number }>, consumed]);
      if (broken !== undefined) throw failed(`reading the archive for volume ${target.volume} failed: ${broken.message}`);
      if (StatusCode !== 0)
        throw failed(`${command.split(' ')[0]} in ${target.image} on volume ${target.volume} exited ${StatusCode}: ${stderr.trim()}`);
      return stderr;
    } finally {
      await container.remove({ force: true }).catch(ignoreStatus(404));
    }
  }

  const countFiles = async (target: VolumeTarget) => {
    let out = '';
    await helper(target, `find ${MOUNT} -type f | wc -l`, {
      readOnly: true,
      consume: async (stdout) => {
        for await (const chunk of stdout) out += chunk;
      },
    });
    return Number(out.trim());
  };

  async function restore(target: VolumeTarget, destination: Destination, key: string): Promise<number> {
    const store = backupStore(destination, s3);
    const progress = { restoring: key, bytes: 0, total: 0 };
    await heartbeating(progress, async () => {
      const source = await store.read(key, (bytes, total) => {
        progress.bytes = bytes;
        progress.total = total;
      });
      await helper(target, `find ${MOUNT} -mindepth 1 -maxdepth 1 -exec rm -rf {} + && tar -C ${MOUNT} -xf -`, {
        readOnly: false,
        input: source.pipe(createGunzip()),
      });
    });
    return countFiles(target);
  }

  return {
    async dumpVolume(input: { target: VolumeTarget; destination: Destination; key: string }): Promise<DumpRecord> {
      const store = backupStore(input.destination, s3);
      const progress = { target: input.target.name, bytes: 0 };
      const written = await heartbeating(progress, () => {
        const gzip = createGzip();
        const write = store.write(input.key, gzip, (bytes) => {
          progress.bytes = bytes;
        });
        // gzip ends only after tar exited 0: a failed tar errors the write, and nothing is published.
        const run = helper(input.target, `tar -C ${MOUNT} -cf - .`, {
          readOnly: true,
          consume: (stdout) =>
            new Promise((resolve) => {
              stdout.on('end', resolve);
              stdout.pipe(gzip, { end: false });
            }),
        });
        endWhen(gzip, run);
        return Promise.all([write, run]).then(([w]) => w);
      });
      return {
        target: input.target.name,
        kind: 'volume',
        file: fileOf(input.key),
        ...written,
        tool: `tar in ${input.target.image}`,
        files: await countFiles(input.target),
      };
    },

    /** Files in the volume now (restore refuses a non-empty volume unless forced). */
    async volumeFiles(input: { target: VolumeTarget }): Promise<number> {
      return countFiles(input.target);
    },

    /** Empties the volume and extracts the archive into it; returns the files it then holds. */
    async restoreVolume(input: { target: VolumeTarget; destination: Destination; key: string }): Promise<number> {
      return restore(input.target, input.destination, input.key);
    },

    /** Extracts the archive into a scratch volume on this engine (removed afterwards); returns its file count. */
    async verifyVolumeDump(input: { target: VolumeTarget; destination: Destination; key: string }): Promise<number> {
      const scratch = `sciops-verify-${randomBytes(4).toString('hex')}`;
      await docker.createVolume({ Name: scratch, Labels: { [HELPER_LABEL]: input.target.volume } });
      try {
        return await restore({ ...input.target, volume: scratch }, input.destination, input.key);
      } finally {
        await docker.getVolume(scratch).remove({ force: true }).catch(ignoreStatus(404));
      }
    },
  };
}
