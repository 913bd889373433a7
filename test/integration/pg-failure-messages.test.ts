import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { createPgBackup } from '../../activities/db/pg-backup';
import type { DumpRecord } from '../../common/backup';
import { tempDir } from '../support/experiments';
import { useTestbed } from '../support/harness';

// The review's reproduction (M7): a restore whose COPY fails on a row holding an e-mail address and a bcrypt
// hash. psql prints that row in its CONTEXT line; the failure, which workflow history records, must not.
const EMAIL = 'alice@example.org';
const HASH = '$2b$12$Qm9vYmFyYmF6cXV4LmFsaWNlLmhhc2gub2suMTIzNDU2';
const SCHEMA = 'create table users (id int primary key, email text not null, hash text not null)';
const dir = tempDir('pg-failure-messages');
const destination = { kind: 'local' as const, dir };
const noS3 = (): S3Client => {
  throw new Error('no S3 here');
};
const activities = createPgBackup(noS3);
let dump: DumpRecord;

const inActivity = <T>(fn: () => Promise<T>): Promise<T> => new MockActivityEnvironment().run(fn);

const t = useTestbed({
  databases: ['m7_source', 'm7_target'],
  before: async (t) => {
    const source = t.database('m7_source');
    const target = t.database('m7_target');
    process.env.SCIOPS_TEST_M7_SOURCE = source.url;
    process.env.SCIOPS_TEST_M7_TARGET = target.url;
    await source.pool.query(SCHEMA);
    await source.pool.query('insert into users values (1, $1, $2), (2, $3, $4)', [
      EMAIL,
      HASH,
      'bob@example.org',
      HASH.replace('alice', 'bob'),
    ]);
    await target.pool.query(SCHEMA);
    dump = await inActivity(() =>
      activities.dumpPostgres({
        target: { kind: 'postgres', name: 'db', urlEnv: 'SCIOPS_TEST_M7_SOURCE', mode: 'data-only' },
        destination,
        key: 'good.sql.gz',
      }),
    );
  },
});

/** The good dump with its data line for alice edited by `edit`, stored under `key`; its size and SHA-256. */
function forged(key: string, edit: (row: string) => string) {
  const sql = gunzipSync(readFileSync(path.join(dir, 'good.sql.gz'))).toString();
  const row = sql.split('\n').find((l) => l.includes(EMAIL)) as string;
  expect(row).toBeDefined();
  const bytes = gzipSync(sql.replace(row, edit(row)));
  writeFileSync(path.join(dir, key), bytes);
  return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

async function restoreFailure(key: string, expected: { bytes: number; sha256: string }): Promise<Error & { type?: string }> {
  return inActivity(() =>
    activities.restorePostgres({ destination, key, expected, urlEnv: 'SCIOPS_TEST_M7_TARGET', mode: 'data-only' }),
  ).then(
    () => {
      throw new Error('the restore succeeded');
    },
    (err: Error & { type?: string }) => err,
  );
}

describe('psql failures name what failed, never the rows (M7)', () => {
  it('a COPY row with extra data: the message keeps the ERROR line and the table, not the row', async () => {
    expect(dump.tables).toEqual({ 'public.users': 2 });
    const err = await restoreFailure(
      'extra.sql.gz',
      forged('extra.sql.gz', (row) => `${row}\textra`),
    );
    expect(err.type).toBe('BackupFailed');
    expect(err.message).toContain('psql failed (exit code 3)');
    expect(err.message).toContain('ERROR:  extra data after last expected column');
    expect(err.message).toContain('CONTEXT: COPY users, line 1');
    for (const secret of [EMAIL, HASH, 'Qm9vYmFyYmF6', 'bob@example.org', 'extra"']) expect(err.message).not.toContain(secret);
    expect((await t.database('m7_target').pool.query('select count(*)::int as n from users')).rows[0]?.n).toBe(0);
  });

  it('a value the ERROR line itself quotes is masked, the column of the COPY is kept', async () => {
    const err = await restoreFailure(
      'value.sql.gz',
      forged('value.sql.gz', (row) => row.replace(/^1\t/, `${HASH}\t`)),
    );
    expect(err.message).toContain('ERROR:  invalid input syntax for type integer: "***"');
    expect(err.message).toContain('CONTEXT: COPY users, line 1, column id');
    for (const secret of [EMAIL, HASH, 'Qm9vYmFyYmF6']) expect(err.message).not.toContain(secret);
  });

  it("a duplicate key: the constraint's name, never DETAIL's key and values", async () => {
    const err = await restoreFailure(
      'duplicate.sql.gz',
      forged('duplicate.sql.gz', (row) => `${row}\n${row}`),
    );
    expect(err.message).toContain('ERROR:  duplicate key value violates unique constraint "users_pkey"');
    expect(err.message).not.toContain('DETAIL');
    for (const secret of [EMAIL, HASH, 'Key (id)']) expect(err.message).not.toContain(secret);
  });
});
