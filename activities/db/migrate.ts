import type { Pool } from 'pg';

/** One schema change: applied once, in name order, in its own transaction. */
export interface Migration {
  readonly name: string;
  readonly sql: string;
}

/**
 * Applies the migrations not yet recorded in `table` (created when missing), each in a transaction with its
 * record, under an advisory lock so that two workers starting at once do not race. Returns the names applied.
 */
export async function applyMigrations(pool: Pool, table: string, migrations: readonly Migration[]): Promise<string[]> {
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`not a plain table name: ${table}`);
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', [table]);
    await client.query(`create table if not exists ${table} (name text primary key, applied_at timestamptz not null default now())`);
    const done = new Set((await client.query<{ name: string }>(`select name from ${table}`)).rows.map((r) => r.name));
    for (const migration of [...migrations].sort((a, b) => a.name.localeCompare(b.name))) {
      if (done.has(migration.name)) continue;
      await client.query('begin');
      try {
        await client.query(migration.sql);
        await client.query(`insert into ${table} (name) values ($1)`, [migration.name]);
        await client.query('commit');
      } catch (err) {
        await client.query('rollback');
        throw new Error(`migration ${migration.name} failed: ${(err as Error).message}`);
      }
      applied.push(migration.name);
    }
  } finally {
    await client.query('select pg_advisory_unlock(hashtext($1))', [table]).catch(() => undefined);
    client.release();
  }
  return applied;
}
