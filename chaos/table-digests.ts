import type { Pool } from 'pg';

/** Per user table: its row count and an MD5 of all its rows in one order (equal digests: equal contents). */
export type TableDigests = Record<string, string>;

export async function tableDigests(pool: Pool): Promise<TableDigests> {
  const { rows: tables } = await pool.query<{ name: string }>(
    `select format('%I.%I', schemaname, tablename) as name from pg_tables
      where schemaname not in ('pg_catalog', 'information_schema') order by 1`,
  );
  const digests: TableDigests = {};
  for (const { name } of tables) {
    const { rows } = await pool.query<{ n: string; md5: string }>(
      `select count(*) as n, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as md5 from ${name} t`,
    );
    digests[name] = `${rows[0]?.n} rows, md5 ${rows[0]?.md5}`;
  }
  return digests;
}

/** One line per table whose digest differs between `expected` and `found` (or that only one of them has). Pure. */
export function digestDifferences(expected: TableDigests, found: TableDigests, what: string): string[] {
  const names = [...new Set([...Object.keys(expected), ...Object.keys(found)])].sort();
  return names
    .filter((n) => expected[n] !== found[n])
    .map((n) => `${n}: ${found[n] ?? 'missing'}, but ${what} it was ${expected[n] ?? 'missing'}`);
}
