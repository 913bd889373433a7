/**
 * PostgreSQL versions of the client tools and of a server, and whether the tools can work with that server.
 * Pure: a tool's `--version` line and the server's `server_version_num` in, a verdict out.
 *
 * pg_dump refuses a server of a newer major version ("server version mismatch") and dumps any older one (back
 * to 9.2), so its major version must be at least the server's. psql sends a restore's plain SQL and COPY data
 * as they are, which every server version reads the same; only its own meta-commands depend on its version,
 * and of those a restore uses `\restrict`, which psql has since 13.22, 14.19, 15.14, 16.10 and 17.6.
 */

/** A version as PostgreSQL counts it in `server_version_num`: 150018 for 15.18, 90624 for 9.6.24. */
export type VersionNum = number;

/** A version from a tool's `--version` line: `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`, `psql (PostgreSQL) 17devel`. */
export function toolVersionNum(line: string): VersionNum | undefined {
  const m = /\)\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(line);
  if (m === null) return undefined;
  const [major, minor, patch] = [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
  // Before 10 the major version had two parts (9.6) and the minor one came third (9.6.24).
  return major >= 10 ? major * 10_000 + minor : major * 10_000 + minor * 100 + patch;
}

/** A server's version from `server_version_num` (`160004`), undefined when that is not a version. */
export function serverVersionNum(value: string | number): VersionNum | undefined {
  const n = Number(value);
  return Number.isInteger(n) && n >= 10_000 ? n : undefined;
}

/** The major version of `num`, as written: `16` for 160004, `9.6` for 90624. */
export function majorOf(num: VersionNum): string {
  const first = Math.floor(num / 10_000);
  return first >= 10 ? String(first) : `${first}.${Math.floor(num / 100) % 100}`;
}

/** Comparable major versions: 160000 for any 16.x, 90600 for any 9.6.x. */
const majorKey = (num: VersionNum) => (num >= 100_000 ? Math.floor(num / 10_000) * 10_000 : Math.floor(num / 100) * 100);

/** Whether pg_dump of version `client` can dump a server of version `server`: its major version is at least the server's. */
export const pgDumpCanDump = (client: VersionNum, server: VersionNum) => majorKey(client) >= majorKey(server);

/** The first minor release of each major version whose psql knows `\restrict` (see restrictedTransaction). */
const RESTRICT_SINCE: Readonly<Record<number, number>> = { 13: 22, 14: 19, 15: 14, 16: 10, 17: 6 };

/** The releases of the supported majors whose psql knows `\restrict`, as the messages name them. */
export const RESTRICT_RELEASES = '15.14, 16.10, 17.6 or later';

/** Whether psql of version `num` knows `\restrict`, which every sciops restore opens with. */
export function psqlKnowsRestrict(num: VersionNum): boolean {
  const major = Math.floor(num / 10_000);
  if (major >= 18) return true;
  const since = RESTRICT_SINCE[major];
  return since !== undefined && num % 10_000 >= since;
}

/** The fix for client tools that are too old for a server of major version `serverMajor`, as every message gives it. */
export const newerClientFix = (serverMajor: string) =>
  `use a newer client via SCIOPS_PG_BIN_DIR (a directory with pg_dump and psql of major ≥ ${serverMajor}), ` +
  `or dump in service mode (inside the database's own task, with the server's own pg_dump) once sciops has it`;

/**
 * What the db worker's client tools are, as their `--version` lines say, and the server's `server_version_num`;
 * `psql` is read only for work that restores (a restore, a verification).
 */
export interface ClientAndServer {
  readonly pgDump: string;
  readonly psql?: string;
  readonly server: string | number;
}

/**
 * Why the client tools cannot do the work on a database of that server, in one sentence naming both versions
 * and the fix; undefined when they can. `what` names the target (`target app`); `restores`: the work runs psql
 * too (a restore, a verification), not pg_dump alone (a backup without verification).
 */
export function clientProblem(what: string, versions: ClientAndServer, restores: boolean): string | undefined {
  const server = serverVersionNum(versions.server);
  if (server === undefined) return `${what}: the server's server_version_num "${versions.server}" is not a version`;
  const pgDump = toolVersionNum(versions.pgDump);
  if (pgDump === undefined) return `${what}: "${versions.pgDump}" is not the version line of pg_dump`;
  if (!pgDumpCanDump(pgDump, server)) {
    return (
      `${what}: pg_dump ${majorOf(pgDump)} (${versions.pgDump}) on the db worker is older than the server, ` +
      `PostgreSQL ${majorOf(server)} (server_version_num ${server}), and cannot dump it; ${newerClientFix(majorOf(server))}`
    );
  }
  if (!restores) return undefined;
  const psql = toolVersionNum(versions.psql ?? '');
  if (psql === undefined) return `${what}: "${versions.psql}" is not the version line of psql`;
  if (!psqlKnowsRestrict(psql)) {
    return (
      `${what}: psql ${versions.psql} on the db worker does not know \\restrict, which restores and ` +
      `verifications run under; use psql ${RESTRICT_RELEASES} (SCIOPS_PG_BIN_DIR names a directory of newer tools)`
    );
  }
  return undefined;
}

/**
 * Settings pg_dump writes at the top of a dump, whatever server it dumped, that servers before a version do
 * not have: psql, stopping on the first error, would refuse the whole dump for them. pg_dump 17 writes
 * `SET transaction_timeout = 0;`, which PostgreSQL 16 and older do not know.
 */
const SETTINGS_SINCE: Readonly<Record<string, VersionNum>> = { transaction_timeout: 170_000 };

/** Whether a line is pg_dump's `SET name = 0;` of a setting a server of version `server` does not have. */
export function settingUnknownTo(line: string, server: VersionNum): boolean {
  const m = /^SET ([a-z_]+) = 0;\r?$/.exec(line);
  const since = m === null ? undefined : SETTINGS_SINCE[m[1] as string];
  return since !== undefined && server < since;
}
