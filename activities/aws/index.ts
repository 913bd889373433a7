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
  return Object.assign(
    createAccountHealth(clients.batch, clients.efs, target),
    createBatchJobs(clients.batch, clients.logs, experimentsDir),
    createEfsActivities(clients.efs),
  );
}

export type AwsActivities = ReturnType<typeof createAwsActivities>;
