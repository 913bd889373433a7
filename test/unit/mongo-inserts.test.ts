import type { Db, Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { ParallelInserts } from '../../activities/db/mongo-inserts';

/** A stand-in for a database whose insertMany calls wait until the test lets them end. */
function fakeDb() {
  const pending: { collection: string; documents: Document[]; end: (err?: Error) => void }[] = [];
  const inserted: Record<string, Document[]> = {};
  const db = {
    collection: (collection: string) => ({
      insertMany: (documents: Document[], options: { ordered?: boolean }) => {
        expect(options.ordered).toBe(true);
        return new Promise<void>((resolve, reject) =>
          pending.push({
            collection,
            documents,
            end: (err) => {
              if (err) return reject(err);
              inserted[collection] = [...(inserted[collection] ?? []), ...documents];
              resolve();
            },
          }),
        );
      },
    }),
  } as unknown as Db;
  const inFlight = (collection?: string) => pending.filter((p) => collection === undefined || p.collection === collection).length;
  const finishOne = (err?: Error) => pending.shift()?.end(err);
  return { db, inFlight, finishOne, inserted };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('inserts in parallel, a few batches in flight', () => {
  it('keeps at most perCollection batches of one collection in flight, and waits for a free slot', async () => {
    const fake = fakeDb();
    const inserts = new ParallelInserts(fake.db, 2, 8);
    await inserts.add('a', [{ i: 1 }]);
    await inserts.add('a', [{ i: 2 }]);
    let third = false;
    const adding = inserts.add('a', [{ i: 3 }]).then(() => {
      third = true;
    });
    await settle();
    expect(third).toBe(false);
    expect(fake.inFlight('a')).toBe(2);
    // Another collection is not held up by the first one's slots.
    await inserts.add('b', [{ i: 1 }]);
    expect(fake.inFlight('b')).toBe(1);
    fake.finishOne();
    await adding;
    expect(fake.inFlight('a')).toBe(2);
    while (fake.inFlight() > 0) {
      fake.finishOne();
      await settle();
    }
    await inserts.drain();
    expect(fake.inserted).toEqual({ a: [{ i: 1 }, { i: 2 }, { i: 3 }], b: [{ i: 1 }] });
    expect(inserts.inserted).toBe(4);
  });

  it('keeps at most `total` batches in flight over all collections', async () => {
    const fake = fakeDb();
    const inserts = new ParallelInserts(fake.db, 4, 3);
    for (const c of ['a', 'b', 'c']) await inserts.add(c, [{ c }]);
    let waiting = true;
    const adding = inserts.add('d', [{ c: 'd' }]).then(() => {
      waiting = false;
    });
    await settle();
    expect(waiting).toBe(true);
    expect(fake.inFlight()).toBe(3);
    fake.finishOne();
    await adding;
    expect(fake.inFlight()).toBe(3);
  });

  it('fails the next add and drain with the first failed insert, once the batches in flight have settled', async () => {
    const fake = fakeDb();
    const inserts = new ParallelInserts(fake.db, 4, 8);
    await inserts.add('a', [{ i: 1 }]);
    await inserts.add('a', [{ i: 2 }]);
    fake.finishOne(new Error('E11000 duplicate key'));
    await settle();
    await expect(inserts.add('a', [{ i: 3 }])).rejects.toThrow('E11000 duplicate key');
    let drained = false;
    const draining = inserts.drain().catch((err: Error) => {
      drained = true;
      return err;
    });
    await settle();
    expect(drained).toBe(false);
    fake.finishOne();
    expect(String(await draining)).toContain('E11000 duplicate key');
  });
});
