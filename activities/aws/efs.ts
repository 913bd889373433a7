import { createHash } from 'node:crypto';
import {
  type AccessPointDescription,
  CreateAccessPointCommand,
  CreateFileSystemCommand,
  CreateMountTargetCommand,
  DescribeAccessPointsCommand,
  DescribeFileSystemsCommand,
  DescribeMountTargetsCommand,
  type EFSClient,
  type MountTargetDescription,
  PutLifecycleConfigurationCommand,
} from '@aws-sdk/client-efs';
import { accessPointMismatch, type EfsInput } from '../../common/efs';
import { Failure, permanent } from '../../common/failures';
import { heartbeating, pause } from '../heartbeating';

export interface EfsOptions {
  /** How long a new file system or mount target may take to become `available`. @default 10 minutes */
  readonly availableWithinMs?: number;
}

/** States after which a file system or mount target will never become available. */
const BROKEN = new Set(['error', 'deleting', 'deleted']);

/**
 * The client token of the access point for this directory and user: a SHA-256 of all four (64 hex
 * characters, the most EFS takes), so two directories or two users never share an access point, as
 * `/a/b` and `/a.b` did when the token was the path with its punctuation replaced.
 */
export function accessPointToken(input: { creationToken: string; path: string; uid: number; gid: number }): string {
  return createHash('sha256').update([input.creationToken, input.path, input.uid, input.gid].join('|')).digest('hex').slice(0, 64);
}

/**
 * EFS for Batch experiments, every call idempotent: the creation token names the file system, mount targets
 * are looked up per subnet, the access point by a client token derived from its directory and user. Nothing
 * is reported done before AWS says it is `available`: a job that mounts a target still `creating` fails.
 */
export function createEfsActivities(efs: EFSClient, options: EfsOptions = {}) {
  const availableWithinMs = options.availableWithinMs ?? 600_000;

  /** Polls `state` (heartbeating) until it says available; a broken state or the deadline fails, naming `what`. */
  async function untilAvailable(what: string, state: () => Promise<string | undefined>): Promise<void> {
    await heartbeating({ waitingFor: what }, async () => {
      const since = Date.now();
      for (let poll = 0; ; poll++) {
        const now = await state();
        if (now === 'available') return;
        if (now !== undefined && BROKEN.has(now)) {
          throw permanent(Failure.efsNotAvailable, `${what} is ${now}; it will not become available: look at it in the EFS console`);
        }
        if (Date.now() - since >= availableWithinMs) {
          throw permanent(
            Failure.efsNotAvailable,
            `${what} is still ${now ?? 'missing'} after ${Math.round(availableWithinMs / 1000)}s; check it in the EFS console, then run ensureEfs again`,
          );
        }
        await pause(Math.min(5000, 500 * 2 ** poll));
      }
    });
  }

  async function mountTargets(fileSystemId: string): Promise<MountTargetDescription[]> {
    const all: MountTargetDescription[] = [];
    let Marker: string | undefined;
    do {
      const page = await efs.send(new DescribeMountTargetsCommand({ FileSystemId: fileSystemId, Marker }));
      all.push(...(page.MountTargets ?? []));
      Marker = page.NextMarker;
    } while (Marker !== undefined);
    return all;
  }

  async function accessPoints(fileSystemId: string): Promise<AccessPointDescription[]> {
    const all: AccessPointDescription[] = [];
    let NextToken: string | undefined;
    do {
      const page = await efs.send(new DescribeAccessPointsCommand({ FileSystemId: fileSystemId, NextToken }));
      all.push(...(page.AccessPoints ?? []));
      NextToken = page.NextToken;
    } while (NextToken !== undefined);
    return all;
  }

  return {
    /** The file system of this creation token (created, with backups and lifecycle policy, when missing), once available. */
    async ensureFileSystem(
      input: Pick<EfsInput, 'creationToken' | 'backup' | 'transitionToIA'>,
    ): Promise<{ id: string; created: boolean }> {
      const { FileSystems = [] } = await efs.send(new DescribeFileSystemsCommand({ CreationToken: input.creationToken }));
      let id = FileSystems[0]?.FileSystemId;
      const created = id === undefined;
      if (id === undefined) {
        // PutBackupPolicy is one more call that can fail half-way; Backup at creation sets it in the same request.
        const fs = await efs.send(
          new CreateFileSystemCommand({
            CreationToken: input.creationToken,
            Encrypted: true,
            Backup: input.backup,
            Tags: [{ Key: 'Name', Value: input.creationToken }],
          }),
        );
        id = fs.FileSystemId as string;
      }
      const fileSystemId = id;
      await untilAvailable(`EFS file system ${fileSystemId}`, async () => {
        const { FileSystems: [fs] = [] } = await efs.send(new DescribeFileSystemsCommand({ FileSystemId: fileSystemId }));
        return fs?.LifeCycleState;
      });
      await efs.send(
        new PutLifecycleConfigurationCommand({ FileSystemId: id, LifecyclePolicies: [{ TransitionToIA: input.transitionToIA }] }),
      );
      return { id, created };
    },

    /** A mount target in each subnet, creating only the missing ones; returns once every one is `available`. */
    async ensureMountTargets(input: { fileSystemId: string; subnetIds: readonly string[]; securityGroupIds: readonly string[] }) {
      const existing = await mountTargets(input.fileSystemId);
      const ids: string[] = [];
      const created: string[] = [];
      for (const subnet of input.subnetIds) {
        const target = existing.find((t) => t.SubnetId === subnet);
        if (target?.MountTargetId !== undefined) {
          ids.push(target.MountTargetId);
          continue;
        }
        const made = await efs.send(
          new CreateMountTargetCommand({
            FileSystemId: input.fileSystemId,
            SubnetId: subnet,
            ...(input.securityGroupIds.length === 0 ? {} : { SecurityGroups: [...input.securityGroupIds] }),
          }),
        );
        ids.push(made.MountTargetId as string);
        created.push(made.MountTargetId as string);
      }
      for (const id of ids) {
        await untilAvailable(`EFS mount target ${id} of ${input.fileSystemId}`, async () => {
          const targets = await mountTargets(input.fileSystemId);
          return targets.find((t) => t.MountTargetId === id)?.LifeCycleState;
        });
      }
      return { ids, created };
    },

    /**
     * The access point for this directory and user, found by its client token, else created. One found is
     * used only when its root directory and POSIX user are the ones asked for.
     */
    async ensureAccessPoint(input: {
      fileSystemId: string;
      creationToken: string;
      path: string;
      uid: number;
      gid: number;
    }): Promise<{ id: string; created: boolean }> {
      const clientToken = accessPointToken(input);
      const existing = (await accessPoints(input.fileSystemId)).find((a) => a.ClientToken === clientToken);
      if (existing?.AccessPointId !== undefined) {
        const mismatch = accessPointMismatch(existing, input);
        if (mismatch !== undefined) {
          throw permanent(
            Failure.efsAccessPointMismatch,
            `EFS access point ${existing.AccessPointId} carries the client token of ${input.path} (uid ${input.uid}, gid ${input.gid}) but ${mismatch}; delete it, then run ensureEfs again`,
          );
        }
        return { id: existing.AccessPointId, created: false };
      }
      const point = await efs.send(
        new CreateAccessPointCommand({
          ClientToken: clientToken,
          FileSystemId: input.fileSystemId,
          PosixUser: { Uid: input.uid, Gid: input.gid },
          RootDirectory: { Path: input.path, CreationInfo: { OwnerUid: input.uid, OwnerGid: input.gid, Permissions: '0750' } },
          Tags: [{ Key: 'Name', Value: `${input.creationToken}:${input.path}`.replace(/[^\p{L}\p{N}_.:/=+@ -]/gu, '-').slice(0, 256) }],
        }),
      );
      return { id: point.AccessPointId as string, created: true };
    },
  };
}
