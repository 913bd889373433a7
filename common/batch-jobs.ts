import type { ExperimentSpec } from './experiment';
import { EXPERIMENT_LABEL } from './labels';

/** How long a Batch job may wait in its queue (SUBMITTED to RUNNING) when batch.queueTimeoutSeconds is not given. */
export const DEFAULT_QUEUE_TIMEOUT_SECONDS = 3600;

/** The name of an experiment's container, swarm service or Batch job. */
export function experimentJobName(id: string): string {
  return `sciops-exp-${id}`;
}

/** The part of a Batch job (DescribeJobs' detail) that says whose it is and where it stands. */
export interface BatchJobView {
  readonly jobId?: string;
  readonly jobName?: string;
  readonly createdAt?: number;
  readonly status?: string;
  readonly tags?: Record<string, string>;
}

/** Batch statuses after which a job runs no more. */
export const BATCH_ENDED: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED']);

/**
 * Whether `job` is experiment `id`'s: its exact name and its `sciops.experiment` tag. ListJobs' JOB_NAME filter
 * matches case-insensitively, so the listing of `exp1` also holds `Exp1`'s job; ids are case-sensitive (as
 * workflow ids, rows and paths are), and the two stay apart only by this check. Pure.
 */
export function isExperimentJob(job: BatchJobView, id: string): boolean {
  return job.jobName === experimentJobName(id) && job.tags?.[EXPERIMENT_LABEL] === id;
}

/**
 * Of one experiment's jobs, the one to keep and the duplicates to terminate. The oldest is kept (ties broken
 * by job id), so every attempt, and a second actor looking at the same jobs, chooses the same one. Pure.
 */
export function keptJob<T extends BatchJobView>(jobs: readonly T[]): { kept?: T; duplicates: T[] } {
  const [kept, ...duplicates] = [...jobs].sort(
    (a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0) || (a.jobId ?? '').localeCompare(b.jobId ?? ''),
  );
  return { kept, duplicates };
}

/** How long the experiment's job may wait in its queue before it runs. */
export function queueTimeoutSeconds(spec: Pick<ExperimentSpec, 'batch'>): number {
  return spec.batch?.queueTimeoutSeconds ?? DEFAULT_QUEUE_TIMEOUT_SECONDS;
}

/**
 * What a Batch activity records in its heartbeat: `submitting` before SubmitJob is sent, `jobId` as soon as
 * it is known. A retry reads it first, so a job whose submission answer was lost is not submitted again.
 */
export interface BatchHeartbeat {
  readonly jobId?: string;
  readonly submitting?: boolean;
}

/** The heartbeat details of a previous attempt, if they are a BatchHeartbeat; anything else reads as none. Pure. */
export function batchHeartbeat(details: unknown): BatchHeartbeat {
  if (details === null || typeof details !== 'object') return {};
  const { jobId, submitting } = details as Record<string, unknown>;
  return {
    ...(typeof jobId === 'string' && jobId !== '' ? { jobId } : {}),
    ...(submitting === true ? { submitting } : {}),
  };
}
