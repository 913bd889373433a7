import type { BatchClient } from '@aws-sdk/client-batch';
import type { EFSClient } from '@aws-sdk/client-efs';
import { type AwsTarget, createAccountHealth } from './account-health';

/** Activities of the `aws` queue, over injected AWS SDK clients. */
export function createAwsActivities(clients: { batch: BatchClient; efs: EFSClient }, target: AwsTarget) {
  return {
    ...createAccountHealth(clients.batch, clients.efs, target),
  };
}

export type AwsActivities = ReturnType<typeof createAwsActivities>;
