import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Pool } from 'pg';
import type { CheckResult } from '../../common/doctor';
import { explainPgError } from './errors';
import { assessPrivileges, majorVersion, type RoleFacts } from './privileges';

const run = promisify(execFile);

/** The local pg_dump's version line, or undefined when it is not installed. */
async function pgDumpVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await run('pg_dump', ['--version'], { timeout: 10_000 });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

export function createServerHealth(pool: Pool, url: string) {
  return {
    /** Server version, connection, and the privileges dumps and restores need. */
    async checkDatabase(): Promise<CheckResult> {
      const check = 'db';
      let row: { version: string; database: string } & RoleFacts;
      try {
        const result = await pool.query(`
          select current_setting('server_version') as version,
                 current_database() as database,
                 current_user as "user",
                 r.rolsuper as superuser,
                 r.rolcreatedb as createdb,
                 d.datdba = r.oid as "ownsDatabase",
                 pg_has_role(current_user, 'pg_read_all_data', 'member') as "readAllData"
            from pg_roles r, pg_database d
           where r.rolname = current_user and d.datname = current_database()`);
        row = result.rows[0];
      } catch (err) {
        const { summary, fix } = explainPgError(err, url);
        return { check, status: 'fail', summary, fix, facts: [['DATABASE_URL', url]] };
      }
      const { dump, restore, missing } = assessPrivileges(row);
      const pgDump = await pgDumpVersion();
      const facts: Array<[string, string]> = [
        ['DATABASE_URL', url],
        ['server', `PostgreSQL ${row.version}`],
        ['database', row.database],
        ['role', `${row.user}${row.superuser ? ' (superuser)' : row.createdb ? ' (createdb)' : ''}`],
        ['can dump', dump ? 'yes' : 'no'],
        ['can restore', restore ? 'yes' : 'no'],
        ['pg_dump', pgDump ?? 'not found'],
      ];
      const problems = [...missing];
      if (pgDump === undefined) {
        problems.push('pg_dump is not installed on this worker (apt-get install postgresql-client)');
      } else if ((majorVersion(pgDump) ?? 0) < (majorVersion(row.version) ?? 0)) {
        problems.push(
          `pg_dump ${majorVersion(pgDump)} is older than the server ${majorVersion(row.version)}: install a client of version >= the server's`,
        );
      }
      if (problems.length > 0) {
        return {
          check,
          status: 'warn',
          summary: `connected to PostgreSQL ${row.version} as ${row.user}, but backups will not work as is`,
          fix: problems.join('; '),
          facts,
        };
      }
      return { check, status: 'ok', summary: `PostgreSQL ${row.version}, database ${row.database} as ${row.user}`, facts };
    },
  };
}
