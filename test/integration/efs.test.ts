import { DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateAccessPointCommand,
  type CreateMountTargetCommandOutput,
  DescribeAccessPointsCommand,
  type DescribeMountTargetsCommandOutput,
  EFSClient,
} from '@aws-sdk/client-efs';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessPointToken, createEfsActivities, type EfsOptions } from '../../activities/aws/efs';
import { uniqueId } from '../support/experiments';
import { useTestbed } from '../support/harness';

// The EFS activities driven directly (in an activity context) against the AWS emulator. The emulator makes
// mount targets `available` at once; AWS takes a minute or more, which the client below reproduces.

const { bed } = useTestbed();
let efs: EFSClient;
let subnetIds: string[];

const clientOptions = () => ({ region: bed.awsRegion, endpoint: bed.awsEndpoint });

function run<A, R>(fn: (input: A) => Promise<R>, input: A): Promise<R> {
  return new MockActivityEnvironment().run(fn, input) as Promise<R>;
}

async function newFileSystem(): Promise<string> {
  const { ensureFileSystem } = createEfsActivities(efs);
  const fs = await run(ensureFileSystem, { creationToken: uniqueId('efs-test'), backup: true, transitionToIA: 'AFTER_14_DAYS' as const });
  return fs.id;
}

/** An EFS client whose DescribeMountTargets says `creating` for targets made less than `creatingMs` ago. */
function slowMountTargets(creatingMs: number): { client: EFSClient; availableAt: Map<string, number> } {
  const client = new EFSClient(clientOptions());
  const availableAt = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'CreateMountTargetCommand') {
        const { MountTargetId } = result.output as CreateMountTargetCommandOutput;
        if (MountTargetId !== undefined) availableAt.set(MountTargetId, Date.now() + creatingMs);
      }
      if (context.commandName === 'DescribeMountTargetsCommand') {
        const out = result.output as DescribeMountTargetsCommandOutput;
        out.MountTargets = out.MountTargets?.map((t) =>
          Date.now() < (availableAt.get(t.MountTargetId ?? '') ?? 0) ? { ...t, LifeCycleState: 'creating' } : t,
        );
      }
      return result;
    },
    { step: 'initialize', name: 'mountTargetsCreating' },
  );
  return { client, availableAt };
}

beforeAll(async () => {
  efs = new EFSClient(clientOptions());
  const ec2 = new EC2Client(clientOptions());
  const { Subnets = [] } = await ec2.send(new DescribeSubnetsCommand({}));
  ec2.destroy();
  subnetIds = Subnets.slice(0, 2).map((s) => s.SubnetId as string);
  expect(subnetIds).toHaveLength(2);
});

afterAll(() => efs?.destroy());

describe('mount targets are reported only once they are available', () => {
  const ensure = (client: EFSClient, fileSystemId: string, options: EfsOptions = {}) =>
    run(createEfsActivities(client, options).ensureMountTargets, { fileSystemId, subnetIds, securityGroupIds: [] });

  it('waits while a new mount target is still creating', async () => {
    const { client, availableAt } = slowMountTargets(3000);
    const result = await ensure(client, await newFileSystem());
    const returned = Date.now();
    client.destroy();
    expect(result.created).toHaveLength(2);
    for (const id of result.ids) expect(returned).toBeGreaterThanOrEqual(availableAt.get(id) as number);
  });

  it('gives up at its deadline with a non-retryable failure naming the mount target and its state', async () => {
    const { client } = slowMountTargets(3_600_000);
    const err = await ensure(client, await newFileSystem(), { availableWithinMs: 1500 }).catch((e: unknown) => e);
    client.destroy();
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('EfsNotAvailable');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).message).toMatch(/^EFS mount target fsmt-\S+ of fs-\S+ is still creating after 2s; /);
  });
});

describe('access points: one per directory and user', () => {
  const ensure = (fileSystemId: string, path: string, uid: number, gid = uid) =>
    run(createEfsActivities(efs).ensureAccessPoint, { fileSystemId, creationToken: 'omics', path, uid, gid });

  it('directories whose names differ only in punctuation, and users of one directory, get their own access points', async () => {
    const fs = await newFileSystem();
    const alice = await ensure(fs, '/projects/alice/data', 1001);
    const other = await ensure(fs, '/projects/alice.data', 2002);
    const sameDirOtherUser = await ensure(fs, '/projects/alice/data', 1002);
    const otherGroup = await ensure(fs, '/projects/alice/data', 1001, 3003);
    const again = await ensure(fs, '/projects/alice/data', 1001);
    expect(new Set([alice.id, other.id, sameDirOtherUser.id, otherGroup.id]).size).toBe(4);
    expect(again).toEqual({ id: alice.id, created: false });
    const { AccessPoints = [] } = await efs.send(new DescribeAccessPointsCommand({ AccessPointId: other.id }));
    expect(AccessPoints[0]).toMatchObject({ RootDirectory: { Path: '/projects/alice.data' }, PosixUser: { Uid: 2002, Gid: 2002 } });
  });

  it('an access point carrying the client token but serving another directory is refused, not used', async () => {
    const fs = await newFileSystem();
    const want = { creationToken: 'omics', path: '/projects/bob', uid: 1001, gid: 1001 };
    await efs.send(
      new CreateAccessPointCommand({
        FileSystemId: fs,
        ClientToken: accessPointToken(want),
        PosixUser: { Uid: 1001, Gid: 1001 },
        RootDirectory: { Path: '/projects' },
      }),
    );
    const err = await ensure(fs, want.path, want.uid).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('EfsAccessPointMismatch');
    expect((err as ApplicationFailure).message).toMatch(/its root directory is \/projects, not \/projects\/bob; delete it/);
  });
});
