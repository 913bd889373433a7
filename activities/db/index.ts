import type { S3Client } from '@aws-sdk/client-s3';
import type { Pool } from 'pg';
import type { ExperimentLimits } from '../../common/experiment-limits';
import type { StackSourcePolicy } from '../../common/stack-sources';
import { classifyFailures } from '../classify-failures';
import { createBackupDirProbe } from '../files/backup-dir-probe';
import { createBackupImport } from '../files/import-file';
import { createExperimentState } from './experiment-state';
import { createMongoBackup } from './mongo-backup';
import { createPgBackup } from './pg-backup';
import { createServerHealth } from './server-health';
import { createStackMigrations } from './stack-migrations';

/**
 * Activities of the `db` queue, over one injected connection pool.
 * `url` is DATABASE_URL with its password redacted, used in messages; `s3` serves backups kept in a bucket;
 * `backupDir` is the local backup directory the doctor probes and imports read from (SCIOPS_BACKUP_DIR); `stackSources` says
 * which migration files a stack may have this worker read (SCIOPS_MIGRATION_FILE_ROOTS).
 * Errors no retry can fix end an activity at once (see classify-failures).
 */
export function createDbActivities(
  pool: Pool,
  url: string,
  limits: ExperimentLimits,
  s3: () => S3Client,
  backupDir?: string,
  stackSources?: StackSourcePolicy,
) {
  return classifyFailures({
    ...createServerHealth(pool, url),
    ...createExperimentState(pool, limits),
    ...createStackMigrations(stackSources),
    // biome-ignore lint/nursery/noMisusedPromises: an object of activity functions, not a promise
    ...createPgBackup(s3),
    // biome-ignore lint/nursery/noMisusedPromises: an object of activity functions, not a promise
    ...createMongoBackup(s3),
    ...createBackupDirProbe(backupDir),
    // biome-ignore lint/nursery/noMisusedPromises: an object of activity functions, not a promise
    ...createBackupImport(s3, backupDir),
  });
}

export type DbActivities = ReturnType<typeof createDbActivities>;
