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
