import { type BatchClient, DescribeJobsCommand, type JobDetail, ListJobsCommand, TerminateJobCommand } from '@aws-sdk/client-batch';
import { BATCH_ENDED, experimentJobName, isExperimentJob, keptJob } from '../../common/batch-jobs';
import type { ExperimentSpec } from '../../common/experiment';

/** DescribeJobs takes at most this many ids a call. */
const DESCRIBE_BATCH = 100;

/**
 * Finds an experiment's Batch jobs: listed by name (a case-insensitive, eventually consistent filter), then
 * described, and kept only with the exact name and the experiment's tag. Several jobs for one experiment
 * are duplicates (a submission retried after its answer was lost): the oldest is kept, the others terminated.
 */
export function createBatchJobLookup(batch: BatchClient) {
  async function describe(ids: readonly string[]): Promise<JobDetail[]> {
    const details: JobDetail[] = [];
    for (let i = 0; i < ids.length; i += DESCRIBE_BATCH) {
      const { jobs = [] } = await batch.send(new DescribeJobsCommand({ jobs: ids.slice(i, i + DESCRIBE_BATCH) }));
      details.push(...jobs);
    }
    return details;
  }

  /** The experiment's job ids in its queue (by name), with the exit code and status each summary carries. */
  async function listed(name: string, queue: string | undefined): Promise<Map<string, { exitCode?: number; ended: boolean }>> {
    const summaries = new Map<string, { exitCode?: number; ended: boolean }>();
    let nextToken: string | undefined;
    do {
      const page = await batch.send(new ListJobsCommand({ jobQueue: queue, filters: [{ name: 'JOB_NAME', values: [name] }], nextToken }));
      for (const summary of page.jobSummaryList ?? []) {
        if (summary.jobName !== name || summary.jobId === undefined) continue;
        summaries.set(summary.jobId, { exitCode: summary.container?.exitCode, ended: BATCH_ENDED.has(summary.status ?? '') });
      }
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    return summaries;
  }

  /**
   * Every job of the experiment in its queue, in any status. `known` ids (one just submitted, which the
   * listing may not show yet) are described directly. DescribeJobs may leave out the exit code that the
   * listing's summary carries; it is taken from the summary then. A job that ended between the listing and
   * the description has a summary from before its end, without the code: it is listed once more.
   */
  async function experimentJobs(spec: ExperimentSpec, known: readonly string[] = []): Promise<JobDetail[]> {
    const name = experimentJobName(spec.id);
    let summaries = await listed(name, spec.batch?.jobQueue);
    const jobs = (await describe([...new Set([...known, ...summaries.keys()])])).filter((job) => isExperimentJob(job, spec.id));
    const endedSinceListed = (job: JobDetail) =>
      BATCH_ENDED.has(job.status ?? '') && job.container?.exitCode === undefined && summaries.get(job.jobId ?? '')?.ended !== true;
    if (jobs.some(endedSinceListed)) summaries = await listed(name, spec.batch?.jobQueue);
    return jobs.map((job) => {
      const exitCode = job.container?.exitCode ?? summaries.get(job.jobId ?? '')?.exitCode;
      return exitCode === undefined ? job : { ...job, container: { ...job.container, exitCode } };
    });
  }

  async function terminate(job: JobDetail, reason: string): Promise<void> {
    if (job.jobId === undefined || BATCH_ENDED.has(job.status ?? '')) return;
    await batch.send(new TerminateJobCommand({ jobId: job.jobId, reason }));
  }

  return {
    experimentJobs,
    terminate,

    /**
     * The experiment's one job (undefined: none is known), after terminating any duplicate that still runs, so
     * that no second copy goes on unsupervised.
     */
    async keptJob(spec: ExperimentSpec, known: readonly string[] = []): Promise<JobDetail | undefined> {
      const { kept, duplicates } = keptJob(await experimentJobs(spec, known));
      for (const duplicate of duplicates) {
        await terminate(duplicate, `duplicate of Batch job ${kept?.jobId} of experiment ${spec.id}: sciops runs one job per experiment`);
      }
      return kept;
    },
  };
}

export type BatchJobLookup = ReturnType<typeof createBatchJobLookup>;
