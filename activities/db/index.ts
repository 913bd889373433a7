import type { Pool } from 'pg';
import { createServerHealth } from './server-health';

/**
 * Activities of the `db` queue, over one injected connection pool.
 * `url` is DATABASE_URL with its password redacted, used in messages.
 */
export function createDbActivities(pool: Pool, url: string) {
  return {
    ...createServerHealth(pool, url),
  };
}

export type DbActivities = ReturnType<typeof createDbActivities>;
