import {
  CreateAccessPointCommand,
  CreateFileSystemCommand,
  CreateMountTargetCommand,
  DescribeAccessPointsCommand,
  DescribeFileSystemsCommand,
  DescribeMountTargetsCommand,
  type EFSClient,
  PutLifecycleConfigurationCommand,
} from '@aws-sdk/client-efs';
import type { EfsInput } from '../../common/efs';
import { pause } from '../heartbeating';

/**
 * EFS for Batch experiments, every call idempotent: the creation token names the file system, mount targets
 * are looked up per subnet, the access point by its client token.
 */
export function createEfsActivities(efs: EFSClient) {
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
      for (let poll = 0; ; poll++) {
        const { FileSystems: [fs] = [] } = await efs.send(new DescribeFileSystemsCommand({ FileSystemId: id }));
        if (fs?.LifeCycleState === 'available') break;
        if (poll > 60) throw new Error(`EFS file system ${id} is still ${fs?.LifeCycleState} after a minute`);
        await pause(1000);
      }
      await efs.send(
        new PutLifecycleConfigurationCommand({ FileSystemId: id, LifecyclePolicies: [{ TransitionToIA: input.transitionToIA }] }),
      );
      return { id, created };
    },

    /** A mount target in each subnet, creating only the missing ones. */
    async ensureMountTargets(input: { fileSystemId: string; subnetIds: readonly string[]; securityGroupIds: readonly string[] }) {
      const { MountTargets = [] } = await efs.send(new DescribeMountTargetsCommand({ FileSystemId: input.fileSystemId }));
      const ids: string[] = [];
      const created: string[] = [];
      for (const subnet of input.subnetIds) {
        const existing = MountTargets.find((t) => t.SubnetId === subnet);
        if (existing?.MountTargetId !== undefined) {
          ids.push(existing.MountTargetId);
          continue;
        }
        const target = await efs.send(
          new CreateMountTargetCommand({
            FileSystemId: input.fileSystemId,
            SubnetId: subnet,
            ...(input.securityGroupIds.length === 0 ? {} : { SecurityGroups: [...input.securityGroupIds] }),
          }),
        );
        ids.push(target.MountTargetId as string);
        created.push(target.MountTargetId as string);
      }
      return { ids, created };
    },

    /** The access point for this directory, found by its client token, else created. */
    async ensureAccessPoint(input: {
      fileSystemId: string;
      creationToken: string;
      path: string;
      uid: number;
      gid: number;
    }): Promise<{ id: string; created: boolean }> {
      const clientToken = `${input.creationToken}${input.path}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
      const { AccessPoints = [] } = await efs.send(new DescribeAccessPointsCommand({ FileSystemId: input.fileSystemId }));
      const existing = AccessPoints.find((a) => a.ClientToken === clientToken);
      if (existing?.AccessPointId !== undefined) return { id: existing.AccessPointId, created: false };
      const point = await efs.send(
        new CreateAccessPointCommand({
          ClientToken: clientToken,
          FileSystemId: input.fileSystemId,
          PosixUser: { Uid: input.uid, Gid: input.gid },
          RootDirectory: { Path: input.path, CreationInfo: { OwnerUid: input.uid, OwnerGid: input.gid, Permissions: '0750' } },
          Tags: [{ Key: 'Name', Value: clientToken }],
        }),
      );
      return { id: point.AccessPointId as string, created: true };
    },
  };
}
