import { durationNanos } from './spec-fields';
import type { StackSpec } from './stack';

/**
 * How long the completed tasks of an updated one-shot service that sets no `update.monitor` must have stayed
 * so to count while its update status does not yet tell whether they ran the new spec (the swarm may be about
 * to start the update this deploy just made).
 */
export const STABLE_SECONDS = 5;

/**
 * What a deploy waits for once it created or updated a service. Pure. A service meant to finish (restart
 * condition none or on-failure) has converged when its tasks completed. Otherwise its tasks must run, and a
 * task counts as soon as it runs, or with a healthcheck as soon as it is healthy, as `docker service ls` shows
 * n/n and as a Kubernetes rollout counts a ready pod. Without a healthcheck, a service that sets
 * `update.monitor` (as docker reads it: 0 is none set) must keep its tasks running that long first, like
 * Kubernetes' `minReadySeconds`, so that a task that crashes right after it starts does not count. An updated
 * one-shot service without a healthcheck whose update status does not yet tell which spec its completed tasks
 * ran waits for its monitor, or STABLE_SECONDS, in the same way (see waitConverged).
 */
export function convergenceWait(s: StackSpec['services'][number], created: boolean): { finishes: boolean; stableSeconds: number } {
  const finishes = s.restartPolicy !== undefined && s.restartPolicy.condition !== 'any';
  const healthy = s.healthcheck !== undefined && !s.healthcheck.disable;
  const monitor = s.update?.monitor === undefined ? 0 : durationNanos(s.update.monitor) / 1e9;
  if (healthy || (finishes && created)) return { finishes, stableSeconds: 0 };
  if (finishes) return { finishes, stableSeconds: monitor > 0 ? monitor : STABLE_SECONDS };
  return { finishes, stableSeconds: monitor };
}
