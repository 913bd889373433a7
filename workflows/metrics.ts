import { log, metricMeter } from '@temporalio/workflow';
import type { PlannedChange } from '../common/stack-plan';

/**
 * sciops' own metrics, emitted from workflows through the SDK's meter (counted once, never again on replay)
 * and served with the SDK's worker metrics on the worker's Prometheus endpoint (SCIOPS_METRICS_ADDRESS). The
 * same facts go to the worker's log, with the workflow's ids.
 */
export function experimentFinished(state: string, type: string): void {
  metricMeter
    .createCounter('sciops_experiments_finished_total', 'experiments', 'experiments that reached a terminal state')
    .add(1, { state, type });
  log.info('experiment finished', { state, type });
}

export function backupFinished(backup: string, outcome: 'complete' | 'failed', bytes: number, seconds: number): void {
  metricMeter.createCounter('sciops_backup_bytes_total', 'bytes', 'bytes written by backups (gzip)').add(bytes, { backup, outcome });
  metricMeter.createHistogram('sciops_backup_duration_seconds', 'float', 's', 'backup run duration').record(seconds, { backup, outcome });
  log.info('backup finished', { backup, outcome, bytes, seconds });
}

export function deployFinished(stack: string, changes: readonly PlannedChange[], outcome: 'done' | 'failed'): void {
  const counter = metricMeter.createCounter('sciops_deploy_changes_total', 'changes', 'resources a deploy created or updated');
  for (const change of changes) if (change.change !== 'unchanged') counter.add(1, { stack, kind: change.kind, change: change.change });
  log.info('deploy finished', { stack, outcome, changed: changes.filter((c) => c.change !== 'unchanged').length });
}
