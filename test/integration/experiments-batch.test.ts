import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BatchClient, DescribeJobDefinitionsCommand, DescribeJobsCommand, ListJobsCommand } from '@aws-sdk/client-batch';
import { DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeLifecycleConfigurationCommand, DescribeMountTargetsCommand, EFSClient } from '@aws-sdk/client-efs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experimentJobName } from '../../common/batch-jobs';
import type { EfsResult } from '../../common/efs';
import { Queue } from '../../common/queues';
import { WorkflowType } from '../../common/workflow-types';
import { createJobQueue } from '../support/aws-fixtures';
import { runExperiment, startExperiment, tempDir, uniqueId } from '../support/experiments';
import { useTestbed } from '../support/harness';
import { resetAws } from '../support/workers';

const JOB_QUEUE = 'experiments';
const outputs = tempDir('batch-experiments');
const t = useTestbed({
  databases: ['sciops_exp_batch'],
  before: async () => {
    await resetAws();
    await createJobQueue(JOB_QUEUE);
  },
  workers: (t) => [
    { queues: ['sciops', 'aws', 'db'], env: { DATABASE_URL: t.database('sciops_exp_batch').url, SCIOPS_EXPERIMENTS_DIR: outputs } },
  ],
});
const batch = new BatchClient({ region: t.bed.awsRegion, endpoint: t.bed.awsEndpoint });
const efs = new EFSClient({ region: t.bed.awsRegion, endpoint: t.bed.awsEndpoint });

const spec = (name: string, command: string, extra: Record<string, unknown> = {}) => ({
  id: uniqueId(name),
  type: 'inference',
  backend: 'batch',
  image: 'local/busybox:1',
  command: ['sh', '-c', command],
  batch: { jobQueue: JOB_QUEUE },
  ...extra,
});

const read = (id: string, file: string) => readFileSync(path.join(outputs, id, file), 'utf8');

afterAll(() => {
  batch.destroy();
  efs.destroy();
});

describe('runExperiment on the batch backend (jobs run as real containers by the emulator)', () => {
  it('COMPLETED: the log stream lands in stdout.txt; one job definition revision serves every experiment of a type', async () => {
    const first = spec('ok', 'echo "AUC 0.91"', { env: { MODEL: 'm1' } });
    const result = await runExperiment(t.client, first);
    expect(result).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(read(first.id, 'stdout.txt')).toBe('AUC 0.91\n');
    expect(read(first.id, 'stderr.txt')).toBe('');
    expect(read(first.id, 'exit_code.txt')).toBe('0\n');

    const second = spec('ok2', 'echo "model=$MODEL"', { env: { MODEL: 'm2' } });
    expect(await runExperiment(t.client, second)).toMatchObject({ state: 'COMPLETED' });
    expect(read(second.id, 'stdout.txt')).toBe('model=m2\n');
    const { jobDefinitions = [] } = await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: 'sciops-inference' }));
    expect(jobDefinitions.map((d) => d.revision)).toEqual([1]);
  });

  it('FINISHED_WITH_ERROR with the exit code Batch reports', async () => {
    const s = spec('fails', 'echo "out of memory" >&2; exit 2');
    const result = await runExperiment(t.client, s);
    expect(result).toMatchObject({ state: 'FINISHED_WITH_ERROR', exitCode: 2 });
    // The message names where the output is (CloudWatch's one log, copied as stdout.txt), never quotes it.
    expect(result.message).toContain(`exited with code 2; its stderr is in ${path.join(outputs, s.id)}/stdout.txt`);
    expect(result.message).not.toContain('out of memory');
    expect(read(s.id, 'stdout.txt')).toContain('out of memory');
  });

  it('TIMEOUT_EXCEEDED: past the soft limit the job is terminated (TerminateJob)', async () => {
    const s = spec('slow', 'echo working; sleep 60', { timeLimitSeconds: 4 });
    const result = await runExperiment(t.client, s);
    expect(result.state).toBe('TIMEOUT_EXCEEDED');
    expect(result.exitCode).not.toBe(0);
    expect(read(s.id, 'stdout.txt')).toBe('working\n');
  });

  it('STOPPED: cancelling the workflow terminates the job', async () => {
    const s = spec('stop', 'echo working; sleep 60');
    const handle = await startExperiment(t.client, s);
    await new Promise((r) => setTimeout(r, 4000));
    await handle.cancel();
    const result = await handle.result();
    expect(result.state).toBe('STOPPED');
  });
});

/** Makes every Batch job of the emulator take `seconds` per step from SUBMITTED to RUNNING (four steps). */
async function slowQueue(seconds: number | undefined): Promise<void> {
  const [route, body] =
    seconds === undefined
      ? ['unset-transition', { model_name: 'batch::job' }]
      : ['set-transition', { model_name: 'batch::job', transition: { progression: 'time', seconds } }];
  const res = await fetch(`${t.bed.awsEndpoint}/moto-api/state-manager/${route}`, { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${route} on the AWS emulator failed: HTTP ${res.status}`);
}

describe('time in the job queue is not run time', () => {
  beforeAll(() => slowQueue(3)); // about 12 s from SUBMITTED to RUNNING
  afterAll(() => slowQueue(undefined));

  it('the soft limit counts from RUNNING: a job that queues longer than its limit, then runs briefly, COMPLETES', async () => {
    const s = spec('queued', 'sleep 2; echo ran', { timeLimitSeconds: 6 });
    const result = await runExperiment(t.client, s);
    expect(result).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(read(s.id, 'stdout.txt')).toBe('ran\n');
  });

  it('a job still queued after batch.queueTimeoutSeconds is terminated: FINISHED_WITH_ERROR saying so', async () => {
    const s = spec('never-runs', 'echo ran', { batch: { jobQueue: JOB_QUEUE, queueTimeoutSeconds: 4 } });
    const result = await runExperiment(t.client, s);
    expect(result.state).toBe('FINISHED_WITH_ERROR');
    expect(result.message).toMatch(
      /^Batch job \S+ of experiment never-runs-\S+ waited \d+s in job queue experiments without starting \(still (SUBMITTED|PENDING|RUNNABLE|STARTING)\); it was terminated\. Raise batch\.queueTimeoutSeconds \(4s\)/,
    );
    const { jobSummaryList = [] } = await batch.send(
      new ListJobsCommand({ jobQueue: JOB_QUEUE, filters: [{ name: 'JOB_NAME', values: [experimentJobName(s.id)] }] }),
    );
    expect(jobSummaryList).toHaveLength(1);
    const [job] = (await batch.send(new DescribeJobsCommand({ jobs: [jobSummaryList[0].jobId as string] }))).jobs ?? [];
    expect(job?.statusReason).toMatch(/^waited \d+s in the queue without starting \(batch\.queueTimeoutSeconds 4\)$/);
  });
});

describe('the output directory of a Batch experiment', () => {
  it('an outputDir outside SCIOPS_EXPERIMENTS_DIR: FINISHED_WITH_ERROR naming it, and no job submitted', async () => {
    const elsewhere = tempDir('batch-outside');
    const s = spec('outside', 'echo escaped', { outputDir: elsewhere });
    const result = await runExperiment(t.client, s);
    expect(result.state).toBe('FINISHED_WITH_ERROR');
    expect(result.message).toBe(
      `the aws worker refuses experiment ${s.id}: outputDir: ${elsewhere} is not a directory under the experiments directory ${outputs} (SCIOPS_EXPERIMENTS_DIR); name one below it, or leave outputDir out`,
    );
    const { jobSummaryList = [] } = await batch.send(
      new ListJobsCommand({ jobQueue: JOB_QUEUE, filters: [{ name: 'JOB_NAME', values: [experimentJobName(s.id)] }] }),
    );
    expect(jobSummaryList).toEqual([]);
  });
});

describe('Batch experiments with EFS volumes', () => {
  it('register a job definition that mounts the file system through its access point', async () => {
    const efsVolumes = [
      { name: 'data', fileSystemId: 'fs-0123abcd', accessPointId: 'fsap-0123abcd', containerPath: '/data', readOnly: true },
    ];
    const s = spec('efs', 'ls /data', { type: 'dataset_sync', batch: { jobQueue: JOB_QUEUE, efsVolumes } });
    const result = await runExperiment(t.client, s);
    // The emulator registers and describes such a definition but cannot run its job (TESTBED.md).
    expect(result.state).toBe('FINISHED_WITH_ERROR');
    const { jobDefinitions = [] } = await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: 'sciops-dataset-sync' }));
    expect(jobDefinitions).toHaveLength(1);
    expect(jobDefinitions[0].containerProperties?.volumes).toEqual([
      {
        name: 'data',
        efsVolumeConfiguration: {
          fileSystemId: 'fs-0123abcd',
          transitEncryption: 'ENABLED',
          authorizationConfig: { accessPointId: 'fsap-0123abcd', iam: 'DISABLED' },
        },
      },
    ]);
    expect(jobDefinitions[0].containerProperties?.mountPoints).toEqual([{ sourceVolume: 'data', containerPath: '/data', readOnly: true }]);
  });
});

describe('ensureEfs: the shared file system Batch experiments mount', () => {
  it('creates the file system, a mount target per subnet, an access point and the lifecycle policy, once', async () => {
    const ec2 = new EC2Client({ region: t.bed.awsRegion, endpoint: t.bed.awsEndpoint });
    const { Subnets = [] } = await ec2.send(new DescribeSubnetsCommand({}));
    ec2.destroy();
    const subnetIds = Subnets.slice(0, 2).map((s) => s.SubnetId as string);
    expect(subnetIds).toHaveLength(2);
    const input = { creationToken: 'omics-shared', subnetIds, accessPoint: { path: '/experiments' } };
    const run = () =>
      t.client.workflow.execute(WorkflowType.ensureEfs, {
        taskQueue: Queue.workflows,
        workflowId: uniqueId('efs'),
        args: [input],
      }) as Promise<EfsResult>;

    const first = await run();
    expect(first.mountTargetIds).toHaveLength(2);
    expect(first.created).toHaveLength(4);
    const again = await run();
    expect(again).toEqual({ ...first, created: [] });

    const { MountTargets = [] } = await efs.send(new DescribeMountTargetsCommand({ FileSystemId: first.fileSystemId }));
    expect(MountTargets.map((t) => t.SubnetId).sort()).toEqual([...subnetIds].sort());
    const lifecycle = await efs.send(new DescribeLifecycleConfigurationCommand({ FileSystemId: first.fileSystemId }));
    expect(lifecycle.LifecyclePolicies).toEqual([{ TransitionToIA: 'AFTER_14_DAYS' }]);
  });
});
