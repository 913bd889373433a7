import { durationNanos } from './spec-fields';
import type { StackSpec } from './stack';

/**
 * How long the tasks of a service without a healthcheck must have been running to count as converged when
 * the service sets no `update.monitor`: what `docker service create` and `docker stack deploy --detach=false`
 * wait too.
 */
export const STABLE_SECONDS = 5;

/**
 * What a deploy waits for once it created or updated a service. Pure. A service meant to finish (restart
 * condition none or on-failure) has converged when its tasks completed. Otherwise its tasks must run: a
 * healthy task passed the service's own test, and a new service's completed tasks ran its only spec, so
 * neither waits further; any other running task must have run for the service's `update.monitor` (as docker
 * reads it: 0 is none set) or STABLE_SECONDS, so that a task that crashes right after it starts does not count.
 */
export function convergenceWait(s: StackSpec['services'][number], created: boolean): { finishes: boolean; stableSeconds: number } {
  const finishes = s.restartPolicy !== undefined && s.restartPolicy.condition !== 'any';
  const proven = (s.healthcheck !== undefined && !s.healthcheck.disable) || (finishes && created);
  if (proven) return { finishes, stableSeconds: 0 };
  const monitor = s.update?.monitor === undefined ? 0 : durationNanos(s.update.monitor);
  return { finishes, stableSeconds: monitor > 0 ? monitor / 1e9 : STABLE_SECONDS };
}
