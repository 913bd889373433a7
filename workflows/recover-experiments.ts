import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { continueAsNew, ParentClosePolicy, proxyActivities, startChild } from '@temporalio/workflow';
import type { DbActivities } from '../activities/db';
import { InputError } from '../common/errors';
import { experimentSpecSchema } from '../common/experiment';
import { ExperimentState } from '../common/experiment-state';
import { Queue } from '../common/queues';
import { type RecoveryReport, recoverInputSchema } from '../common/recovery';
import { parseInput, validatedInput } from '../common/validate';
import { experimentWorkflowId } from '../common/workflow-ids';
import { trackProgress } from './progress-tracker';
import type { runExperiment } from './run-experiment';

/** Listing a page of rows. Bounded: 10 attempts; the next scheduled recovery tries again. */
const db = proxyActivities<DbActivities>({
  taskQueue: Queue.db,
  startToCloseTimeout: '60s',
  retry: { maximumInterval: '30s', maximumAttempts: 10 },
});

/** Pages per run before continuing as new, so the history stays small however long the backlog. */
const PAGES_PER_RUN = 5;

/**
 * Finds experiments left PENDING or IN_PROCESS (by a crash, or inserted by the platform's own app) and starts
 * each one's runExperiment workflow under its own id, `experiment-<id>`. One already running is left alone:
 * the id is the guard against a second run. Runs at worker start and on a schedule.
 */
export async function recoverExperiments(rawInput?: unknown): Promise<RecoveryReport> {
  const input = validatedInput(recoverInputSchema, rawInput ?? {}, 'recovery input');
  const progress = trackProgress(['scan experiments']);
  const report = { started: [] as string[], running: [] as string[], invalid: [] as string[] };
  let afterId = input.afterId;
  progress.start('scan experiments');
  for (let page = 0; page < PAGES_PER_RUN; page++) {
    const rows = await db.listUnfinishedExperiments({ afterId, limit: input.pageSize });
    await Promise.all(rows.map((row) => recover(row, report)));
    progress.start('scan experiments', `${report.started.length} started, ${report.running.length} running`);
    if (rows.length < input.pageSize) {
      progress.finish('scan experiments', 'done', `${report.started.length} started, ${report.running.length} already running`);
      progress.end('completed');
      return report;
    }
    afterId = rows[rows.length - 1].id;
  }
  return continueAsNew<typeof recoverExperiments>({ pageSize: input.pageSize, afterId });
}

async function recover(row: { id: string; spec: unknown }, report: { started: string[]; running: string[]; invalid: string[] }) {
  let spec: ReturnType<typeof experimentSpecSchema.parse>;
  try {
    spec = parseInput(experimentSpecSchema, row.spec, `spec of experiment ${row.id}`);
    if (spec.id !== row.id) throw new InputError(`spec of experiment ${row.id}`, [`id: is "${spec.id}", but the row's id is "${row.id}"`]);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    await db.finishExperiment({ id: row.id, state: ExperimentState.finishedWithError, message: err.message });
    report.invalid.push(row.id);
    return;
  }
  try {
    await startChild<typeof runExperiment>('runExperiment', {
      workflowId: experimentWorkflowId(row.id),
      args: [spec],
      taskQueue: Queue.workflows,
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    report.started.push(row.id);
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    report.running.push(row.id);
  }
}
