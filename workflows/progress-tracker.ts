import type { Progress, StepProgress, StepState } from '../common/progress';

/** Keeps a workflow's steps for the `progress` query. Deterministic: no clocks, no I/O. */
export class ProgressTracker {
  private readonly steps = new Map<string, StepProgress>();
  private state: Progress['state'] = 'running';

  constructor(names: readonly string[]) {
    for (const name of names) this.steps.set(name, { name, state: 'pending' });
  }

  start(name: string, detail?: string): void {
    this.set(name, 'running', detail);
  }

  finish(name: string, state: Exclude<StepState, 'pending' | 'running'>, detail?: string): void {
    this.set(name, state, detail);
  }

  end(state: 'completed' | 'failed'): void {
    this.state = state;
  }

  snapshot(): Progress {
    const steps = [...this.steps.values()];
    const running = steps.filter((s) => s.state === 'running').map((s) => s.name);
    return { state: this.state, current: running.length > 0 ? running.join(', ') : undefined, steps };
  }

  private set(name: string, state: StepState, detail?: string): void {
    this.steps.set(name, { name, state, ...(detail === undefined ? {} : { detail }) });
  }
}
