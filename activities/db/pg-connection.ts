import { Client } from 'pg';
import { libpqEnv, onDatabase as onDatabaseUrl, parsePgUrl } from '../../common/pg-url';
import type { PgConnection } from './url-from-env';

/** The environment pg_dump and psql run with: the worker's, plus libpq's variables for the connection's URL. */
export const libpq = (pg: PgConnection) => ({ ...process.env, ...libpqEnv(pg.url, pg.setting) });

/** Runs `work` on a connection of its own to `pg`, closed afterwards whatever happens. */
export async function withPg<T>(pg: PgConnection, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: pg.url });
  await client.connect();
  return work(client).finally(() => client.end());
}

/** The database a URL names; the URL of another database of the same server, e.g. its maintenance database. */
export const databaseOf = (pg: PgConnection) => parsePgUrl(pg.url, pg.setting).database;
export const onDatabase = (pg: PgConnection, name: string): PgConnection => ({ ...pg, url: onDatabaseUrl(pg.url, name, pg.setting) });
export const maintenance = (pg: PgConnection) => onDatabase(pg, 'postgres');
