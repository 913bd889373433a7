import type { Pool } from 'pg';
import type { ExperimentLimits } from '../../common/experiment-limits';
import { createExperimentState } from './experiment-state';
import { createServerHealth } from './server-health';
import { createStackMigrations } from './stack-migrations';

/**
 * Activities of the `db` queue, over one injected connection pool.
 * `url` is DATABASE_URL with its password redacted, used in messages.
 */
export function createDbActivities(pool: Pool, url: string, limits: ExperimentLimits) {
  return {
    ...createServerHealth(pool, url),
    ...createExperimentState(pool, limits),
    ...createStackMigrations(),
  };
}

export type DbActivities = ReturnType<typeof createDbActivities>;
