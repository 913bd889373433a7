import { setCurrentDetails, setHandler } from '@temporalio/workflow';
import { rootMessage } from '../common/failures';
import { type Progress, progressMarkdown, progressQuery, type StepProgress, type StepState } from '../common/progress';

/**
 * Keeps a workflow's steps for the `progress` query. Deterministic: no clocks, no I/O. `S` is the union of
 * the workflow's step names: a name it did not declare does not compile.
 */
export class ProgressTracker<S extends string = string> {
  private readonly steps = new Map<S, StepProgress>();
  private state: Progress['state'] = 'running';

  /** `publish` hears every change (a workflow passes the UI's current details). */
  constructor(
    names: readonly S[],
    private readonly publish: (progress: Progress) => void = () => {},
  ) {
    for (const name of names) this.steps.set(name, { name, state: 'pending' });
  }

  start(name: S, detail?: string): void {
    this.set(name, 'running', detail);
  }

  finish(name: S, state: Exclude<StepState, 'pending' | 'running'>, detail?: string): void {
    this.set(name, state, detail);
  }

  /**
   * Runs one step: it shows running (with `running` as its detail), then done (with the detail its result
   * gives) or failed, whatever happens.
   */
  async step<T>(name: S, run: () => Promise<T>, detail?: (result: T) => string | undefined, running?: string): Promise<T> {
    this.start(name, running);
    try {
      const result = await run();
      this.finish(name, 'done', detail?.(result));
      return result;
    } catch (err) {
      this.finish(name, 'failed', messageOf(err));
      throw err;
    }
  }

  /**
   * Ends the run. When it failed, a step still running failed with it (`why`: the error's message), so that
   * none keeps showing running.
   */
  end(state: 'completed' | 'failed', why?: unknown): void {
    this.state = state;
    if (state === 'failed') {
      for (const step of this.steps.values()) {
        if (step.state === 'running') this.steps.set(step.name as S, { name: step.name, state: 'failed', detail: messageOf(why) });
      }
    }
    this.publish(this.snapshot());
  }

  /** Runs a workflow's whole body: the run ends completed when it returns, failed (see `end`) when it throws. */
  async whole<T>(body: () => Promise<T>): Promise<T> {
    try {
      const result = await body();
      this.end('completed');
      return result;
    } catch (err) {
      this.end('failed', err);
      throw err;
    }
  }

  snapshot(): Progress {
    const steps = [...this.steps.values()];
    const running = steps.filter((s) => s.state === 'running').map((s) => s.name);
    return { state: this.state, current: running.length > 0 ? running.join(', ') : undefined, steps };
  }

  private set(name: S, state: StepState, detail?: string): void {
    this.steps.set(name, { name, state, ...(detail === undefined ? {} : { detail }) });
    this.publish(this.snapshot());
  }
}

/** What went wrong, in words: an activity's or child workflow's own failure rather than Temporal's wrapper. */
function messageOf(err: unknown): string {
  return err === undefined ? 'the run failed' : rootMessage(err);
}

/** What a part of a workflow needs of its tracker to report the steps it runs: `Steps<'runners'>`. */
export type Steps<S extends string> = Pick<ProgressTracker<S>, 'start' | 'finish' | 'step'>;

/**
 * A workflow's progress: answered to the `progress` query (the CLI) and kept as the workflow's current
 * details (the Web UI shows them while it runs).
 */
export function trackProgress<const S extends string>(names: readonly S[]): ProgressTracker<S> {
  const tracker = new ProgressTracker<S>(names, (progress) => setCurrentDetails(progressMarkdown(progress)));
  setHandler(progressQuery, () => tracker.snapshot());
  setCurrentDetails(progressMarkdown(tracker.snapshot()));
  return tracker;
}
