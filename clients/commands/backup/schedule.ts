import { type Client, ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Command } from 'commander';
import { backupSpecSchema, NAME, NAME_RULE } from '../../../common/backup';
import { InputError } from '../../../common/errors';
import { Queue } from '../../../common/queues';
import { parseInput } from '../../../common/validate';
import { backupScheduleId, backupScheduleName, scheduledBackupWorkflowId } from '../../../common/workflow-ids';
import { workflowSummary } from '../../../common/workflow-summary';
import { WorkflowType } from '../../../common/workflow-types';
import { withClient } from '../../connection';
import { type Output, withOutput } from '../../output';
import { readSpecFile } from '../../spec-file';

/** A cron expression Temporal accepts: five fields (minute hour day-of-month month day-of-week), or @daily and the like. */
function checkCron(cron: string): void {
  if (!/^@\w+$/.test(cron.trim()) && cron.trim().split(/\s+/).length !== 5) {
    throw new InputError('--cron', [`"${cron}" is not a cron expression: give five fields, e.g. "0 3 * * *" (03:00 UTC daily)`]);
  }
}

/** Runs `work` on the schedule's handle; a schedule that does not exist is an input error naming it. */
function onSchedule<T>(name: string, work: (handle: ReturnType<Client['schedule']['getHandle']>) => Promise<T>): Promise<T> {
  return withClient((client) =>
    work(client.schedule.getHandle(backupScheduleId(name))).catch((err: unknown) => {
      if (err instanceof ScheduleNotFoundError)
        throw new InputError('schedule', [`${name}: no backup schedule of this name (sciops backup schedule list)`]);
      throw err;
    }),
  );
}

export interface ScheduleSummary {
  readonly name: string;
  readonly paused: boolean;
  readonly nextRun?: string;
  readonly lastRun?: string;
}

/**
 * Backups on Temporal Schedules: each run starts `backup` as `backup-<spec name>-<time>`; a run still going
 * when the next is due is skipped (overlap SKIP); runs missed while the server was down are caught up within
 * an hour.
 */
export function createSchedule(name: string, file: string, options: { cron: string; catchup: string }): Promise<{ name: string }> {
  if (!NAME.test(name)) throw new InputError('schedule name', [`${name}: ${NAME_RULE}`]);
  checkCron(options.cron);
  const spec = parseInput(backupSpecSchema, readSpecFile(file), `backup spec ${file}`);
  return withClient(async (client) => {
    await client.schedule
      .create({
        scheduleId: backupScheduleId(name),
        spec: { cronExpressions: [options.cron] },
        action: {
          type: 'startWorkflow',
          workflowType: WorkflowType.backup,
          taskQueue: Queue.workflows,
          workflowId: scheduledBackupWorkflowId(spec.name),
          args: [spec],
          staticSummary: workflowSummary(WorkflowType.backup, spec),
          staticDetails: `Started by the Temporal Schedule \`${backupScheduleId(name)}\` (\`${options.cron}\` UTC), created with \`sciops backup schedule create\`.`,
        },
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: options.catchup },
      })
      .catch((err: unknown) => {
        if (err instanceof ScheduleAlreadyRunning)
          throw new InputError('schedule', [`${name}: exists already; delete it first to change it`]);
        throw err;
      });
    return { name };
  });
}

export function listSchedules(): Promise<ScheduleSummary[]> {
  return withClient(async (client) => {
    const found: ScheduleSummary[] = [];
    for await (const s of client.schedule.list()) {
      const name = backupScheduleName(s.scheduleId);
      if (name === undefined) continue;
      found.push({
        name,
        paused: s.state.paused,
        nextRun: s.info.nextActionTimes[0]?.toISOString(),
        lastRun: s.info.recentActions.at(-1)?.takenAt.toISOString(),
      });
    }
    return found.sort((a, b) => a.name.localeCompare(b.name));
  });
}

export function registerBackupSchedule(parent: Command): void {
  const schedule = parent.command('schedule').description('backups on Temporal Schedules: create, list, pause, unpause, trigger, delete');
  schedule
    .command('create <name> <spec>')
    .description('run the backup spec on a cron schedule (UTC)')
    .requiredOption('--cron <expression>', 'e.g. "0 3 * * *": every day at 03:00 UTC')
    .option('--catchup <duration>', 'runs missed while the server was down start if no older than this', '1h')
    .addHelpText('after', '\nExample:\n  sciops backup schedule create nightly --cron "0 3 * * *" examples/backups/omics-nightly.yaml')
    .action((name: string, file: string, options: { cron: string; catchup: string }, command: Command) =>
      withOutput(
        () => createSchedule(name, file, options),
        (r: { name: string }, out: Output) => {
          out.print(`schedule ${r.name} created (Temporal Schedule ${backupScheduleId(r.name)}); see it with: sciops backup schedule list`);
          return 0;
        },
      )(undefined, command),
    );
  schedule
    .command('list')
    .description('backup schedules, paused or not, and their next run')
    .action((_options: unknown, command: Command) =>
      withOutput(listSchedules, (all: ScheduleSummary[], out: Output) => {
        if (all.length === 0) out.print('no backup schedule');
        for (const s of all)
          out.print(`${s.name.padEnd(20)} ${s.paused ? 'paused' : 'active'}  next: ${s.nextRun ?? '-'}  last: ${s.lastRun ?? '-'}`);
        return 0;
      })(undefined, command),
    );
  const verbs: Array<[string, string, (handle: ReturnType<Client['schedule']['getHandle']>) => Promise<void>]> = [
    ['pause', 'stop starting runs until unpaused', (h) => h.pause('paused with sciops backup schedule pause')],
    ['unpause', 'start runs again', (h) => h.unpause()],
    ['trigger', 'start one run now', (h) => h.trigger(ScheduleOverlapPolicy.SKIP)],
    ['delete', 'delete the schedule (backups already made stay)', (h) => h.delete()],
  ];
  for (const [verb, description, act] of verbs) {
    schedule
      .command(`${verb} <name>`)
      .description(description)
      .action((name: string, _options: unknown, command: Command) =>
        withOutput(
          () => onSchedule(name, act).then(() => ({ name, done: verb })),
          (r: { name: string; done: string }, out: Output) => {
            out.print(`schedule ${r.name}: ${r.done} done`);
            return 0;
          },
        )(undefined, command),
      );
  }
}
