import { randomBytes } from 'node:crypto';
import { Client as PgClient, Pool } from 'pg';
import { loadTestbed } from './testbed';

export interface ScratchDatabase {
  readonly url: string;
  readonly pool: Pool;
  drop(): Promise<void>;
}

/** A database of its own for one test file, on the testbed's server; dropped afterwards. */
export async function scratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const base = new URL(loadTestbed().databaseUrl);
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new PgClient({ connectionString: base.toString() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const pool = new Pool({ connectionString: url.toString(), max: 3 });
  return {
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      const again = new PgClient({ connectionString: base.toString() });
      await again.connect();
      await again.query(`drop database if exists ${name} with (force)`);
      await again.end();
    },
  };
}
