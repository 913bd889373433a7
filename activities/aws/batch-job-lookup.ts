import { type BatchClient, DescribeJobsCommand, type JobDetail, ListJobsCommand, TerminateJobCommand } from '@aws-sdk/client-batch';
import { BATCH_ENDED, isExperimentJob, keptJob } from '../../common/batch-jobs';
import { type ExperimentSpec, experimentJobName } from '../../common/experiment';

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

  /**
   * Every job of the experiment in its queue, in any status. `known` ids (one just submitted, which the
   * listing may not show yet) are described directly. DescribeJobs may leave out the exit code that the
   * listing's summary carries; it is taken from the summary then.
   */
  async function experimentJobs(spec: ExperimentSpec, known: readonly string[] = []): Promise<JobDetail[]> {
    const name = experimentJobName(spec.id);
    const exitCodes = new Map<string, number>();
    const ids = new Set(known);
    let nextToken: string | undefined;
    do {
      const page = await batch.send(
        new ListJobsCommand({ jobQueue: spec.batch?.jobQueue, filters: [{ name: 'JOB_NAME', values: [name] }], nextToken }),
      );
      for (const summary of page.jobSummaryList ?? []) {
        if (summary.jobName !== name || summary.jobId === undefined) continue;
        ids.add(summary.jobId);
        if (summary.container?.exitCode !== undefined) exitCodes.set(summary.jobId, summary.container.exitCode);
      }
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    return (await describe([...ids]))
      .filter((job) => isExperimentJob(job, spec.id))
      .map((job) => {
        const exitCode = job.container?.exitCode ?? exitCodes.get(job.jobId ?? '');
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
