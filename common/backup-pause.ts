import { PAUSED_BY_LABEL, REPLICAS_LABEL } from './labels';

/**
 * Services scaled to 0 around backups and restores, in labels on the service itself: the replicas it had
 * (set by the first pause) and the workflow holding it paused. Only that workflow resumes it: a backup never
 * scales back a service a restore stopped. Workflows pause a service only while holding its lock
 * (workflows/backup-lock), so another workflow named in the label when one pauses it ended without letting
 * go (it was terminated): the new one takes the service over, replicas and all, and resumes it when done.
 */

type Labels = Readonly<Record<string, string>>;

/**
 * What pausing a service for `holder` changes: its labels (the replicas kept from the first pause, `holder`
 * named) and the replicas it had, and who held it before (`tookOver`, a workflow that ended without letting
 * go). `update` is false when it is at 0 and held by `holder` already (a retried pause changes nothing). Pure.
 */
export function pauseLabels(
  labels: Labels | undefined,
  replicasNow: number | undefined,
  holder: string,
): { labels: Record<string, string>; replicas: number; update: boolean; tookOver?: string } {
  const remembered = labels?.[REPLICAS_LABEL];
  const before = labels?.[PAUSED_BY_LABEL];
  const replicas = remembered === undefined ? (replicasNow ?? 1) : Number(remembered);
  const update = remembered === undefined || replicasNow !== 0 || before !== holder;
  const next = { labels: { ...labels, [REPLICAS_LABEL]: String(replicas), [PAUSED_BY_LABEL]: holder }, replicas, update };
  return before === undefined || before === holder ? next : { ...next, tookOver: before };
}

/**
 * What resuming a service for `holder` changes: `resume` (back to the remembered replicas, both labels
 * removed) when `holder` paused it, or when no workflow is named (a pause from before they were); `nothing`
 * when it was not paused, or another workflow holds it (`heldBy`). Pure.
 */
export function resumeLabels(
  labels: Labels | undefined,
  holder: string,
): { action: 'nothing'; heldBy?: string } | { action: 'resume'; labels: Record<string, string>; replicas: number } {
  const remembered = labels?.[REPLICAS_LABEL];
  const heldBy = labels?.[PAUSED_BY_LABEL];
  if (remembered === undefined) return { action: 'nothing' };
  if (heldBy !== undefined && heldBy !== holder) return { action: 'nothing', heldBy };
  const { [REPLICAS_LABEL]: _, [PAUSED_BY_LABEL]: __, ...kept } = labels ?? {};
  return { action: 'resume', labels: kept, replicas: Number(remembered) };
}
