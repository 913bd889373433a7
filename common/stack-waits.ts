import { durationNanos } from './spec-fields';
import type { StackSpec } from './stack';

/**
 * How long the completed tasks of an updated one-shot service must have stayed so to count: without an
 * update status it is unclear whether they ran the new spec (the swarm may be about to start the update this
 * deploy just made).
 */
export const STABLE_SECONDS = 5;

/**
 * What a deploy waits for once it created or updated a service. Pure. A service meant to finish (restart
 * condition none or on-failure) has converged when its tasks completed; an updated one's must have stayed
 * complete for STABLE_SECONDS. Otherwise its tasks must run, and a task counts as soon as it runs (with a
 * healthcheck: as soon as it is healthy), as `docker service ls` shows n/n and as a Kubernetes rollout counts
 * a ready pod; a service that sets `update.monitor` (as docker reads it: 0 is none set) must keep its tasks
 * running that long first, like Kubernetes' `minReadySeconds`, so that a task that crashes right after it
 * starts does not count. An update also waits for the swarm's own update, which watches each task for its
 * monitor (5 s when unset).
 */
export function convergenceWait(s: StackSpec['services'][number], created: boolean): { finishes: boolean; stableSeconds: number } {
  const finishes = s.restartPolicy !== undefined && s.restartPolicy.condition !== 'any';
  if (finishes) return { finishes, stableSeconds: created ? 0 : STABLE_SECONDS };
  const healthy = s.healthcheck !== undefined && !s.healthcheck.disable;
  const monitor = s.update?.monitor === undefined ? 0 : durationNanos(s.update.monitor);
  return { finishes, stableSeconds: healthy ? 0 : monitor / 1e9 };
}
