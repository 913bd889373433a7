import type { ExperimentResult } from '../../../common/experiment';
import type { Progress } from '../../../common/progress';

/** An experiment's record as lines for a person. Pure. */
export function renderExperiment(r: Partial<ExperimentResult> & { id: string }, progress?: Progress): string {
  const lines = [`experiment ${r.id}: ${r.state ?? 'unknown state'}`];
  const facts: Array<[string, string | number | undefined]> = [
    ['type', r.type],
    ['exit code', r.exitCode],
    ['duration', r.durationSeconds === undefined ? undefined : `${r.durationSeconds}s`],
    ['attempts', r.attempts],
    ['output', r.outputDir],
  ];
  for (const [key, value] of facts) if (value !== undefined) lines.push(`  ${key.padEnd(10)} ${value}`);
  if (r.message !== undefined) lines.push(`  ${'message'.padEnd(10)} ${r.message.replace(/\n/g, '\n             ')}`);
  for (const step of progress?.steps ?? []) {
    lines.push(`  step       ${step.name}: ${step.state}${step.detail === undefined ? '' : ` (${step.detail})`}`);
  }
  return lines.join('\n');
}
