/**
 * A PostgreSQL database re-created for a full restore as it was: its owner (when the restoring role may give
 * it that owner), encoding, collation and character type, and its own settings (`ALTER DATABASE ... SET`),
 * which a dump does not hold. Pure: what pg_database said in, SQL out.
 */

/** What pg_database and pg_db_role_setting say of a database before it is dropped. */
export interface DatabaseBefore {
  readonly owner: string;
  /** Whether the restoring role may make `owner` the owner (it is a member of it, or a superuser). */
  readonly mayOwn: boolean;
  readonly encoding: string;
  readonly collate: string;
  readonly ctype: string;
  /** `name=value`, as pg_db_role_setting keeps them (for this database and every role). */
  readonly settings: readonly string[];
}

/** The settings whose value is a list of names, each quoted on its own (as pg_dumpall writes them). */
const LIST_SETTINGS = new Set([
  'local_preload_libraries',
  'search_path',
  'session_preload_libraries',
  'shared_preload_libraries',
  'temp_tablespaces',
  'unix_socket_directories',
]);

/** The elements of a list setting (`"$user", public` is `$user` and `public`), as PostgreSQL splits it. Pure. */
export function listElements(value: string): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < value.length) {
    while (value[at] === ' ') at += 1;
    let element = '';
    if (value[at] === '"') {
      at += 1;
      while (at < value.length && !(value[at] === '"' && value[at + 1] !== '"')) {
        element += value[at];
        at += value[at] === '"' ? 2 : 1;
      }
      at += 1;
    } else {
      while (at < value.length && value[at] !== ',') element += value[at++];
      element = element.trimEnd();
    }
    out.push(element);
    while (at < value.length && value[at] !== ',') at += 1;
    at += 1;
  }
  return out;
}

/**
 * The statements that drop a database and create it anew as it was (from template0, as a dump is restored),
 * quoting names and values with the client's `identifier` and `literal`. Without `before` (it did not
 * exist) it is created with the server's defaults. Pure.
 */
export function recreateStatements(
  name: string,
  before: DatabaseBefore | undefined,
  identifier: (s: string) => string,
  literal: (s: string) => string,
): string[] {
  const db = identifier(name);
  const statements = [`drop database if exists ${db} with (force)`];
  if (before === undefined) return [...statements, `create database ${db} template template0`];
  const owner = before.mayOwn ? ` owner ${identifier(before.owner)}` : '';
  statements.push(
    `create database ${db} template template0${owner} encoding ${literal(before.encoding)} lc_collate ${literal(before.collate)} lc_ctype ${literal(before.ctype)}`,
  );
  for (const setting of before.settings) {
    const split = setting.indexOf('=');
    const [key, value] = [setting.slice(0, split), setting.slice(split + 1)];
    const values = LIST_SETTINGS.has(key) ? listElements(value).map(literal).join(', ') : literal(value);
    statements.push(`alter database ${db} set ${key.split('.').map(identifier).join('.')} to ${values}`);
  }
  return statements;
}
