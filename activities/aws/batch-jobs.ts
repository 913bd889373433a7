import type { Writable } from 'node:stream';
import {
  type BatchClient,
  DescribeJobDefinitionsCommand,
  DescribeJobsCommand,
  type JobDetail,
  type JobSummary,
  ListJobsCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
  TerminateJobCommand,
} from '@aws-sdk/client-batch';
import { type CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { ApplicationFailure } from '@temporalio/common';
import { EXPERIMENT_LABEL, ExperimentFailure, type ExperimentSpec, experimentJobName, type RunOutcome } from '../../common/experiment';
import { outputDirOf, saveRunOutput } from '../files/run-output';
import { heartbeating, pause } from '../heartbeating';
import { containerOverrides, containerProperties, jobDefinitionName, pollDelayMs, propertiesHash, SPEC_HASH_TAG } from './job-definitions';

/** Where AWS Batch sends a job's combined stdout and stderr. */
const BATCH_LOG_GROUP = '/aws/batch/job';
const ENDED = new Set(['SUCCEEDED', 'FAILED']);

/**
 * Experiments as AWS Batch jobs: the job definition registered once per distinct setup, one job per
 * experiment named after its id (a retried submit finds it), polled with back-off, logs from CloudWatch.
 */
export function createBatchJobs(batch: BatchClient, logs: CloudWatchLogsClient, experimentsDir: string) {
  /** The ARN of an ACTIVE revision registered with these container properties, registering one if none is. */
  async function ensureJobDefinition(spec: ExperimentSpec): Promise<string> {
    const name = jobDefinitionName(spec);
    const properties = containerProperties(spec);
    const hash = propertiesHash(properties);
    const { jobDefinitions = [] } = await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: name, status: 'ACTIVE' }));
    const existing = jobDefinitions.find((d) => d.tags?.[SPEC_HASH_TAG] === hash);
    if (existing?.jobDefinitionArn !== undefined) return existing.jobDefinitionArn;
    const registered = await batch.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: name,
        type: 'container',
        containerProperties: properties,
        tags: { [SPEC_HASH_TAG]: hash },
      }),
    );
    return registered.jobDefinitionArn as string;
  }

  /** The experiment's job in its queue, whatever its status; the newest if (against the rules) several exist. */
  async function findJob(spec: ExperimentSpec): Promise<JobSummary | undefined> {
    const queue = spec.batch?.jobQueue as string;
    const { jobSummaryList = [] } = await batch.send(
      new ListJobsCommand({ jobQueue: queue, filters: [{ name: 'JOB_NAME', values: [experimentJobName(spec.id)] }] }),
    );
    return jobSummaryList.sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0))[0];
  }

  async function describe(jobId: string): Promise<JobDetail> {
    const { jobs = [] } = await batch.send(new DescribeJobsCommand({ jobs: [jobId] }));
    if (jobs[0] === undefined) throw new Error(`Batch job ${jobId} is not known to the job queue any more`);
    return jobs[0];
  }

  /** Copies the job's CloudWatch log stream into `out`, page by page. */
  async function copyLog(streamName: string | undefined, out: Writable): Promise<void> {
    if (streamName === undefined) return;
    let token: string | undefined;
    for (;;) {
      const page = await logs.send(
        new GetLogEventsCommand({ logGroupName: BATCH_LOG_GROUP, logStreamName: streamName, startFromHead: true, nextToken: token }),
      );
      for (const event of page.events ?? []) out.write(`${event.message ?? ''}\n`);
      if (page.nextForwardToken === undefined || page.nextForwardToken === token || (page.events ?? []).length === 0) return;
      token = page.nextForwardToken;
    }
  }

  /** Polls the job until it has ended (heartbeating, with back-off), then saves its log and exit code. */
  async function finish(spec: ExperimentSpec, jobId: string, outputDir: string): Promise<RunOutcome> {
    const ended = await heartbeating({ jobId }, async () => {
      for (let poll = 0; ; poll++) {
        const job = await describe(jobId);
        if (ENDED.has(job.status ?? '')) return job;
        await pause(pollDelayMs(poll));
      }
    });
    // DescribeJobs may leave out the exit code that ListJobs' summary carries; take whichever has it.
    const exitCode = ended.container?.exitCode ?? (await findJob(spec))?.container?.exitCode;
    if (exitCode === undefined) {
      throw ApplicationFailure.create({
        type: ExperimentFailure.runRejected,
        nonRetryable: true,
        message: `Batch job ${jobId} of experiment ${spec.id} ended ${ended.status} without running: ${ended.statusReason ?? 'no reason given'}`,
      });
    }
    const stream = ended.container?.logStreamName ?? ended.attempts?.at(-1)?.container?.logStreamName;
    // Batch keeps one combined log: it goes to stdout.txt (stderr.txt stays empty), and its end to the message.
    return saveRunOutput(outputDir, exitCode, (stdout) => copyLog(stream, stdout), 'stdout');
  }

  return {
    /**
     * Submits the experiment's job unless it exists, and waits for it to end. The job's hard
     * attemptDurationSeconds is the soft limit plus the grace period and a minute: the workflow's timer
     * stops it first, Batch only if the workflow cannot.
     */
    async runBatchJob(input: { spec: ExperimentSpec; timeLimitSeconds: number }): Promise<RunOutcome> {
      const { spec } = input;
      let jobId = (await findJob(spec))?.jobId;
      if (jobId === undefined) {
        const submitted = await batch.send(
          new SubmitJobCommand({
            jobName: experimentJobName(spec.id),
            jobQueue: spec.batch?.jobQueue,
            jobDefinition: await ensureJobDefinition(spec),
            containerOverrides: containerOverrides(spec),
            timeout: { attemptDurationSeconds: Math.max(60, input.timeLimitSeconds + spec.stopGraceSeconds + 60) },
            tags: { [EXPERIMENT_LABEL]: spec.id },
            propagateTags: true,
          }),
        );
        jobId = submitted.jobId as string;
      }
      return finish(spec, jobId, outputDirOf(spec, experimentsDir));
    },

    /** TerminateJob on the experiment's job, then saves what it printed. Undefined when it never ran. */
    async terminateBatchJob(input: { spec: ExperimentSpec; reason: string }): Promise<RunOutcome | undefined> {
      const job = await findJob(input.spec);
      if (job?.jobId === undefined) return undefined;
      if (!ENDED.has(job.status ?? '')) await batch.send(new TerminateJobCommand({ jobId: job.jobId, reason: input.reason }));
      return finish(input.spec, job.jobId, outputDirOf(input.spec, experimentsDir)).catch((err: unknown) => {
        if (err instanceof ApplicationFailure && err.type === ExperimentFailure.runRejected) return undefined;
        throw err;
      });
    },
  };
}
