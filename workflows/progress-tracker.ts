import { setCurrentDetails, setHandler } from '@temporalio/workflow';
import { type Progress, progressMarkdown, progressQuery, type StepProgress, type StepState } from '../common/progress';

/** Keeps a workflow's steps for the `progress` query. Deterministic: no clocks, no I/O. */
export class ProgressTracker {
  private readonly steps = new Map<string, StepProgress>();
  private state: Progress['state'] = 'running';

  /** `publish` hears every change (a workflow passes the UI's current details). */
  constructor(
    names: readonly string[],
    private readonly publish: (progress: Progress) => void = () => {},
  ) {
    for (const name of names) this.steps.set(name, { name, state: 'pending' });
  }

  start(name: string, detail?: string): void {
    this.set(name, 'running', detail);
  }

  finish(name: string, state: Exclude<StepState, 'pending' | 'running'>, detail?: string): void {
    this.set(name, state, detail);
  }

  /** Runs one step: it shows running, then done (with the detail its result gives) or failed, whatever happens. */
  async step<T>(name: string, run: () => Promise<T>, detail?: (result: T) => string | undefined): Promise<T> {
    this.start(name);
    try {
      const result = await run();
      this.finish(name, 'done', detail?.(result));
      return result;
    } catch (err) {
      this.finish(name, 'failed', err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  end(state: 'completed' | 'failed'): void {
    this.state = state;
    this.publish(this.snapshot());
  }

  snapshot(): Progress {
    const steps = [...this.steps.values()];
    const running = steps.filter((s) => s.state === 'running').map((s) => s.name);
    return { state: this.state, current: running.length > 0 ? running.join(', ') : undefined, steps };
  }

  private set(name: string, state: StepState, detail?: string): void {
    this.steps.set(name, { name, state, ...(detail === undefined ? {} : { detail }) });
    this.publish(this.snapshot());
  }
}

/**
 * A workflow's progress: answered to the `progress` query (the CLI) and kept as the workflow's current
 * details (the Web UI shows them while it runs).
 */
export function trackProgress(names: readonly string[]): ProgressTracker {
  const tracker = new ProgressTracker(names, (progress) => setCurrentDetails(progressMarkdown(progress)));
  setHandler(progressQuery, () => tracker.snapshot());
  setCurrentDetails(progressMarkdown(tracker.snapshot()));
  return tracker;
}
