import type { BatchClient } from '@aws-sdk/client-batch';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { EFSClient } from '@aws-sdk/client-efs';
import { type AwsTarget, createAccountHealth } from './account-health';
import { createBatchJobs } from './batch-jobs';
import { createEfsActivities } from './efs';

export interface AwsClients {
  readonly batch: BatchClient;
  readonly efs: EFSClient;
  readonly logs: CloudWatchLogsClient;
}

/** Activities of the `aws` queue, over injected AWS SDK clients. */
export function createAwsActivities(clients: AwsClients, target: AwsTarget, experimentsDir: string) {
  // Spreads of objects whose members are async functions (biome's nursery rule mistakes them for promises);
  // a spread keeps every activity's type, where Object.assign of more than four parts degrades to any.
  return {
    ...createAccountHealth(clients.batch, clients.efs, target),
    // biome-ignore lint/nursery/noMisusedPromises: an object of activity functions, not a promise
    ...createBatchJobs(clients.batch, clients.logs, experimentsDir),
    ...createEfsActivities(clients.efs),
  };
}

export type AwsActivities = ReturnType<typeof createAwsActivities>;
