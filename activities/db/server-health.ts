import type { Pool } from 'pg';
import type { CheckResult } from '../../common/doctor';
import { clientProblem } from '../../common/pg-version';
import { explainPgError } from './errors';
import { PG_TOOLS, type PgTool, pgTools, versionLineIfAny } from './pg-tools';
import { assessPrivileges, type RoleFacts } from './privileges';

/**
 * The client tools' facts (where they are taken from, each one's version line) and what is wrong with them for
 * a server of `serverVersionNum`: SCIOPS_PG_BIN_DIR unusable, a tool missing, or versions a backup or restore
 * of that server would be refused for (see clientProblem).
 */
async function clientTools(serverVersionNum: string): Promise<{ facts: Array<[string, string]>; problems: string[] }> {
  const dir = process.env.SCIOPS_PG_BIN_DIR;
  const facts: Array<[string, string]> = [['client tools', dir ? `SCIOPS_PG_BIN_DIR=${dir}` : 'PATH']];
  let tools: Record<PgTool, string>;
  try {
    tools = pgTools();
  } catch (err) {
    return { facts, problems: [(err as Error).message] };
  }
  const lines: Partial<Record<PgTool, string>> = {};
  for (const tool of PG_TOOLS) {
    lines[tool] = await versionLineIfAny(tools[tool]);
    facts.push([tool, lines[tool] ?? 'not found']);
  }
  const { pg_dump: pgDump, psql } = lines;
  if (pgDump === undefined || psql === undefined) {
    return {
      facts,
      problems: ['pg_dump and psql are not both on this worker: apt-get install postgresql-client, or set SCIOPS_PG_BIN_DIR'],
    };
  }
  const problem = clientProblem('this server', { pgDump, psql, server: serverVersionNum }, true);
  return { facts, problems: problem === undefined ? [] : [problem] };
}

export function createServerHealth(pool: Pool, url: string) {
  return {
    /**
     * Server version, connection, the privileges dumps and restores need, and the client tools (SCIOPS_PG_BIN_DIR's
     * or PATH's) with their versions, held to DATABASE_URL's server as a backup of it would be.
     */
    async checkDatabase(): Promise<CheckResult> {
      const check = 'db';
      let row: { version: string; versionNum: string; database: string } & RoleFacts;
      try {
        const result = await pool.query(`
          select current_setting('server_version') as version,
                 current_setting('server_version_num') as "versionNum",
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
      const tools = await clientTools(row.versionNum);
      const facts: Array<[string, string]> = [
        ['DATABASE_URL', url],
        ['server', `PostgreSQL ${row.version}`],
        ['database', row.database],
        ['role', `${row.user}${row.superuser ? ' (superuser)' : row.createdb ? ' (createdb)' : ''}`],
        ['can dump', dump ? 'yes' : 'no'],
        ['can restore', restore ? 'yes' : 'no'],
        ...tools.facts,
      ];
      const problems = [...missing, ...tools.problems];
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
