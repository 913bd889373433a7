import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { ProgressTracker } from '../../workflows/progress-tracker';

describe('ProgressTracker', () => {
  it('reports running steps as current and keeps step order', () => {
    const progress = new ProgressTracker(['a', 'b', 'c']);
    progress.start('a');
    progress.start('b', 'on queue db');
    expect(progress.snapshot()).toEqual({
      state: 'running',
      current: 'a, b',
      steps: [
        { name: 'a', state: 'running' },
        { name: 'b', state: 'running', detail: 'on queue db' },
        { name: 'c', state: 'pending' },
      ],
    });
    progress.finish('a', 'done');
    progress.finish('b', 'failed', 'boom');
    progress.finish('c', 'skipped');
    progress.end('failed');
    const done = progress.snapshot();
    expect(done.state).toBe('failed');
    expect(done.current).toBeUndefined();
    expect(done.steps.map((s) => s.state)).toEqual(['done', 'failed', 'skipped']);
  });

  it('ends a failed run with no step left running: those running failed with the error', () => {
    const progress = new ProgressTracker(['lock', 'dump', 'manifest']);
    progress.finish('lock', 'done');
    progress.start('dump', 'samples');
    progress.end('failed', new Error('pg_dump exited with 1'));
    expect(progress.snapshot()).toEqual({
      state: 'failed',
      steps: [
        { name: 'lock', state: 'done' },
        { name: 'dump', state: 'failed', detail: 'pg_dump exited with 1' },
        { name: 'manifest', state: 'pending' },
      ],
    });
  });

  it('whole: completed when the body returns, failed (and rethrown) when it throws', async () => {
    const ok = new ProgressTracker(['a']);
    await expect(ok.whole(async () => ok.step('a', async () => 7))).resolves.toBe(7);
    expect(ok.snapshot()).toEqual({ state: 'completed', steps: [{ name: 'a', state: 'done' }] });

    const failing = new ProgressTracker(['a', 'b']);
    const run = failing.whole(async () => {
      failing.start('a');
      throw new Error('engine refused');
    });
    await expect(run).rejects.toThrow('engine refused');
    expect(failing.snapshot()).toEqual({
      state: 'failed',
      steps: [
        { name: 'a', state: 'failed', detail: 'engine refused' },
        { name: 'b', state: 'pending' },
      ],
    });
  });

  it('step: running with its running detail, then done with the detail of its result, or failed (and rethrown)', async () => {
    const progress = new ProgressTracker(['store', 'verify']);
    let release: (bytes: number) => void = () => {};
    const storing = progress.step(
      'store',
      () => new Promise<number>((resolve) => (release = resolve)),
      (bytes) => `${bytes} bytes`,
      'nightly/20250101T030000Z/',
    );
    expect(progress.snapshot().steps[0]).toEqual({ name: 'store', state: 'running', detail: 'nightly/20250101T030000Z/' });
    release(42);
    await expect(storing).resolves.toBe(42);
    expect(progress.snapshot().steps[0]).toEqual({ name: 'store', state: 'done', detail: '42 bytes' });

    const cause = ApplicationFailure.nonRetryable('checksum differs', 'BackupCorrupt');
    const failure = new ActivityFailure('Activity task failed', 'checkDump', '8', RetryState.NON_RETRYABLE_FAILURE, 'w', cause);
    await expect(progress.step('verify', () => Promise.reject(failure))).rejects.toBe(failure);
    expect(progress.snapshot().steps[1]).toEqual({ name: 'verify', state: 'failed', detail: 'checksum differs' });
  });

  it("names an activity's own failure, not Temporal's wrapper around it", () => {
    const progress = new ProgressTracker(['dump']);
    progress.start('dump');
    const cause = ApplicationFailure.nonRetryable('pg_dump: server version mismatch', 'BackupFailed');
    progress.end('failed', new ActivityFailure('Activity task failed', 'dumpPostgres', '7', RetryState.NON_RETRYABLE_FAILURE, 'w', cause));
    expect(progress.snapshot().steps).toEqual([{ name: 'dump', state: 'failed', detail: 'pg_dump: server version mismatch' }]);
  });
});
