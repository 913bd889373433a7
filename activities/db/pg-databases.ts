import { randomBytes } from 'node:crypto';
import { type DatabaseBefore, recreateStatements } from '../../common/backup-pg-database';
import { databaseOf, maintenance, onDatabase, withPg } from './pg-connection';
import type { PgConnection } from './url-from-env';

/** Databases a backup's verification or a full restore makes and drops on the target's server. */

/** A fresh scratch database on the server of `pg`, marked by a comment only this run knows. */
export async function createScratchDatabase(pg: PgConnection): Promise<{ pg: PgConnection; name: string; mark: string }> {
  const name = `sciops_verify_${randomBytes(8).toString('hex')}`;
  const mark = `sciops scratch database ${randomBytes(8).toString('hex')}; drop it when no verification runs`;
  await withPg(maintenance(pg), async (client) => {
    await client.query(`create database ${client.escapeIdentifier(name)}`);
    await client.query(`comment on database ${client.escapeIdentifier(name)} is ${client.escapeLiteral(mark)}`);
  });
  return { pg: onDatabase(pg, name), name, mark };
}

/** Drops a scratch database, only if it still carries its mark: never one this run did not create. */
export async function dropScratchDatabase(scratch: { pg: PgConnection; name: string; mark: string }): Promise<void> {
  await withPg(maintenance(scratch.pg), async (client) => {
    const { rows } = await client.query<{ mark: string | null }>(
      "select shobj_description(oid, 'pg_database') as mark from pg_database where datname = $1",
      [scratch.name],
    );
    if (rows[0]?.mark === scratch.mark) await client.query(`drop database ${client.escapeIdentifier(scratch.name)} with (force)`);
  });
}

/**
 * DROP DATABASE ... WITH (FORCE) and CREATE DATABASE, from the server's maintenance database, keeping the
 * owner, encoding, locale and settings it had (see recreateStatements).
 */
export async function recreateDatabase(pg: PgConnection): Promise<void> {
  await withPg(maintenance(pg), async (client) => {
    const { rows } = await client.query<DatabaseBefore>(
      `select pg_get_userbyid(d.datdba) as owner, pg_has_role(d.datdba, 'member') as "mayOwn",
         pg_encoding_to_char(d.encoding) as encoding, d.datcollate as collate, d.datctype as ctype,
         coalesce((select s.setconfig from pg_db_role_setting s where s.setdatabase = d.oid and s.setrole = 0), '{}') as settings
       from pg_database d where d.datname = $1`,
      [databaseOf(pg)],
    );
    const statements = recreateStatements(
      databaseOf(pg),
      rows[0],
      (s) => client.escapeIdentifier(s),
      (s) => client.escapeLiteral(s),
    );
    for (const sql of statements) await client.query(sql);
  });
}
