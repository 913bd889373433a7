import { proxyActivities } from '@temporalio/workflow';
import type { AwsActivities } from '../activities/aws';
import { type EfsResult, efsInputSchema } from '../common/efs';
import { Failure } from '../common/failures';
import { Queue } from '../common/queues';
import { validatedInput } from '../common/validate';
import { trackProgress } from './progress-tracker';

/** Bounded: 10 attempts. */
const aws = proxyActivities<AwsActivities>({
  taskQueue: Queue.aws,
  startToCloseTimeout: '5m',
  retry: { maximumInterval: '30s', maximumAttempts: 10 },
});
/** The file system and mount targets are waited for until `available` (up to 10 minutes each), heartbeating. */
const waiting = proxyActivities<AwsActivities>({
  taskQueue: Queue.aws,
  startToCloseTimeout: '30m',
  heartbeatTimeout: '30s',
  retry: { maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: [Failure.efsNotAvailable] }, // bounded: 10 attempts
});

/**
 * The shared file system Batch experiments mount: the file system of a creation token (encrypted, with
 * backups and a transition to infrequent access), a mount target per subnet, and an access point for one
 * directory and user. Every step finds what exists first, so running it again changes nothing, and ends
 * only when what it made is `available`: jobs can mount it as soon as this workflow has finished.
 */
export async function ensureEfs(rawInput: unknown): Promise<EfsResult> {
  const input = validatedInput(efsInputSchema, rawInput, 'EFS input');
  const progress = trackProgress(['file system', 'mount targets', 'access point']);

  return progress.whole(async () => {
    const fs = await progress.step(
      'file system',
      () => waiting.ensureFileSystem(input),
      (f) => f.id,
      input.creationToken,
    );
    const targets = await progress.step(
      'mount targets',
      () => waiting.ensureMountTargets({ fileSystemId: fs.id, subnetIds: input.subnetIds, securityGroupIds: input.securityGroupIds }),
      (t) => t.ids.join(', '),
      `${input.subnetIds.length} subnets`,
    );

    const point = input.accessPoint;
    let accessPoint: { id: string; created: boolean } | undefined;
    if (point === undefined) {
      progress.finish('access point', 'skipped');
    } else {
      accessPoint = await progress.step(
        'access point',
        () => aws.ensureAccessPoint({ fileSystemId: fs.id, creationToken: input.creationToken, ...point }),
        (a) => a.id,
        point.path,
      );
    }
    return {
      fileSystemId: fs.id,
      mountTargetIds: targets.ids,
      ...(accessPoint === undefined ? {} : { accessPointId: accessPoint.id }),
      created: [...(fs.created ? [fs.id] : []), ...targets.created, ...(accessPoint?.created ? [accessPoint.id] : [])],
    };
  });
}
