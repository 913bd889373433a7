import { ConfigError } from '../../common/errors';
import { backupFailed, Failure, permanent } from '../../common/failures';
import { parsePgUrl } from '../../common/pg-url';

/**
 * A database URL a spec names by variable, read on this worker: the URL (and its password) never enters a
 * workflow. A variable that is not set fails without retry, naming it.
 */
export function urlFromEnv(urlEnv: string): string {
  const url = process.env[urlEnv];
  if (url === undefined || url === '') {
    throw backupFailed(`urlEnv: ${urlEnv} is not set on the db worker`);
  }
  return url;
}

/** A PostgreSQL URL and the variable it came from (named in every message about it). */
export interface PgConnection {
  readonly url: string;
  readonly setting: string;
}

/**
 * The PostgreSQL URL in `urlEnv`, checked for what both node-postgres and pg_dump/psql can read (see
 * common/pg-url): one they would read differently fails without retry, naming the variable and the fix,
 * before anything is touched.
 */
export function pgUrlFromEnv(urlEnv: string): PgConnection {
  const connection = { url: urlFromEnv(urlEnv), setting: urlEnv };
  try {
    parsePgUrl(connection.url, urlEnv);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw permanent(Failure.configInvalid, `urlEnv: ${err.message}`);
  }
  return connection;
}
