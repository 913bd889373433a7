import { describe, expect, it } from 'vitest';
import { maskedTail, maskValues, pgErrorLines } from '../../common/failure-output';

// What psql 15 prints on the testbed for the review's reproduction and its neighbours.
const EXTRA_COLUMN = `psql:<stdin>:4: ERROR:  extra data after last expected column
CONTEXT:  COPY users, line 1: "1\talice@example.org\t$2b$12$Qm9vYmFyYmF6cXV4\textra"
`;
const BAD_VALUE = `psql:<stdin>:4: ERROR:  invalid input syntax for type integer: "$2b$12$Qm9vYmFyYmF6cXV4"
CONTEXT:  COPY users, line 1, column n: "$2b$12$Qm9vYmFyYmF6cXV4"
`;
const DUPLICATE = `psql:<stdin>:2: ERROR:  duplicate key value violates unique constraint "u_e_key"
DETAIL:  Key (e)=(alice@example.org) already exists.
`;
const SECRETS = ['alice@example.org', 'Qm9vYmFyYmF6cXV4', '$2b$'];

describe('pgErrorLines', () => {
  it('keeps the ERROR line and where the COPY failed, never the row psql quotes in CONTEXT', () => {
    const kept = pgErrorLines(EXTRA_COLUMN);
    expect(kept).toBe('psql:<stdin>:4: ERROR:  extra data after last expected column / CONTEXT: COPY users, line 1');
    for (const s of SECRETS) expect(kept).not.toContain(s);
  });

  it('masks a value the ERROR line itself quotes, and keeps the column of the COPY', () => {
    const kept = pgErrorLines(BAD_VALUE);
    expect(kept).toBe('psql:<stdin>:4: ERROR:  invalid input syntax for type integer: "***" / CONTEXT: COPY users, line 1, column n');
    for (const s of SECRETS) expect(kept).not.toContain(s);
  });

  it('leaves out DETAIL (a key and its values) but keeps the constraint name', () => {
    expect(pgErrorLines(DUPLICATE)).toBe('psql:<stdin>:2: ERROR:  duplicate key value violates unique constraint "u_e_key"');
  });

  it("keeps pg_dump's and psql's own error lines, with URL passwords masked, and drops the SQL of the failed command", () => {
    const dump = `pg_dump: error: Dumping the contents of table "users" failed: PQgetResult() failed.
pg_dump: detail: Error message from server: ERROR:  permission denied for table users
pg_dump: detail: Command was: COPY public.users (id, email) TO stdout;
`;
    expect(pgErrorLines(dump)).toBe(
      'pg_dump: error: Dumping the contents of table "users" failed: PQgetResult() failed. / pg_dump: detail: Error message from server: ERROR:  permission denied for table users',
    );
    const connect =
      'psql: error: connection to server at "db" (10.0.0.2), port 5432 failed: FATAL:  password authentication failed for user "app"\n';
    expect(pgErrorLines(connect)).toBe(connect.trim());
    expect(pgErrorLines('psql: error: invalid URI postgresql://app:hunter2@db/x\n')).toBe(
      'psql: error: invalid URI postgresql://app:***@db/x',
    );
  });

  it('drops HINT, QUERY, STATEMENT and LINE lines, and says so when nothing is left', () => {
    const syntax = `psql:<stdin>:7: ERROR:  syntax error at or near "'alice@example.org'"
LINE 1: select from users where email 'alice@example.org';
                                      ^
HINT:  No operator matches the given name.
`;
    expect(pgErrorLines(syntax)).toBe('psql:<stdin>:7: ERROR:  syntax error at or near "***"');
    expect(pgErrorLines('some notice\nCONTEXT:  PL/pgSQL function f() line 3 at RAISE\n')).toBe('(no ERROR or FATAL line on its stderr)');
  });

  it('keeps the last 3 lines it keeps', () => {
    const many = ['1', '2', '3', '4'].map((n) => `psql:<stdin>:${n}: ERROR:  e${n}`).join('\n');
    expect(pgErrorLines(many)).toBe('psql:<stdin>:2: ERROR:  e2 / psql:<stdin>:3: ERROR:  e3 / psql:<stdin>:4: ERROR:  e4');
  });
});

describe('maskValues', () => {
  it('masks secrets, hashes, e-mail addresses, quoted values and long tokens; keeps names and paths', () => {
    expect(maskValues('password=hunter2 token: abc api_key="k y"')).toBe('password=*** token: *** api_key=***');
    expect(maskValues('hash $argon2id$v=19$m=65536$c2FsdA$aGFzaA and bob@lab.example.edu')).toBe('hash *** and ***');
    expect(maskValues(`value "42" is out of range; table "public.users"; socket "/var/run/postgresql/.s.PGSQL.5432"`)).toBe(
      `value "***" is out of range; table "public.users"; socket "/var/run/postgresql/.s.PGSQL.5432"`,
    );
    expect(maskValues(`name "Alice Smith" and 'literal'`)).toBe(`name "***" and '***'`);
    expect(maskValues(`digest ${'ab12'.repeat(16)} end`)).toBe('digest *** end');
    expect(maskValues('word '.repeat(100))).toHaveLength(241);
  });
});

describe('maskedTail', () => {
  it('keeps the last lines of a command, masked, without PostgreSQL CONTEXT/DETAIL lines', () => {
    const output = `applying 0003
creating admin with password=s3cret
psql:/migrate.sql:12: ERROR:  duplicate key value violates unique constraint "users_email_key"
DETAIL:  Key (email)=(alice@example.org) already exists.
CONTEXT:  COPY users, line 1: "1\talice@example.org"

`;
    const tail = maskedTail(output);
    expect(tail).toBe(
      'applying 0003\ncreating admin with password=***\npsql:/migrate.sql:12: ERROR:  duplicate key value violates unique constraint "users_email_key"',
    );
    expect(maskedTail('a\nb\nc\nd\n', 2)).toBe('c\nd');
  });
});
