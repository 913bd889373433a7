import { describe, expect, it } from 'vitest';
import {
  BACKUP_MAX_HOURS,
  backupLocation,
  backupSpecSchema,
  differences,
  dumpFileName,
  leftoverRuns,
  parseBackupLocation,
  RUN_ID,
  runId,
  runTime,
} from '../../common/backup';
import { isoWeek, retain } from '../../common/backup-retention';
import { targetLockKey } from '../../common/locks';
import { nsFromProblem, restoreInputSchema } from '../../common/restore';
import { parseInput } from '../../common/validate';

const parse = (v: unknown) => parseInput(backupSpecSchema, v, 'backup spec');
const base = { name: 'nightly', targets: [{ kind: 'postgres', name: 'db' }], destination: { kind: 'local', dir: '/var/backups/sciops' } };

/** One run a day at 03:00 UTC for `days` days up to and including 2026-11-22 (ids as earlier versions named them). */
function dailyRuns(days: number): string[] {
  const last = Date.UTC(2026, 10, 22, 3);
  return Array.from({ length: days }, (_, i) => new Date(last - i * 86_400_000).toISOString().replace(/[-:]|\.\d{3}/g, ''));
}

describe('backup spec', () => {
  it('fills defaults: data-only dumps from DATABASE_URL, GFS 7/7/4/6', () => {
    const spec = parse(base);
    expect(spec.targets[0]).toEqual({ kind: 'postgres', name: 'db', urlEnv: 'DATABASE_URL', mode: 'data-only' });
    expect(spec.retention).toEqual({ keepLast: 7, daily: 7, weekly: 4, monthly: 6 });
    expect(dumpFileName(spec.targets[0] as never, '20261122T030000Z')).toBe('db-20261122T030000Z.sql.gz');
  });

  it.each([
    [{ ...base, targets: [] }, 'targets: at least one target'],
    [
      {
        ...base,
        targets: [
          { kind: 'postgres', name: 'db' },
          { kind: 'volume', name: 'db', volume: 'media' },
        ],
      },
      'targets[1].name: "db" is defined twice',
    ],
    [{ ...base, destination: { kind: 'local', dir: 'backups' } }, 'destination.dir: an absolute directory'],
    [{ ...base, destination: { kind: 's3', bucket: 'B' } }, 'destination.bucket: an S3 bucket name'],
    [{ ...base, targets: [{ kind: 'mysql', name: 'db' }] }, 'targets[0].kind'],
    [{ ...base, colour: 'red' }, 'colour: unknown field'],
  ])('rejects %j naming the field', (spec, message) => {
    expect(() => parse(spec)).toThrow(message);
  });

  it('names runs by their UTC start to the millisecond plus a random suffix, and reads the time back', () => {
    const at = new Date(Date.UTC(2026, 10, 22, 3, 4, 5, 678));
    expect(runId(at, '1a2b3c4d')).toBe('20261122T030405.678Z-1a2b3c4d');
    expect(runTime('20261122T030405.678Z-1a2b3c4d').toISOString()).toBe('2026-11-22T03:04:05.678Z');
    // Runs of earlier versions keep their names.
    expect(runTime('20261122T030405Z').toISOString()).toBe('2026-11-22T03:04:05.000Z');
    expect(RUN_ID.test('20261122T030405Z')).toBe(true);
    expect(() => runId(at, 'xyz')).toThrow('8 hex digits');
  });

  it('gives two runs started in the same second (or millisecond) folders of their own', () => {
    // Before, a scheduled run and a CLI run in one second shared 20261122T030000Z and overwrote each other.
    const second = new Date(Date.UTC(2026, 10, 22, 3, 0, 0, 100));
    const same = new Date(Date.UTC(2026, 10, 22, 3, 0, 0, 900));
    expect(runId(second, '00000001')).not.toBe(runId(same, '00000001'));
    expect(runId(second, '00000001')).not.toBe(runId(second, '00000002'));
    for (const id of [runId(second, '00000001'), runId(same, 'ffffffff')]) {
      expect(parseBackupLocation(`/b/nightly/${id}`).run).toBe(id);
      expect(parseInput(restoreInputSchema, { destination: { kind: 'local', dir: '/b' }, backup: 'nightly', run: id }, 'r').run).toBe(id);
    }
    expect([runId(same, '00000000'), runId(second, 'ffffffff')].sort()).toEqual([runId(second, 'ffffffff'), runId(same, '00000000')]);
  });

  it('prunes as leftovers only incomplete runs older than any backup may run, never the current one', () => {
    const now = new Date(Date.UTC(2026, 10, 22, 3));
    const hoursAgo = (h: number) => runId(new Date(now.getTime() - h * 3_600_000), 'abcdef01');
    const inFlight = hoursAgo(1);
    const longRunning = hoursAgo(BACKUP_MAX_HOURS - 1);
    const dead = hoursAgo(BACKUP_MAX_HOURS + 1);
    const current = hoursAgo(0);
    expect(leftoverRuns([dead, longRunning, inFlight, current, '20250101T030000Z'], current, now)).toEqual([dead, '20250101T030000Z']);
  });
});

describe('GFS retention', () => {
  it('knows ISO weeks across a year boundary', () => {
    expect(isoWeek(new Date(Date.UTC(2026, 10, 22)))).toBe('2026-W47'); // a Sunday
    expect(isoWeek(new Date(Date.UTC(2026, 10, 23)))).toBe('2026-W48'); // the Monday after
    expect(isoWeek(new Date(Date.UTC(2021, 0, 3)))).toBe('2020-W53');
    expect(isoWeek(new Date(Date.UTC(2024, 11, 30)))).toBe('2025-W01');
  });

  it('keeps exactly the newest N, one per recent day, week and month, from a year of daily runs', () => {
    const runs = dailyRuns(365);
    const { keep, prune } = retain(runs, { keepLast: 3, daily: 5, weekly: 3, monthly: 4 });
    expect(keep).toEqual([
      '20261122T030000Z', // last 3 and daily (Nov 22, 21, 20, 19, 18); Sunday: newest of week 47
      '20261121T030000Z',
      '20261120T030000Z',
      '20261119T030000Z',
      '20261118T030000Z',
      '20261115T030000Z', // Sunday: newest of week 46
      '20261108T030000Z', // Sunday: newest of week 45
      '20261031T030000Z', // newest of October
      '20260930T030000Z', // of September
      '20260831T030000Z', // of August
    ]);
    expect(keep.length + prune.length).toBe(365);
    expect(prune).not.toContain('20261122T030000Z');
  });

  it('counts only periods that have a run, and keeps several runs of one day only by keepLast', () => {
    const runs = ['20261122T150000Z', '20261122T030000Z', '20261101T030000Z', '20260701T030000Z'];
    expect(retain(runs, { keepLast: 1, daily: 2, weekly: 0, monthly: 0 }).keep).toEqual(['20261122T150000Z', '20261101T030000Z']);
    expect(retain(runs, { keepLast: 1, daily: 0, weekly: 0, monthly: 3 }).keep).toEqual(['20261122T150000Z', '20260701T030000Z']);
  });
});

describe('backup locations', () => {
  it('name a run in a directory or a bucket, and read back', () => {
    const local = { kind: 'local' as const, dir: '/var/backups/sciops' };
    const s3 = { kind: 's3' as const, bucket: 'lab-backups', prefix: 'omics/' };
    expect(backupLocation(local, 'nightly', '20261122T030000Z')).toBe('/var/backups/sciops/nightly/20261122T030000Z');
    expect(backupLocation(s3, 'nightly', '20261122T030000Z')).toBe('s3://lab-backups/omics/nightly/20261122T030000Z');
    expect(parseBackupLocation('/var/backups/sciops/nightly/20261122T030000Z/')).toEqual({
      destination: local,
      backup: 'nightly',
      run: '20261122T030000Z',
    });
    expect(parseBackupLocation('s3://lab-backups/omics/nightly/20261122T030000Z')).toEqual({
      destination: s3,
      backup: 'nightly',
      run: '20261122T030000Z',
    });
    expect(parseBackupLocation('s3://lab-backups/nightly/20261122T030000Z').destination).toEqual({
      kind: 's3',
      bucket: 'lab-backups',
      prefix: '',
    });
    expect(() => parseBackupLocation('nightly/latest')).toThrow('does not end in <backup>/<run id>');
    expect(() => parseBackupLocation('backups/nightly/20261122T030000Z')).toThrow('neither an absolute directory nor an s3:// URL');
    // The review's location: the destination rules of a spec hold for a location too (review p1).
    expect(() => parseBackupLocation('/srv/../etc/nightly/20261122T030000Z')).toThrow(
      '"/srv/../etc/nightly/20261122T030000Z": dir: a path without ..',
    );
    expect(() => parseBackupLocation('s3://lab-backups/../nightly/20261122T030000Z')).toThrow('prefix: segments other than . and ..');
    expect(() => parseBackupLocation('s3://Lab_Backups/nightly/20261122T030000Z')).toThrow('bucket: an S3 bucket name');
  });
});

describe('comparing a restore with its manifest', () => {
  const dump = {
    target: 'db',
    kind: 'postgres' as const,
    file: 'f',
    bytes: 1,
    sha256: 'x',
    tool: 't',
    tables: { 'public.a': 3, 'public.b': 0 },
  };

  it('names each table, collection or count that differs', () => {
    expect(differences(dump, { tables: { 'public.a': 3, 'public.b': 0 } })).toEqual([]);
    expect(differences(dump, { tables: { 'public.a': 2, 'public.c': 1 } })).toEqual([
      'db: table public.a has 2 rows, the manifest says 3',
      'db: table public.b has no rows, the manifest says 0',
      'db: table public.c has 1 rows, the manifest says none',
    ]);
    const mongo = { ...dump, target: 'meta', kind: 'mongo' as const, tables: undefined, collections: { samples: 5 } };
    expect(differences(mongo, { collections: { samples: 4 } })).toEqual(['meta: collection samples has 4 documents, the manifest says 5']);
    const volume = { ...dump, target: 'media', kind: 'volume' as const, tables: undefined, files: 2 };
    expect(differences(volume, { files: 2 })).toEqual([]);
    expect(differences(volume, { files: 1 })).toEqual(['media: 1 files, the manifest says 2']);
  });

  it('restores into a database MongoDB allows, never into admin, local or config (review M4)', () => {
    const base = { destination: { kind: 'local', dir: '/b' }, backup: 'nightly', run: '20261122T030000Z', nsFrom: 'omics.*' };
    for (const nsTo of ['admin.*', 'Config.*', 'local.*']) {
      expect(() => parseInput(restoreInputSchema, { ...base, nsTo }, 'restore input')).toThrow(
        "nsTo: not into admin, local, config: MongoDB's own databases",
      );
    }
    for (const nsTo of ['a b/$x.*', 'omics.copy.*', 'x*.*', '.*']) {
      expect(() => parseInput(restoreInputSchema, { ...base, nsTo }, 'restore input')).toThrow(
        'nsTo: a database pattern such as omics_copy.*',
      );
    }
    expect(parseInput(restoreInputSchema, { ...base, nsTo: 'omics_copy.*' }, 'restore input').nsTo).toBe('omics_copy.*');
  });

  it('refuses an nsFrom that names no MongoDB database of the restore (a typo would restore into production)', () => {
    const mongo = { kind: 'mongo' as const, name: 'docs', urlEnv: 'MONGO_URL', database: 'omics' };
    const pg = { kind: 'postgres' as const, name: 'db', urlEnv: 'DATABASE_URL', mode: 'data-only' as const };
    expect(nsFromProblem([mongo, pg], 'omics.*')).toBeUndefined();
    expect(nsFromProblem([mongo, pg], undefined)).toBeUndefined();
    expect(nsFromProblem([mongo, pg], 'omic.*')).toBe(
      'nsFrom: omic.* matches no database of this restore (the MongoDB databases restored are omics)',
    );
    expect(nsFromProblem([pg], 'omics.*')).toBe('nsFrom: omics.* matches no database of this restore (no MongoDB target is restored)');
  });

  it("refuses a destination that is / or has .. in it, and a backup of MongoDB's own databases (review p1)", () => {
    const spec = (destination: unknown, targets: unknown[] = [{ kind: 'postgres', name: 'db' }]) => ({
      name: 'nightly',
      targets,
      destination,
    });
    expect(() => parseInput(backupSpecSchema, spec({ kind: 'local', dir: '/' }), 'backup spec')).toThrow('destination.dir: not / itself');
    expect(() => parseInput(backupSpecSchema, spec({ kind: 'local', dir: '/srv/../etc' }), 'backup spec')).toThrow(
      'destination.dir: a path without ..',
    );
    expect(() => parseInput(backupSpecSchema, spec({ kind: 's3', bucket: 'omics-backups', prefix: '../../' }), 'backup spec')).toThrow(
      'destination.prefix: segments other than . and ..',
    );
    expect(() =>
      parseInput(backupSpecSchema, spec({ kind: 'local', dir: '/b' }, [{ kind: 'volume', name: 'media', volume: 'a' }]), 'backup spec'),
    ).toThrow('targets[0].volume: a Docker volume name: at least 2 characters');
    const admin = [{ kind: 'mongo', name: 'docs', database: 'admin' }];
    expect(() => parseInput(backupSpecSchema, spec({ kind: 'local', dir: '/b' }, admin), 'backup spec')).toThrow(
      "targets[0].database: not admin, local, config: MongoDB's own databases",
    );
    expect(parseInput(backupSpecSchema, spec({ kind: 'local', dir: '/var/lib/sciops/backups' }), 'backup spec').destination).toEqual({
      kind: 'local',
      dir: '/var/lib/sciops/backups',
    });
  });

  it('takes nsFrom and nsTo together only', () => {
    const base = { destination: { kind: 'local', dir: '/b' }, backup: 'nightly', run: '20261122T030000Z' };
    expect(() => parseInput(restoreInputSchema, { ...base, nsFrom: 'omics.*' }, 'restore input')).toThrow(
      'nsTo: give nsFrom and nsTo together',
    );
    expect(() => parseInput(restoreInputSchema, { ...base, nsFrom: 'omics', nsTo: 'x.*' }, 'restore input')).toThrow(
      'nsFrom: a database pattern',
    );
    expect(() => parseInput(restoreInputSchema, { ...base, run: 'latest' }, 'restore input')).toThrow(
      'run: a run id such as 20261122T030000Z',
    );
  });
});

describe('target locks', () => {
  it('give one key to each database, Mongo database and volume, whatever spec or mode names it', () => {
    const spec = parse({
      ...base,
      targets: [
        { kind: 'postgres', name: 'db', urlEnv: 'OMICS_URL' },
        { kind: 'mongo', name: 'meta', database: 'omics' },
        { kind: 'volume', name: 'media', volume: 'omics_media', node: 'node-2' },
        { kind: 'volume', name: 'other', volume: 'omics_media' },
      ],
    });
    expect(spec.targets.map(targetLockKey)).toEqual([
      'postgres/OMICS_URL',
      'mongo/MONGO_URL/omics',
      'volume/node-2/omics_media',
      'volume/-/omics_media',
    ]);
    const full = parse({ ...base, targets: [{ kind: 'postgres', name: 'x', urlEnv: 'OMICS_URL', mode: 'full' }] });
    expect(targetLockKey(full.targets[0] as never)).toBe('postgres/OMICS_URL');
    const inService = parse({ ...base, targets: [{ kind: 'postgres', name: 'x', service: 'omics_db', database: 'omics', user: 'omics' }] });
    expect(targetLockKey(inService.targets[0] as never)).toBe('postgres@omics_db/omics');
  });
});

describe('PostgreSQL targets inside a service', () => {
  const svc = { kind: 'postgres', name: 'db', service: 'omics_db', database: 'multiomics', user: 'multiomics' };

  it('take the service, the database and the role inside it', () => {
    expect(parse({ ...base, targets: [svc] }).targets[0]).toMatchObject({ ...svc, mode: 'data-only' });
  });

  it('refuse a service without its database or role, and those without a service, naming the field', () => {
    expect(() => parse({ ...base, targets: [{ ...svc, user: undefined }] })).toThrow(/targets\[0\]\.user: required with service/);
    expect(() => parse({ ...base, targets: [{ kind: 'postgres', name: 'db', database: 'x' }] })).toThrow(
      /targets\[0\]\.database: database goes with service/,
    );
  });

  it('refuse names a shell or pg_dump could take for something else, and the service among stopServices', () => {
    expect(() => parse({ ...base, targets: [{ ...svc, database: '--help' }] })).toThrow(
      /targets\[0\]\.database: a PostgreSQL database name/,
    );
    expect(() => parse({ ...base, targets: [{ ...svc, user: 'a;b' }] })).toThrow(/targets\[0\]\.user: a PostgreSQL role name/);
    expect(() => parse({ ...base, targets: [svc], stopServices: ['omics_db', 'omics_web'] })).toThrow(
      /targets\[0\]\.service: service omics_db runs the database this target dumps inside it: keep it out of stopServices/,
    );
  });
});
