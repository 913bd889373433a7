import { defineQuery } from '@temporalio/workflow';

export type StepState = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export interface StepProgress {
  readonly name: string;
  readonly state: StepState;
  readonly detail?: string;
}

/** What every sciops workflow answers to the `progress` query; the CLI renders it, the UI shows it. */
export interface Progress {
  readonly state: 'running' | 'completed' | 'failed';
  readonly current?: string;
  readonly steps: readonly StepProgress[];
}

export const progressQuery = defineQuery<Progress>('progress');

const MARK: Record<StepState, string> = { pending: '·', running: '▶', done: '✓', failed: '✗', skipped: '–' };

/** `dump: running (db)`: a step as the CLI and the Web UI show it. Pure. */
export function stepText(step: StepProgress): string {
  return `${step.name}: ${step.state}${step.detail ? ` (${step.detail})` : ''}`;
}

/** A progress snapshot as the Markdown the Web UI shows in a workflow's current details. Pure. */
export function progressMarkdown(progress: Progress): string {
  const head = `**${progress.state}**${progress.current === undefined ? '' : ` — now: ${progress.current}`}`;
  const steps = progress.steps.map((s) => `- ${MARK[s.state]} ${stepText(s)}`);
  return [head, '', ...steps].join('\n');
}
