import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Failure, permanent } from '../../common/failures';

/** The PostgreSQL client tools sciops runs, and that SCIOPS_PG_BIN_DIR must hold. */
export const PG_TOOLS = ['pg_dump', 'psql', 'pg_restore'] as const;
export type PgTool = (typeof PG_TOOLS)[number];

const invalid = (message: string) =>
  permanent(
    Failure.configInvalid,
    `SCIOPS_PG_BIN_DIR: ${message}; name the bin directory of a PostgreSQL client (e.g. /usr/lib/postgresql/17/bin), or unset it to use PATH's tools`,
  );

/**
 * The client tools' commands on this worker: those in SCIOPS_PG_BIN_DIR when it is set, else the bare names
 * (PATH's). A SCIOPS_PG_BIN_DIR that is not absolute, not a directory, or lacks an executable pg_dump, psql or
 * pg_restore fails without retry, saying which: never a mix of its tools and PATH's.
 */
export function pgTools(env: NodeJS.ProcessEnv = process.env): Record<PgTool, string> {
  const dir = env.SCIOPS_PG_BIN_DIR;
  if (dir === undefined || dir === '') return { pg_dump: 'pg_dump', psql: 'psql', pg_restore: 'pg_restore' };
  if (!path.isAbsolute(dir)) throw invalid(`${dir} is not an absolute path`);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw invalid(`${dir} does not exist on the db worker`);
  }
  if (!isDir) throw invalid(`${dir} is not a directory`);
  const missing = PG_TOOLS.filter((tool) => {
    try {
      accessSync(path.join(dir, tool), constants.X_OK);
      return !statSync(path.join(dir, tool)).isFile();
    } catch {
      return true;
    }
  });
  if (missing.length > 0) throw invalid(`${dir} has no executable ${missing.join(', ')}`);
  return { pg_dump: path.join(dir, 'pg_dump'), psql: path.join(dir, 'psql'), pg_restore: path.join(dir, 'pg_restore') };
}

/** A tool's `--version` line (`pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`). */
export async function versionLine(command: string): Promise<string> {
  return (await promisify(execFile)(command, ['--version'], { timeout: 10_000 })).stdout.trim();
}

/** A tool's `--version` line, or undefined when it cannot be run (not installed). */
export const versionLineIfAny = (command: string) => versionLine(command).catch(() => undefined);
