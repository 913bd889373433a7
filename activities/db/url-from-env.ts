import { ApplicationFailure } from '@temporalio/common';
import { BACKUP_FAILED_TYPE } from '../../common/backup-failures';

/**
 * A database URL a spec names by variable, read on this worker: the URL (and its password) never enters a
 * workflow. A variable that is not set fails without retry, naming it.
 */
export function urlFromEnv(urlEnv: string): string {
  const url = process.env[urlEnv];
  if (url === undefined || url === '') {
    throw ApplicationFailure.create({
      type: BACKUP_FAILED_TYPE,
      nonRetryable: true,
      message: `urlEnv: ${urlEnv} is not set on the db worker`,
    });
  }
  return url;
}
