import { z } from 'zod';
import { NODE_NAME, nodeOfQueue } from './queues';

/** `ok`: works; `warn`: works, but something an operator will need later is missing; `fail`: broken. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One system's answer to the doctor: what was found, and for a warn/fail what to do about it. */
export interface CheckResult {
  /**
   * What was checked: a system, named after the task queue it ran on (`docker`, `docker@node-2`, `db`, `aws`),
   * or BACKUP_DIR_CHECK, the one check that takes two queues.
   */
  readonly check: string;
  readonly status: CheckStatus;
  /** One line: what works, or what is wrong. */
  readonly summary: string;
  /** What to do, for a warn or a fail. */
  readonly fix?: string;
  /** Facts found, in display order: engine version, swarm state, server version, region... */
  readonly facts: ReadonlyArray<readonly [string, string]>;
}

/**
 * The check that the db and docker workers keep local backups in the same directory (their SCIOPS_BACKUP_DIR):
 * a probe the db worker writes there must be read and removed by the docker worker. Not in the report when
 * the db worker has no SCIOPS_BACKUP_DIR.
 */
export const BACKUP_DIR_CHECK = 'local backups';

export interface DoctorReport {
  readonly status: CheckStatus;
  readonly checks: readonly CheckResult[];
}

export const doctorInputSchema = z
  .strictObject({
    nodes: z
      .array(z.string().regex(NODE_NAME, 'not a node name: use the hostname `docker node ls` shows'))
      .default([])
      .describe('swarm nodes whose node-local worker (queue docker@<node>) is checked as well'),
    waitSeconds: z
      .number()
      .int()
      .min(1)
      .max(600)
      .default(15)
      .describe('how long to wait for a worker to pick up each check before reporting it absent'),
  })
  .default({ nodes: [], waitSeconds: 15 });

export type DoctorInput = z.input<typeof doctorInputSchema>;

/** The report's overall status is its worst check's. */
export function overallStatus(checks: readonly CheckResult[]): CheckStatus {
  if (checks.some((c) => c.status === 'fail')) return 'fail';
  if (checks.some((c) => c.status === 'warn')) return 'warn';
  return 'ok';
}

/** A check for a queue no worker picked up in time. */
export function noWorkerResult(queue: string, waitSeconds: number): CheckResult {
  const node = nodeOfQueue(queue);
  const kind = node !== undefined ? `--node ${node}` : `--queues ${queue}`;
  return {
    check: queue,
    status: 'fail',
    summary: `no worker picked up the check on task queue "${queue}" within ${waitSeconds}s`,
    fix: `start one where it can reach the system: sciops worker ${kind}`,
    facts: [['task queue', queue]],
  };
}
