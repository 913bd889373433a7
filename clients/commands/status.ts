import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { EXPERIMENT_STATES } from '../../common/experiment-state';
import { SearchAttribute } from '../../common/search-attributes';
import { WorkflowType } from '../../common/workflow-types';
import { withClient } from '../connection';
import { type Output, withOutput } from '../output';

export interface StackStatus {
  readonly stack: string;
  /** The newest deploy or teardown of the stack. */
  readonly last: { readonly workflowType: string; readonly workflowId: string; readonly status: string; readonly startTime: string };
}

export interface PlatformStatus {
  readonly running: ReadonlyArray<{ readonly workflowType: string; readonly workflowId: string; readonly startTime: string }>;
  readonly stacks: readonly StackStatus[];
  /** Experiments per state, as Temporal visibility counts them. */
  readonly experiments: Readonly<Record<string, number>>;
  readonly schedules: ReadonlyArray<{
    readonly id: string;
    readonly workflowType: string;
    readonly paused: boolean;
    readonly nextRun?: string;
  }>;
}

const RUNNING_LIMIT = 200;

/** What is going on: running workflows, each stack's last deploy or teardown, experiments by state, schedules and their next run. */
export function platformStatus(): Promise<PlatformStatus> {
  return withClient(async (client) => {
    const [running, stacks, experiments, schedules] = await Promise.all([
      runningWorkflows(client),
      stackStatus(client),
      experimentCounts(client),
      scheduleList(client),
    ]);
    return { running, stacks, experiments, schedules };
  });
}

async function runningWorkflows(client: Client): Promise<PlatformStatus['running']> {
  const found: Array<PlatformStatus['running'][number]> = [];
  for await (const w of client.workflow.list({ query: "ExecutionStatus = 'Running'" })) {
    found.push({ workflowType: w.type, workflowId: w.workflowId, startTime: w.startTime.toISOString() });
    if (found.length >= RUNNING_LIMIT) break;
  }
  return found;
}

async function stackStatus(client: Client): Promise<StackStatus[]> {
  const newest = new Map<string, StackStatus>();
  const query = `WorkflowType IN ('${WorkflowType.deployStack}', '${WorkflowType.teardownStack}')`;
  for await (const w of client.workflow.list({ query })) {
    const stack = w.typedSearchAttributes.get(SearchAttribute.stack);
    if (stack === undefined || newest.has(stack)) continue; // newest first: the first seen is the last run
    newest.set(stack, {
      stack,
      last: { workflowType: w.type, workflowId: w.workflowId, status: w.status.name, startTime: w.startTime.toISOString() },
    });
  }
  return [...newest.values()].sort((a, b) => a.stack.localeCompare(b.stack));
}

async function experimentCounts(client: Client): Promise<Record<string, number>> {
  const counts = await Promise.all(
    EXPERIMENT_STATES.map(async (state) => {
      const query = `WorkflowType = '${WorkflowType.runExperiment}' AND ${SearchAttribute.experimentState.name} = '${state}'`;
      return [state, (await client.workflow.count(query)).count] as const;
    }),
  );
  return Object.fromEntries(counts);
}

async function scheduleList(client: Client): Promise<PlatformStatus['schedules']> {
  const found: Array<PlatformStatus['schedules'][number]> = [];
  for await (const s of client.schedule.list()) {
    found.push({
      id: s.scheduleId,
      workflowType: s.action?.type === 'startWorkflow' ? s.action.workflowType : (s.action?.type ?? '-'),
      paused: s.state.paused,
      nextRun: s.info.nextActionTimes[0]?.toISOString(),
    });
  }
  return found.sort((a, b) => a.id.localeCompare(b.id));
}

/** The status as text for a person. Pure. */
export function renderStatus(status: PlatformStatus, out: Output): number {
  out.print(`running (${status.running.length})`);
  for (const w of status.running) out.print(`  ${w.workflowType.padEnd(20)} ${w.workflowId.padEnd(48)} since ${w.startTime}`);
  out.print(`stacks (${status.stacks.length})`);
  for (const s of status.stacks)
    out.print(`  ${s.stack.padEnd(20)} ${s.last.workflowType} ${s.last.status.toLowerCase()} at ${s.last.startTime}`);
  const counted = Object.entries(status.experiments).filter(([, n]) => n > 0);
  out.print(`experiments${counted.length === 0 ? ' (none)' : ''}`);
  for (const [state, n] of counted) out.print(`  ${state.padEnd(20)} ${n}`);
  out.print(`schedules (${status.schedules.length})`);
  for (const s of status.schedules) {
    out.print(`  ${s.id.padEnd(28)} ${s.workflowType.padEnd(20)} ${s.paused ? 'paused' : `next ${s.nextRun ?? '-'}`}`);
  }
  return 0;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('what is going on: running workflows, each stack, experiments by state, schedules and their next run')
    .addHelpText('after', '\nExamples:\n  sciops status\n  sciops --json status | jq .experiments')
    .action((_options: unknown, command: Command) => withOutput(platformStatus, renderStatus)(undefined, command));
}
