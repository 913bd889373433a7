/** What the connected role may do, as read from pg_roles and pg_database. */
export interface RoleFacts {
  readonly user: string;
  readonly superuser: boolean;
  readonly createdb: boolean;
  readonly ownsDatabase: boolean;
  readonly readAllData: boolean;
}

/**
 * Which of sciops' database jobs the role can do. A dump reads every table (owner, superuser or
 * pg_read_all_data); a restore drops and recreates the database (superuser, or CREATEDB and owner).
 */
export function assessPrivileges(role: RoleFacts): { dump: boolean; restore: boolean; missing: string[] } {
  const dump = role.superuser || role.ownsDatabase || role.readAllData;
  const restore = role.superuser || (role.createdb && role.ownsDatabase);
  const missing: string[] = [];
  if (!dump) missing.push(`dump needs role ${role.user} to own the database or be granted pg_read_all_data`);
  if (!restore) missing.push(`restore needs role ${role.user} to own the database and have CREATEDB (ALTER ROLE ${role.user} CREATEDB)`);
  return { dump, restore, missing };
}

/** The major version in `pg_dump (PostgreSQL) 15.18 (Debian ...)` or `15.18`, or undefined. */
export function majorVersion(text: string): number | undefined {
  const match = /(\d+)(?:\.\d+)?/.exec(text.replace(/^[^\d]*/, ''));
  return match ? Number(match[1]) : undefined;
}
