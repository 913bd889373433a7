import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import {
  BatchClient,
  DescribeJobsCommand,
  type JobDetail,
  ListJobsCommand,
  type ListJobsCommandOutput,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
  type SubmitJobCommandOutput,
} from '@aws-sdk/client-batch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchJobOptions, createBatchJobs } from '../../activities/aws/batch-jobs';
import { experimentJobName } from '../../common/batch-jobs';
import { type ExperimentSpec, experimentSpecSchema } from '../../common/experiment';
import { EXPERIMENT_LABEL } from '../../common/labels';
import { createJobQueue } from '../support/aws-fixtures';
import { eventually, tempDir, uniqueId } from '../support/experiments';
import { useTestbed } from '../support/harness';

// The Batch activities driven directly (as a worker runs them, in an activity context) against the AWS
// emulator, with the faults a real account shows injected into the client: a SubmitJob whose answer is lost,
// and a ListJobs that lags behind (AWS documents it as eventually consistent).

const { bed } = useTestbed();
const queue = uniqueId('attach');
const outputs = tempDir('batch-jobs');
let plain: BatchClient;
let logs: CloudWatchLogsClient;
let definition: string;

const clientOptions = () => ({ region: bed.awsRegion, endpoint: bed.awsEndpoint });

const spec = (id: string, command: string, extra: Record<string, unknown> = {}): ExperimentSpec =>
  experimentSpecSchema.parse({
    id,
    type: 'inference',
    backend: 'batch',
    image: 'local/busybox:1',
    command: ['sh', '-c', command],
    batch: { jobQueue: queue },
    ...extra,
  });

interface Faults {
  /** ListJobs leaves out the jobs this client submitted less than this long ago. */
  listingLagMs?: number;
  /** The next this-many SubmitJob calls reach Batch, but their answer never comes back. */
  lostSubmitAnswers?: number;
  /** Once: a ListJobs that shows a running job answers only after that job has ended (it ends between list and describe). */
  endsAfterListing?: boolean;
}

/** A Batch client on the emulator with `faults` injected between the SDK and the caller. */
function faultyBatch(faults: Faults): BatchClient {
  const client = new BatchClient(clientOptions());
  const submittedAt = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'SubmitJobCommand') {
        const { jobId } = result.output as SubmitJobCommandOutput;
        if (jobId !== undefined) submittedAt.set(jobId, Date.now());
        if ((faults.lostSubmitAnswers ?? 0) > 0) {
          faults.lostSubmitAnswers = (faults.lostSubmitAnswers ?? 0) - 1;
          throw new Error('socket hang up (the answer to SubmitJob was lost)');
        }
      }
      if (context.commandName === 'ListJobsCommand' && faults.listingLagMs !== undefined) {
        const lag = faults.listingLagMs;
        const out = result.output as ListJobsCommandOutput;
        out.jobSummaryList = out.jobSummaryList?.filter((j) => Date.now() - (submittedAt.get(j.jobId ?? '') ?? 0) >= lag);
      }
      if (context.commandName === 'ListJobsCommand' && faults.endsAfterListing === true) {
        const running = (result.output as ListJobsCommandOutput).jobSummaryList?.find((j) => j.status === 'RUNNING');
        if (running?.jobId !== undefined) {
          faults.endsAfterListing = false;
          await ended(running.jobId);
        }
      }
      return result;
    },
    { step: 'initialize', name: 'injectedFaults' },
  );
  return client;
}

/** Every job in the queue named like experiment `id`'s (as the emulator holds them, no lag), described. */
async function jobsNamed(id: string): Promise<JobDetail[]> {
  const { jobSummaryList = [] } = await plain.send(
    new ListJobsCommand({ jobQueue: queue, filters: [{ name: 'JOB_NAME', values: [experimentJobName(id)] }] }),
  );
  if (jobSummaryList.length === 0) return [];
  const { jobs = [] } = await plain.send(new DescribeJobsCommand({ jobs: jobSummaryList.map((j) => j.jobId as string) }));
  return jobs;
}

/** Submits a job for experiment `id` as sciops names and tags it, bypassing sciops (what an earlier attempt left). */
async function submitDirectly(id: string, command: string, tags: Record<string, string> = { [EXPERIMENT_LABEL]: id }): Promise<string> {
  const { jobId } = await plain.send(
    new SubmitJobCommand({
      jobName: experimentJobName(id),
      jobQueue: queue,
      jobDefinition: definition,
      containerOverrides: { command: ['sh', '-c', command] },
      tags,
    }),
  );
  return jobId as string;
}

/** The job once it has ended (SUCCEEDED or FAILED). */
function ended(jobId: string): Promise<JobDetail> {
  return eventually(`Batch job ${jobId} to end`, 60_000, async () => {
    const [job] = (await plain.send(new DescribeJobsCommand({ jobs: [jobId] }))).jobs ?? [];
    return job?.status === 'SUCCEEDED' || job?.status === 'FAILED' ? job : undefined;
  });
}

/** One attempt of an activity, as a worker runs it: its heartbeats are kept for the next attempt. */
function attempt(heartbeatDetails?: unknown) {
  const env = new MockActivityEnvironment({ heartbeatDetails, attempt: heartbeatDetails === undefined ? 1 : 2 });
  const beats: { at: number; details: unknown }[] = [];
  env.on('heartbeat', (details: unknown) => beats.push({ at: Date.now(), details }));
  const run = <A, R>(fn: (input: A) => Promise<R>, input: A) => env.run(fn, input) as Promise<R>;
  return { env, beats, run, last: () => beats.at(-1)?.details };
}

function activities(batch: BatchClient, options: BatchJobOptions = {}) {
  return createBatchJobs(batch, logs, outputs, options);
}

const read = (id: string, file: string) => readFileSync(path.join(outputs, id, file), 'utf8');

beforeAll(async () => {
  await createJobQueue(queue);
  plain = new BatchClient(clientOptions());
  logs = new CloudWatchLogsClient(clientOptions());
  const registered = await plain.send(
    new RegisterJobDefinitionCommand({
      jobDefinitionName: `${queue}-direct`,
      type: 'container',
      containerProperties: {
        image: 'local/busybox:1',
        resourceRequirements: [
          { type: 'VCPU', value: '1' },
          { type: 'MEMORY', value: '512' },
        ],
      },
    }),
  );
  definition = registered.jobDefinitionArn as string;
});

afterAll(() => {
  plain?.destroy();
  logs?.destroy();
});

describe('one Batch job per experiment, whatever fails on the way', () => {
  it('a retry after a lost SubmitJob answer waits for the lagging listing instead of submitting a second job', async () => {
    const s = spec(uniqueId('lost'), 'sleep 6; echo once');
    const batch = faultyBatch({ lostSubmitAnswers: 1, listingLagMs: 4000 });
    const jobs = activities(batch);
    const first = attempt();
    await expect(first.run(jobs.runBatchJob, { spec: s, timeLimitSeconds: 60 })).rejects.toThrow(/answer to SubmitJob was lost/);
    const second = attempt(first.last());
    const outcome = await second.run(jobs.runBatchJob, { spec: s, timeLimitSeconds: 60 });
    expect(outcome.exitCode).toBe(0);
    expect(read(s.id, 'stdout.txt')).toBe('once\n');
    expect(await jobsNamed(s.id)).toHaveLength(1);
    batch.destroy();
  });

  it('a retry takes the job id its previous attempt heartbeated, even when the listing does not show the job yet', async () => {
    const s = spec(uniqueId('beat'), 'sleep 8; echo attached');
    // Hidden for the retry's first look, shown by the time the job ends (the emulator's DescribeJobs leaves out
    // the exit code, which the listing carries).
    const batch = faultyBatch({ listingLagMs: 5000 });
    const jobs = activities(batch);
    const first = attempt();
    const run = first.run(jobs.runBatchJob, { spec: s, timeLimitSeconds: 60 });
    // The worker dies once the job is submitted: the attempt is cancelled after its first heartbeat with a job id.
    await eventually('a heartbeat with the job id', 20_000, async () =>
      first.beats.some((b) => typeof (b.details as { jobId?: unknown })?.jobId === 'string') ? true : undefined,
    );
    first.env.cancel();
    await expect(run).rejects.toThrow();
    const second = attempt(first.last());
    const outcome = await second.run(jobs.runBatchJob, { spec: s, timeLimitSeconds: 60 });
    expect(outcome.exitCode).toBe(0);
    expect(read(s.id, 'stdout.txt')).toBe('attached\n');
    expect((await jobsNamed(s.id)).map((j) => j.jobId)).toEqual([(first.last() as { jobId: string }).jobId]);
    batch.destroy();
  });

  it('duplicates that exist anyway are terminated; the oldest job is the one kept and reported', async () => {
    const id = uniqueId('dup');
    const older = await submitDirectly(id, 'sleep 4; echo older');
    await new Promise((r) => setTimeout(r, 1100));
    const newer = await submitDirectly(id, 'sleep 4; echo newer');
    const outcome = await attempt().run(activities(plain).runBatchJob, { spec: spec(id, 'echo unused'), timeLimitSeconds: 60 });
    expect(outcome.exitCode).toBe(0);
    expect(read(id, 'stdout.txt')).toBe('older\n');
    // Terminated, not left to run unsupervised (the emulator ends a terminated job FAILED once its container is killed).
    const duplicate = await ended(newer);
    expect(duplicate.status).toBe('FAILED');
    expect(duplicate.statusReason).toBe(`duplicate of Batch job ${older} of experiment ${id}: sciops runs one job per experiment`);
  });

  it('ids that differ only by case keep their own jobs: exact name, not the listing filter, which ignores case', async () => {
    const base = uniqueId('case');
    const upper = spec(`X${base}`, 'sleep 4; echo upper');
    const lower = spec(`x${base}`, 'echo lower');
    const upperJob = await submitDirectly(upper.id, 'sleep 4; echo upper');
    const jobs = activities(plain);
    const outcome = await attempt().run(jobs.runBatchJob, { spec: lower, timeLimitSeconds: 60 });
    expect(outcome.exitCode).toBe(0);
    expect(read(lower.id, 'stdout.txt')).toBe('lower\n');
    // Stopping the lower-case experiment leaves the upper-case one alone.
    await attempt().run(jobs.terminateBatchJob, { spec: lower, reason: 'stopped by request' });
    expect((await ended(upperJob)).status).toBe('SUCCEEDED');
  });

  it('a job with the experiment name but without its sciops.experiment tag is not adopted', async () => {
    const s = spec(uniqueId('untagged'), 'echo mine');
    const foreign = await submitDirectly(s.id, 'echo foreign', { owner: 'someone-else' });
    const outcome = await attempt().run(activities(plain).runBatchJob, { spec: s, timeLimitSeconds: 60 });
    expect(outcome.exitCode).toBe(0);
    expect(read(s.id, 'stdout.txt')).toBe('mine\n');
    const all = await jobsNamed(s.id);
    expect(all).toHaveLength(2);
    expect(all.find((j) => j.jobId !== foreign)?.tags?.[EXPERIMENT_LABEL]).toBe(s.id);
  });
});

describe('output and logs of a Batch job', () => {
  it('an outputDir outside the experiments directory is refused before any job is submitted', async () => {
    const elsewhere = tempDir('batch-elsewhere');
    const linked = path.join(outputs, 'linked');
    symlinkSync(elsewhere, linked);
    const jobs = activities(plain);
    for (const outputDir of [elsewhere, path.join(linked, 'run')]) {
      const s = spec(uniqueId('outdir'), 'echo escaped', { outputDir });
      const err = await attempt()
        .run(jobs.runBatchJob, { spec: s, timeLimitSeconds: 60 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).nonRetryable).toBe(true);
      expect((err as ApplicationFailure).message).toMatch(
        /outputDir: .* is not a directory under the experiments directory .*SCIOPS_EXPERIMENTS_DIR/,
      );
      expect(await jobsNamed(s.id)).toEqual([]);
    }
    expect(existsSync(path.join(elsewhere, 'stdout.txt'))).toBe(false);
    expect(existsSync(path.join(elsewhere, 'run'))).toBe(false);
  });

  it('a job that ends between the listing and its description keeps its exit code (the listing is read again)', async () => {
    const faults: Faults = { endsAfterListing: true };
    const s = spec(uniqueId('endsbetween'), 'sleep 3; echo finished; exit 4');
    const outcome = await attempt().run(activities(faultyBatch(faults)).runBatchJob, { spec: s, timeLimitSeconds: 60 });
    expect(faults.endsAfterListing).toBe(false);
    expect(outcome.exitCode).toBe(4);
    expect(read(s.id, 'stdout.txt')).toContain('finished');
  });

  it('a long CloudWatch log is copied while heartbeating: no silence near the 20 s heartbeat timeout', async () => {
    const s = spec(uniqueId('longlog'), 'seq 1 25000');
    // CloudWatch answers a page in a few seconds on a big log; here every page takes 3 s (three pages of 10000 events).
    const slowLogs = new CloudWatchLogsClient(clientOptions());
    slowLogs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetLogEventsCommand') await new Promise((r) => setTimeout(r, 3000));
        return next(args);
      },
      { step: 'initialize', name: 'slowPages' },
    );
    mkdirSync(outputs, { recursive: true });
    const run = attempt();
    const started = Date.now();
    const outcome = await run.run(createBatchJobs(plain, slowLogs, outputs).runBatchJob, { spec: s, timeLimitSeconds: 60 });
    const ended = Date.now();
    slowLogs.destroy();
    expect(outcome.exitCode).toBe(0);
    expect(read(s.id, 'stdout.txt').split('\n')).toHaveLength(25001);
    const marks = [started, ...run.beats.map((b) => b.at), ended];
    const longest = Math.max(...marks.slice(1).map((t, i) => t - marks[i]));
    expect(ended - started).toBeGreaterThan(9000);
    expect(longest).toBeLessThan(4000);
  });
});
