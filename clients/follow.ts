import type { WorkflowHandle } from '@temporalio/client';
import { type Progress, progressQuery } from '../common/progress';

/** One line per step change: `[12s] run: running (docker, soft time limit 10800s)`. Pure. */
export function progressLines(previous: Progress | undefined, now: Progress, elapsedSeconds: number): string[] {
  const before = new Map((previous?.steps ?? []).map((s) => [s.name, `${s.state}${s.detail ?? ''}`]));
  return now.steps
    .filter((s) => before.get(s.name) !== `${s.state}${s.detail ?? ''}` && s.state !== 'pending')
    .map((s) => `[${elapsedSeconds}s] ${s.name}: ${s.state}${s.detail === undefined ? '' : ` (${s.detail})`}`);
}

/**
 * Waits for a workflow's result, printing its progress as it changes when `print` is given (a terminal,
 * not --json). The progress query is best-effort: a workflow between tasks simply answers next time.
 */
export async function follow<R>(handle: WorkflowHandle, print?: (line: string) => void): Promise<R> {
  const result = handle.result() as Promise<R>;
  if (print === undefined) return result;
  const started = Date.now();
  let last: Progress | undefined;
  let done = false;
  result.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) {
    const now = await handle.query(progressQuery).catch(() => undefined);
    if (now !== undefined) {
      for (const line of progressLines(last, now, Math.round((Date.now() - started) / 1000))) print(line);
      last = now;
    }
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
  }
  return result;
}
