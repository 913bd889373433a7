import type { Writable } from 'node:stream';
import {
  type BatchClient,
  DescribeJobDefinitionsCommand,
  type JobDetail,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
} from '@aws-sdk/client-batch';
import { type CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { BATCH_ENDED, type BatchHeartbeat, batchHeartbeat, experimentJobName, keptJob, queueTimeoutSeconds } from '../../common/batch-jobs';
import { InputError } from '../../common/errors';
import { type ExperimentSpec, experimentSpecSchema, type RunOutcome } from '../../common/experiment';
import { DEFAULT_EXPERIMENT_POLICY } from '../../common/experiment-policy';
import { experimentRunRejected, Failure } from '../../common/failures';
import { EXPERIMENT_LABEL, SPEC_HASH_LABEL } from '../../common/labels';
import { parseInput } from '../../common/validate';
import { createExperimentGuard } from '../docker/experiment-policy';
import { saveRunOutput } from '../files/run-output';
import { heartbeating, pause } from '../heartbeating';
import { createBatchJobLookup } from './batch-job-lookup';
import { containerOverrides, containerProperties, jobDefinitionName, pollDelayMs, propertiesHash } from './job-definitions';

/** Where AWS Batch sends a job's combined stdout and stderr. */
const BATCH_LOG_GROUP = '/aws/batch/job';
/** The wait for a job to leave its queue polls at least this often, so the soft limit starts close to RUNNING. */
const START_POLL_MAX_MS = 5000;

export interface BatchJobOptions {
  /**
   * How long a retry whose previous attempt sent SubmitJob without hearing back waits for ListJobs (eventually
   * consistent) to show that job, before it submits one itself. @default 30 s
   */
  readonly listingLagMs?: number;
}

/**
 * Experiments as AWS Batch jobs: the job definition registered once per distinct setup, one job per
 * experiment named after its id and tagged with it, its id recorded in the heartbeat as soon as it is known,
 * polled with back-off, logs from CloudWatch. Output goes under the experiments directory only.
 */
export function createBatchJobs(batch: BatchClient, logs: CloudWatchLogsClient, experimentsDir: string, options: BatchJobOptions = {}) {
  const lookup = createBatchJobLookup(batch);
  const guard = createExperimentGuard(experimentsDir, DEFAULT_EXPERIMENT_POLICY, 'aws');
  const listingLagMs = options.listingLagMs ?? 30_000;

  /** The spec as the schema parses it (activity input is untrusted) and its confined output directory; checked before anything is made. */
  async function admit(raw: unknown): Promise<{ spec: ExperimentSpec; outputDir: string }> {
    let spec: ExperimentSpec;
    try {
      spec = parseInput(experimentSpecSchema, raw, 'experiment spec');
    } catch (err) {
      if (err instanceof InputError) throw experimentRunRejected(`the aws worker refuses the experiment: ${err.issues.join('; ')}`);
      throw err;
    }
    if (spec.batch === undefined)
      throw experimentRunRejected(`experiment ${spec.id} is not a Batch experiment: give backend: batch and batch.jobQueue`);
    return { spec, outputDir: await guard.outputDir(spec) };
  }

  /** The ARN of an ACTIVE revision registered with these container properties, registering one if none is. */
  async function ensureJobDefinition(spec: ExperimentSpec): Promise<string> {
    const name = jobDefinitionName(spec);
    const properties = containerProperties(spec);
    const hash = propertiesHash(properties);
    const { jobDefinitions = [] } = await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: name, status: 'ACTIVE' }));
    const existing = jobDefinitions.find((d) => d.tags?.[SPEC_HASH_LABEL] === hash);
    if (existing?.jobDefinitionArn !== undefined) return existing.jobDefinitionArn;
    const registered = await batch.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: name,
        type: 'container',
        containerProperties: properties,
        tags: { [SPEC_HASH_LABEL]: hash },
      }),
    );
    return registered.jobDefinitionArn as string;
  }

  function beat(details: BatchHeartbeat): void {
    Context.current().heartbeat(details);
  }

  /**
   * The experiment's job: the one a previous attempt recorded in its heartbeat, else the one the queue lists,
   * else a new one. When the previous attempt sent SubmitJob and never heard back, its job is waited for
   * (the listing lags) before another is submitted; a duplicate that still slips through is terminated by
   * the next look at the experiment's jobs (`keptJob`).
   */
  async function ensureJob(spec: ExperimentSpec, timeLimitSeconds: number): Promise<string> {
    const prior = batchHeartbeat(Context.current().info.heartbeatDetails);
    let job = await lookup.keptJob(spec, prior.jobId === undefined ? [] : [prior.jobId]);
    if (job === undefined && prior.submitting === true) {
      job = await heartbeating(prior, async () => {
        for (const until = Date.now() + listingLagMs; Date.now() < until; ) {
          await pause(Math.min(2000, listingLagMs));
          const listed = await lookup.keptJob(spec);
          if (listed !== undefined) return listed;
        }
        return undefined;
      });
    }
    if (job?.jobId !== undefined) {
      beat({ jobId: job.jobId });
      return job.jobId;
    }
    const jobDefinition = await ensureJobDefinition(spec);
    beat({ submitting: true });
    const submitted = await batch.send(
      new SubmitJobCommand({
        jobName: experimentJobName(spec.id),
        jobQueue: spec.batch?.jobQueue,
        jobDefinition,
        containerOverrides: containerOverrides(spec),
        timeout: { attemptDurationSeconds: Math.max(60, timeLimitSeconds + spec.stopGraceSeconds + 60) },
        tags: { [EXPERIMENT_LABEL]: spec.id },
        propagateTags: true,
      }),
    );
    const jobId = submitted.jobId as string;
    beat({ jobId });
    return jobId;
  }

  /** The experiment's one job, duplicates terminated; a job Batch no longer knows ends the run (retrying cannot bring it back). */
  async function current(spec: ExperimentSpec, jobId: string): Promise<JobDetail & { jobId: string }> {
    const job = await lookup.keptJob(spec, [jobId]);
    if (job?.jobId === undefined) {
      throw experimentRunRejected(`Batch job ${jobId} of experiment ${spec.id} is not known to job queue ${spec.batch?.jobQueue} any more`);
    }
    return job as JobDetail & { jobId: string };
  }

  /** Copies the job's CloudWatch log stream into `out`, page by page, until `signal` aborts. */
  async function copyLog(streamName: string | undefined, out: Writable, signal: AbortSignal): Promise<void> {
    if (streamName === undefined) return;
    let token: string | undefined;
    for (;;) {
      const page = await logs.send(
        new GetLogEventsCommand({ logGroupName: BATCH_LOG_GROUP, logStreamName: streamName, startFromHead: true, nextToken: token }),
        { abortSignal: signal },
      );
      for (const event of page.events ?? []) out.write(`${event.message ?? ''}\n`);
      if (page.nextForwardToken === undefined || page.nextForwardToken === token || (page.events ?? []).length === 0) return;
      token = page.nextForwardToken;
    }
  }

  /** Polls the job until it has ended (heartbeating, with back-off), then saves its log (heartbeating) and exit code. */
  async function finish(spec: ExperimentSpec, jobId: string, outputDir: string): Promise<RunOutcome> {
    const ended = await heartbeating({ jobId }, async () => {
      for (let poll = 0; ; poll++) {
        const job = await current(spec, jobId);
        if (BATCH_ENDED.has(job.status ?? '')) return job;
        await pause(pollDelayMs(poll));
      }
    });
    const exitCode = ended.container?.exitCode;
    if (exitCode === undefined) {
      throw experimentRunRejected(
        `Batch job ${ended.jobId} of experiment ${spec.id} ended ${ended.status} without running: ${ended.statusReason ?? 'no reason given'}`,
      );
    }
    const stream = ended.container?.logStreamName ?? ended.attempts?.at(-1)?.container?.logStreamName;
    // Batch keeps one combined log: it goes to stdout.txt (stderr.txt stays empty), and its end to the message.
    // A long log takes many pages: the copy heartbeats too, or it would outlast the heartbeat timeout and be retried for ever.
    return heartbeating({ jobId: ended.jobId }, (signal) =>
      saveRunOutput(outputDir, exitCode, (stdout) => copyLog(stream, stdout, signal), 'stdout'),
    );
  }

  return {
    /**
     * Submits the experiment's job unless it exists, and waits until it runs (or has ended): the soft time
     * limit counts from here, not from the submission. A job still waiting after batch.queueTimeoutSeconds
     * (counted from its creation, so retries do not extend it) is terminated, and the run ends rejected.
     */
    async startBatchJob(input: { spec: ExperimentSpec; timeLimitSeconds: number }): Promise<{ jobId: string }> {
      const { spec } = await admit(input.spec);
      const jobId = await ensureJob(spec, input.timeLimitSeconds);
      const limit = queueTimeoutSeconds(spec);
      return heartbeating({ jobId }, async () => {
        for (let poll = 0; ; poll++) {
          const job = await current(spec, jobId);
          if (job.status === 'RUNNING' || BATCH_ENDED.has(job.status ?? '')) return { jobId: job.jobId };
          const waited = Math.round((Date.now() - (job.createdAt ?? Date.now())) / 1000);
          if (waited >= limit) {
            await lookup.terminate(job, `waited ${waited}s in the queue without starting (batch.queueTimeoutSeconds ${limit})`);
            throw experimentRunRejected(
              `Batch job ${job.jobId} of experiment ${spec.id} waited ${waited}s in job queue ${spec.batch?.jobQueue} without starting (still ${job.status}); it was terminated. Raise batch.queueTimeoutSeconds (${limit}s) or give the queue more compute`,
            );
          }
          await pause(Math.min(START_POLL_MAX_MS, pollDelayMs(poll)));
        }
      });
    },

    /**
     * Waits for the experiment's job to end and saves its output. `jobId` is startBatchJob's; without it (runs
     * started before that step existed) the job is found or submitted here. The job's hard
     * attemptDurationSeconds (counted by Batch from RUNNING) is the soft limit plus the grace period and a
     * minute: the workflow's timer stops it first, Batch only if the workflow cannot.
     */
    async runBatchJob(input: { spec: ExperimentSpec; timeLimitSeconds: number; jobId?: string }): Promise<RunOutcome> {
      const { spec, outputDir } = await admit(input.spec);
      const jobId = input.jobId ?? (await ensureJob(spec, input.timeLimitSeconds));
      return finish(spec, jobId, outputDir);
    },

    /** TerminateJob on every job of the experiment, then saves what the kept one printed. Undefined when none ran. */
    async terminateBatchJob(input: { spec: ExperimentSpec; reason: string; jobId?: string }): Promise<RunOutcome | undefined> {
      const { spec, outputDir } = await admit(input.spec);
      const jobs = await lookup.experimentJobs(spec, input.jobId === undefined ? [] : [input.jobId]);
      for (const job of jobs) await lookup.terminate(job, input.reason);
      const { kept } = keptJob(jobs);
      if (kept?.jobId === undefined) return undefined;
      return finish(spec, kept.jobId, outputDir).catch((err: unknown) => {
        if (err instanceof ApplicationFailure && err.type === Failure.experimentRunRejected) return undefined;
        throw err;
      });
    },
  };
}
