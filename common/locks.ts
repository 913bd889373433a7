import type { BackupTarget } from './backup';

/**
 * The keys of the locks that keep two workflows off one thing (see workflows/backup-lock.ts), and the id of
 * the workflow that holds one. Taken in sorted order, so two workflows never wait for each other in a circle.
 */

/**
 * What one workflow at a time may back up, restore or verify: a database behind a URL variable or inside a
 * service, a Mongo database, a volume on an engine. Two targets with the same key are the same thing. Pure.
 */
export function targetLockKey(target: BackupTarget): string {
  if (target.kind === 'postgres')
    return target.service === undefined ? `postgres/${target.urlEnv}` : `postgres@${target.service}/${target.database}`;
  if (target.kind === 'mongo') return `mongo/${target.urlEnv}/${target.database}`;
  return `volume/${target.node ?? '-'}/${target.volume}`;
}

/** What one workflow at a time may stop or change: a swarm service (as stopServices names it). Pure. */
export function serviceLockKey(service: string): string {
  return `service/${service}`;
}

/** What one workflow at a time may deploy or tear down: a stack. Pure. */
export function stackLockKey(stack: string): string {
  return `stack/${stack}`;
}
