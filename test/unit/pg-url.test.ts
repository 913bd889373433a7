import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/errors';
import { libpqEnv, onDatabase, parsePgUrl } from '../../common/pg-url';

// What pg_dump and psql are given for the URLs node-postgres reads (review H4b, proof p4).
const SETTING = 'OMICS_DATABASE_URL';

function refusal(url: string): ConfigError {
  try {
    libpqEnv(url, SETTING);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`${url} was accepted`);
}

describe('libpq environment of a PostgreSQL URL', () => {
  it('reaches a unix socket when the URL has no host but ?host=/dir, as node-postgres does', () => {
    expect(libpqEnv('postgresql://u:p@/omics?host=/var/run/postgresql', SETTING)).toEqual({
      PGHOST: '/var/run/postgresql',
      PGPORT: '5432',
      PGUSER: 'u',
      PGPASSWORD: 'p',
      PGDATABASE: 'omics',
    });
    expect(libpqEnv('postgresql:///omics?host=/run/pg&port=6543', SETTING)).toMatchObject({
      PGHOST: '/run/pg',
      PGPORT: '6543',
      PGUSER: '',
    });
    expect(libpqEnv('postgresql://u@%2Fvar%2Frun%2Fpostgresql/omics', SETTING)).toMatchObject({ PGHOST: '/var/run/postgresql' });
  });

  it('keeps every libpq parameter: sslrootcert, options and the like reach pg_dump and psql', () => {
    const env = libpqEnv(
      'postgresql://u:p%40ss@db:5433/omics?sslmode=verify-full&sslrootcert=/etc/ca.pem&options=-csearch_path%3Dapp&application_name=sciops',
      SETTING,
    );
    expect(env).toEqual({
      PGHOST: 'db',
      PGPORT: '5433',
      PGUSER: 'u',
      PGPASSWORD: 'p@ss',
      PGDATABASE: 'omics',
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: '/etc/ca.pem',
      PGOPTIONS: '-csearch_path=app',
      PGAPPNAME: 'sciops',
    });
  });

  it('refuses, naming the variable and the parameter, what libpq would not get or would read otherwise', () => {
    const unknown = refusal('postgresql://u:secret@db/omics?keepalives=1');
    expect(unknown.message).toContain(SETTING);
    expect(unknown.message).toContain('query parameter keepalives would not reach pg_dump and psql');
    expect(refusal('postgresql://u:secret@db/omics?ssl=true').message).toContain('write sslmode=verify-full');
    expect(refusal('postgresql://u:secret@db/omics?sslmode=no-verify').message).toContain('sslmode=no-verify');
    expect(refusal('mysql://u:secret@db/omics').message).toContain('not a postgres:// or postgresql:// URL');
    expect(refusal('postgresql://u:secret@db:99999/omics').message).toContain('not a valid URL');
    for (const url of ['postgresql://u:secret@db/omics?keepalives=1', 'postgresql://u:secret@db:99999/omics']) {
      expect(refusal(url).message).not.toContain('secret');
    }
  });

  it('names another database of the same server, keeping the host parameter and the rest', () => {
    const url = 'postgresql://u:p@/omics?host=/var/run/postgresql&sslmode=disable';
    const other = onDatabase(url, 'sciops_verify_1a', SETTING);
    expect(other).toBe('postgresql://u:p@/sciops_verify_1a?host=/var/run/postgresql&sslmode=disable');
    expect(parsePgUrl(other, SETTING)).toMatchObject({ host: '/var/run/postgresql', database: 'sciops_verify_1a', user: 'u' });
    expect(onDatabase('postgres://u:p@db:5432', 'postgres', SETTING)).toBe('postgres://u:p@db:5432/postgres');
  });
});
