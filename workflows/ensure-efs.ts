import { proxyActivities } from '@temporalio/workflow';
import type { AwsActivities } from '../activities/aws';
import { type EfsResult, efsInputSchema } from '../common/efs';
import { Failure } from '../common/failures';
import { Queue } from '../common/queues';
import { trackProgress } from './progress-tracker';
import { validatedInput } from './validated-input';

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
    progress.start('file system', input.creationToken);
    const fs = await waiting.ensureFileSystem(input);
    progress.finish('file system', 'done', fs.id);

    progress.start('mount targets', `${input.subnetIds.length} subnets`);
    const targets = await waiting.ensureMountTargets({
      fileSystemId: fs.id,
      subnetIds: input.subnetIds,
      securityGroupIds: input.securityGroupIds,
    });
    progress.finish('mount targets', 'done', targets.ids.join(', '));

    let accessPoint: { id: string; created: boolean } | undefined;
    if (input.accessPoint === undefined) {
      progress.finish('access point', 'skipped');
    } else {
      progress.start('access point', input.accessPoint.path);
      accessPoint = await aws.ensureAccessPoint({ fileSystemId: fs.id, creationToken: input.creationToken, ...input.accessPoint });
      progress.finish('access point', 'done', accessPoint.id);
    }
    return {
      fileSystemId: fs.id,
      mountTargetIds: targets.ids,
      ...(accessPoint === undefined ? {} : { accessPointId: accessPoint.id }),
      created: [...(fs.created ? [fs.id] : []), ...targets.created, ...(accessPoint?.created ? [accessPoint.id] : [])],
    };
  });
}
