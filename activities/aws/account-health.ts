import { type BatchClient, DescribeJobQueuesCommand, type JobQueueDetail } from '@aws-sdk/client-batch';
import { DescribeFileSystemsCommand, type EFSClient } from '@aws-sdk/client-efs';
import type { CheckResult } from '../../common/doctor';
import { explainAwsError } from './errors';

export interface AwsTarget {
  readonly region: string;
  /** AWS_ENDPOINT_URL when an emulator or a private endpoint is used. */
  readonly endpoint?: string;
}

/** `name (STATE/status)` for each queue, and the ones a job could not be submitted to. */
export function describeJobQueues(queues: readonly JobQueueDetail[]): { lines: string[]; unusable: string[] } {
  const lines = queues.map((q) => `${q.jobQueueName} (${q.state}/${q.status})`).sort();
  const unusable = queues.filter((q) => q.state !== 'ENABLED' || q.status !== 'VALID').map((q) => q.jobQueueName ?? '?');
  return { lines, unusable };
}

export function createAccountHealth(batch: BatchClient, efs: EFSClient, target: AwsTarget) {
  const where = target.endpoint ?? `AWS (${target.region})`;
  return {
    /** Endpoint reachable with the configured credentials; Batch job queues and EFS file systems visible. */
    async checkAws(): Promise<CheckResult> {
      const check = 'aws';
      const facts: Array<[string, string]> = [
        ['region', target.region],
        ['endpoint', target.endpoint ?? 'AWS'],
      ];
      let queues: JobQueueDetail[] = [];
      let fileSystems = 0;
      try {
        let nextToken: string | undefined;
        do {
          const page = await batch.send(new DescribeJobQueuesCommand({ nextToken }));
          queues = queues.concat(page.jobQueues ?? []);
          nextToken = page.nextToken;
        } while (nextToken);
        const fs = await efs.send(new DescribeFileSystemsCommand({}));
        fileSystems = fs.FileSystems?.length ?? 0;
      } catch (err) {
        const { summary, fix } = explainAwsError(err, where);
        return { check, status: 'fail', summary, fix, facts };
      }
      const { lines, unusable } = describeJobQueues(queues);
      facts.push(['batch job queues', lines.length > 0 ? lines.join(', ') : 'none']);
      facts.push(['efs file systems', String(fileSystems)]);
      if (queues.length === 0) {
        return {
          check,
          status: 'warn',
          summary: `${where} answers, but no Batch job queue exists`,
          fix: 'experiments on the batch backend need a job queue: create a compute environment and a job queue first',
          facts,
        };
      }
      if (unusable.length === queues.length) {
        return {
          check,
          status: 'warn',
          summary: `${where} answers, but no Batch job queue is ENABLED and VALID (${unusable.join(', ')})`,
          fix: 'enable a job queue (aws batch update-job-queue --state ENABLED) or fix its compute environment',
          facts,
        };
      }
      return {
        check,
        status: 'ok',
        summary: `${where} answers; ${queues.length} Batch job queue(s), ${fileSystems} EFS file system(s)`,
        facts,
      };
    },
  };
}
