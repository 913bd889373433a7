import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type Dockerode from 'dockerode';
import { type Destination, type DumpRecord, fileOf, type VolumeTarget } from '../../common/backup';
import { backupFailed } from '../../common/failures';
import { SCRATCH_LABEL, VOLUME_HELPER_LABEL } from '../../common/labels';
import { TarListing } from '../../common/tar-files';
import { type Expected, gunzipped, readChecked } from '../files/backup-checks';
import { backupStore, endWhen } from '../files/backup-store';
import { parallelGzip } from '../files/parallel-gzip';
import { heartbeating } from '../heartbeating';
import { engineMessage, engineStatus, ignoreStatus } from './errors';

const MOUNT = '/volume';

/**
 * Named volumes, read and filled by a short-lived helper container on the volume's own engine (run these on
 * its node's queue): `tar -c | gzip` into a backup store, and back with `gunzip | tar -x` into a staging
 * folder swapped in once checked, streamed both ways. The helper mounts the volume read-only to back it up.
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
        throw engineStatus(err) === 404 ? backupFailed(`volume ${target.volume} does not exist on this node's engine`) : err;
      });
    const request: Dockerode.ContainerCreateOptions = {
      Image: target.image,
      Cmd: ['sh', '-c', command],
      OpenStdin: options.input !== undefined,
      StdinOnce: options.input !== undefined,
      Labels: { [VOLUME_HELPER_LABEL]: target.volume },
      HostConfig: { Mounts: [{ Type: 'volume', Source: target.volume, Target: MOUNT, ReadOnly: options.readOnly }] },
    };
    const container = await docker.createContainer(request).catch(async (err: unknown) => {
      if (engineStatus(err) !== 404) throw err;
      await pullHelperImage(target.image);
      return docker.createContainer(request);
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
      // Writing to a helper that already exited (tar stops at the archive's end marker): its exit code decides.
      stream.on('error', () => undefined);
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
      if (broken !== undefined) throw backupFailed(`reading the archive for volume ${target.volume} failed: ${broken.message}`);
      if (StatusCode !== 0)
        throw backupFailed(`${command.split(' ')[0]} in ${target.image} on volume ${target.volume} exited ${StatusCode}: ${stderr.trim()}`);
      return stderr;
    } finally {
      await container.remove({ force: true }).catch(ignoreStatus(404));
    }
  }

  /**
   * Pulls a helper image this engine does not have (heartbeating while it downloads). One that cannot be
   * pulled fails without retry, naming the image and the fix, before the volume is touched: the workflow
   * then resumes the services it paused instead of holding them at 0 through retries.
   */
  async function pullHelperImage(image: string): Promise<void> {
    await heartbeating({ pulling: image }, async () => {
      const progress = await docker.pull(image);
      await new Promise<void>((resolve, reject) =>
        docker.modem.followProgress(progress, (err: Error | null) => (err ? reject(err) : resolve())),
      );
    }).catch((err: unknown) => {
      throw backupFailed(
        `the helper image ${image} is not on this node's engine and could not be pulled (${engineMessage(err)}): load it there (docker load) or give the target another image`,
      );
    });
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

  /**
   * Fills the volume from an archive without emptying it first: the archive is extracted into a staging
   * folder inside the volume while its bytes are hashed; only when they are exactly the manifest's are the
   * volume's old entries removed and the staged ones moved in (renames, on the same file system). Returns
   * the files it then holds.
   */
  async function restore(target: VolumeTarget, destination: Destination, key: string, expected: Expected): Promise<number> {
    const staging = `${MOUNT}/.sciops-restore-${randomBytes(8).toString('hex')}`;
    const progress = { restoring: key, bytes: 0, total: 0 };
    await heartbeating(progress, async () => {
      const source = await readChecked(backupStore(destination, s3), key, expected, (bytes, total) => {
        progress.bytes = bytes;
        progress.total = total;
      });
      try {
        const archive = gunzipped(source.stream);
        // Leftovers of a restore a dead worker began are removed first.
        await helper(target, `rm -rf ${MOUNT}/.sciops-restore-* && mkdir ${staging} && tar -C ${staging} -xf -`, {
          readOnly: false,
          input: archive,
        });
        // tar may stop reading at the archive's end marker: the bytes after it count for the checksum too.
        archive.unpipe().resume();
        await finished(archive);
        source.check();
      } catch (err) {
        await helper(target, `rm -rf ${staging}`, { readOnly: false }).catch(() => undefined);
        throw err;
      }
      const name = staging.slice(MOUNT.length + 1);
      await helper(
        target,
        `cd ${MOUNT} && find . -mindepth 1 -maxdepth 1 ! -name ${name} -exec rm -rf {} + && find ${name} -mindepth 1 -maxdepth 1 -exec mv {} . \\; && rmdir ${name}`,
        { readOnly: false },
      );
    });
    return heartbeating({ counting: target.name }, () => countFiles(target));
  }

  return {
    async dumpVolume(input: { target: VolumeTarget; destination: Destination; key: string; gzipLevel?: number }): Promise<DumpRecord> {
      const store = backupStore(input.destination, s3);
      const progress = { target: input.target.name, bytes: 0 };
      // The files the archive holds, counted from its headers as it passes: what was written, even when the
      // volume changes during the backup (a later `find` would count another state of it).
      const listing = new TarListing();
      const written = await heartbeating(progress, () => {
        // Compressed on every core (members of one .gz), so the tar stream is not held back by one.
        const gzip = parallelGzip({ level: input.gzipLevel });
        const write = store.write(input.key, gzip, (bytes) => {
          progress.bytes = bytes;
        });
        // gzip ends only after tar exited 0: a failed tar errors the write, and nothing is published.
        const run = helper(input.target, `tar -C ${MOUNT} -cf - .`, {
          readOnly: true,
          consume: (stdout) =>
            new Promise((resolve) => {
              stdout.on('end', resolve);
              stdout.on('data', (chunk: Buffer) => listing.push(chunk));
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
        files: listing.files,
      };
    },

    /** Files in the volume now (restore refuses a non-empty volume unless forced); a large one takes a while. */
    async volumeFiles(input: { target: VolumeTarget }): Promise<number> {
      return heartbeating({ counting: input.target.name }, () => countFiles(input.target));
    },

    /** Replaces the volume's content with the archive's (see restore); returns the files it then holds. */
    async restoreVolume(input: { target: VolumeTarget; destination: Destination; key: string; expected: Expected }): Promise<number> {
      return restore(input.target, input.destination, input.key, input.expected);
    },

    /**
     * Extracts the archive into a scratch volume on this engine and returns its file count. The scratch
     * volume has a random name that must not exist yet, and carries a label only this run knows: it is
     * removed afterwards only when it still carries that label, so a volume sciops did not create is never
     * emptied or removed.
     */
    async verifyVolumeDump(input: { target: VolumeTarget; destination: Destination; key: string; expected: Expected }): Promise<number> {
      const scratch = `sciops-verify-${randomBytes(8).toString('hex')}`;
      const mark = randomBytes(8).toString('hex');
      const ours = async () => {
        const info = await docker.getVolume(scratch).inspect().catch(ignoreStatus(404));
        return info?.Labels?.[SCRATCH_LABEL] === mark;
      };
      if ((await docker.getVolume(scratch).inspect().catch(ignoreStatus(404))) !== undefined) {
        throw backupFailed(`a volume ${scratch} exists already: not used as a scratch volume, try again`);
      }
      // Creating a volume whose name exists returns the existing one: the label tells which it is.
      await docker.createVolume({ Name: scratch, Labels: { [VOLUME_HELPER_LABEL]: input.target.volume, [SCRATCH_LABEL]: mark } });
      if (!(await ours())) throw backupFailed(`the volume ${scratch} is not the scratch volume this verification created; left alone`);
      try {
        return await restore({ ...input.target, volume: scratch }, input.destination, input.key, input.expected);
      } finally {
        if (await ours()) await docker.getVolume(scratch).remove({ force: true }).catch(ignoreStatus(404));
      }
    },
  };
}
