import type { Client } from 'pg';
import { Failure, permanent } from '../../common/failures';
import { type ClientAndServer, clientProblem } from '../../common/pg-version';
import { pgTools, versionLine } from './pg-tools';

const refused = (message: string) => permanent(Failure.configInvalid, `${message}; nothing was changed`);

/** The one statement the check sends: the server's version, as `server_version` (`16.4 (Debian ...)`) and `server_version_num` (`160004`). */
export const VERSION_QUERY = "select current_setting('server_version') as version, current_setting('server_version_num') as num";

/** The server's version, as VERSION_QUERY reads it. */
export async function serverVersion(client: Client): Promise<{ version: string; num: string }> {
  const { rows } = await client.query<{ version: string; num: string }>(VERSION_QUERY);
  const row = rows[0];
  if (row === undefined) throw new Error('the server answered no row for its version');
  return row;
}

/**
 * Refuses, without retry, work on the server `client` is connected to that this worker's client tools cannot
 * do (see clientProblem): pg_dump older than the server, or, for work that `restores`, a psql without
 * `\restrict`; and a tool that cannot be run at all. It reads versions only: call it before the work's first
 * side effect, so that a refusal leaves everything as it was. `target` names the backup target.
 */
export async function checkPgClient(client: Client, target: string, restores: boolean): Promise<ClientAndServer> {
  const tools = pgTools();
  const server = await serverVersion(client);
  const run = (tool: 'pg_dump' | 'psql') =>
    versionLine(tools[tool]).catch((err: Error) => {
      throw refused(
        `target ${target}: ${tools[tool]} cannot be run on the db worker (${err.message}): install the PostgreSQL client tools or set SCIOPS_PG_BIN_DIR`,
      );
    });
  const versions = { pgDump: await run('pg_dump'), ...(restores ? { psql: await run('psql') } : {}), server: server.num };
  const problem = clientProblem(`target ${target}`, versions, restores);
  if (problem !== undefined) throw refused(problem);
  return versions;
}
