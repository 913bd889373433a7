import { describe, expect, it } from 'vitest';
import { listElements, recreateStatements } from '../../common/backup-pg-database';
import { restoreFailedMessage } from '../../common/restore';

const identifier = (s: string) => `"${s.replace(/"/g, '""')}"`;
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

describe('a database re-created for a full restore', () => {
  const before = { owner: 'omics_app', mayOwn: true, encoding: 'UTF8', collate: 'C.UTF-8', ctype: 'C.UTF-8', settings: [] as string[] };

  it('gets back its owner, encoding, locale and settings', () => {
    const settings = ['work_mem=8MB', 'search_path="$user", public, "odd ""name"""', "app.greeting=it's"];
    expect(recreateStatements('omics', { ...before, settings }, identifier, literal)).toEqual([
      'drop database if exists "omics" with (force)',
      `create database "omics" template template0 owner "omics_app" encoding 'UTF8' lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'`,
      `alter database "omics" set "work_mem" to '8MB'`,
      `alter database "omics" set "search_path" to '$user', 'public', 'odd "name"'`,
      `alter database "omics" set "app"."greeting" to 'it''s'`,
    ]);
  });

  it('keeps the restoring role as owner when it may not give the database away, and defaults when there was none', () => {
    expect(recreateStatements('omics', { ...before, mayOwn: false }, identifier, literal)[1]).toBe(
      `create database "omics" template template0 encoding 'UTF8' lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'`,
    );
    expect(recreateStatements('omics', undefined, identifier, literal)).toEqual([
      'drop database if exists "omics" with (force)',
      'create database "omics" template template0',
    ]);
  });

  it('splits list settings as PostgreSQL does', () => {
    expect(listElements('"$user", public')).toEqual(['$user', 'public']);
    expect(listElements('a,b ,  "c,d"')).toEqual(['a', 'b', 'c,d']);
    expect(listElements('""""')).toEqual(['"']);
  });
});

describe('what a failed restore says', () => {
  it('names the targets the safety backup went back into, and those it could not', () => {
    expect(restoreFailedMessage('psql failed: division by zero', 'nightly/safety-x/', ['db'], [])).toBe(
      'restore failed: psql failed: division by zero. The safety backup (nightly/safety-x/) was put back into db',
    );
    expect(restoreFailedMessage('tar exited 2', 'nightly/safety-x/', ['db'], ['media (no space left)'])).toBe(
      'restore failed: tar exited 2. The safety backup (nightly/safety-x/) was put back into db. ' +
        'The safety backup could NOT be put back into media (no space left); it is kept at nightly/safety-x/',
    );
    expect(restoreFailedMessage('cancelled', 'nightly/safety-x/', [], [])).toBe(
      'restore failed: cancelled. No target was changed; the safety backup is kept at nightly/safety-x/',
    );
  });
});
