import { describe, expect, it } from 'vitest';
import { archivePlan, indexToCreate } from '../../activities/db/mongo-restore-plan';
import type { ArchiveCollection } from '../../common/mongo-archive';

const collection = (db: string, name: string, more: Partial<ArchiveCollection> = {}): ArchiveCollection => ({
  db,
  collection: name,
  type: 'collection',
  options: {},
  indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }],
  size: 0,
  ...more,
});

describe('which collections of an archive a restore writes', () => {
  it("takes the archive's only database when none is named", () => {
    const plan = archivePlan([collection('omics', 'samples'), collection('omics', 'runs')]);
    expect(plan).toEqual({
      database: 'omics',
      collections: [
        { name: 'samples', type: 'collection', options: {}, indexes: [], data: 'samples' },
        { name: 'runs', type: 'collection', options: {}, indexes: [], data: 'runs' },
      ],
    });
  });

  it('takes only the named database of an archive of several', () => {
    const plan = archivePlan([collection('omics', 'samples'), collection('other', 'x')], 'other');
    expect(plan.refused ?? plan.collections.map((c) => c.name)).toEqual(['x']);
  });

  it('refuses an archive of several databases when none is named, and one without the named database', () => {
    expect(archivePlan([collection('a', 'x'), collection('b', 'y')]).refused).toBe(
      'it holds the collections of several databases (a, b) and which one to restore was not said',
    );
    expect(archivePlan([collection('a', 'x')], 'omics').refused).toBe('it holds no collection of database omics (only of a)');
  });

  it('restores an empty archive (the dump of an empty database) as an empty database', () => {
    expect(archivePlan([], 'omics')).toEqual({ database: 'omics', collections: [] });
  });

  it("sends a time-series collection's documents to its buckets, and keeps a view's options", () => {
    const plan = archivePlan([
      collection('omics', 'weather', { type: 'timeseries', options: { timeseries: { timeField: 't' } } }),
      collection('omics', 'recent', { type: 'view', options: { viewOn: 'weather', pipeline: [] }, indexes: [] }),
    ]);
    expect(plan.refused ?? plan.collections.map((c) => [c.name, c.data, c.options])).toEqual([
      ['weather', 'system.buckets.weather', { timeseries: { timeField: 't' } }],
      ['recent', 'recent', { viewOn: 'weather', pipeline: [] }],
    ]);
  });

  it('creates indexes without v and ns (FerretDB refuses ns), and never _id_', () => {
    const plan = archivePlan([
      collection('omics', 'samples', {
        indexes: [
          { v: 2, key: { _id: 1 }, name: '_id_', ns: 'omics.samples' },
          { v: 2, key: { name: 1 }, name: 'name_unique', unique: true, ns: 'omics.samples' },
        ],
      }),
    ]);
    expect(plan.refused ?? plan.collections[0]?.indexes).toEqual([{ key: { name: 1 }, name: 'name_unique', unique: true }]);
    expect(indexToCreate({ v: 1, key: { a: -1 }, name: 'a', sparse: true })).toEqual({ key: { a: -1 }, name: 'a', sparse: true });
  });
});
