import type { Db, Document } from 'mongodb';

/**
 * Inserts batches as mongorestore's `--numInsertionWorkersPerCollection` does: up to `perCollection`
 * insertMany calls in flight for one collection (each ordered within itself), and at most `total` over all,
 * so memory stays at that many batches whatever the dump's size. `add` waits for a free slot; the first
 * failed insert fails every later `add` and `drain` (which waits until every batch in flight has settled).
 */
export class ParallelInserts {
  private readonly running = new Map<string, Set<Promise<void>>>();
  private inFlight = 0;
  private failure: { error: unknown } | undefined;
  /** Documents inserted so far. */
  inserted = 0;

  constructor(
    private readonly db: Db,
    private readonly perCollection = 4,
    private readonly total = 8,
  ) {}

  async add(collection: string, documents: Document[]): Promise<void> {
    this.check();
    const slots = this.running.get(collection) ?? new Set<Promise<void>>();
    this.running.set(collection, slots);
    while (slots.size >= this.perCollection || this.inFlight >= this.total) {
      await Promise.race(slots.size >= this.perCollection ? slots : this.all());
      this.check();
    }
    this.inFlight++;
    const insert: Promise<void> = this.db
      .collection(collection)
      .insertMany(documents, { ordered: true })
      .then(
        () => {
          this.inserted += documents.length;
        },
        (error: unknown) => {
          this.failure ??= { error };
        },
      )
      .finally(() => {
        slots.delete(insert);
        this.inFlight--;
      });
    slots.add(insert);
  }

  /** Waits for every batch in flight; throws the first failure. */
  async drain(): Promise<void> {
    await Promise.all(this.all());
    this.check();
  }

  private all(): Promise<void>[] {
    return [...this.running.values()].flatMap((s) => [...s]);
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure.error;
  }
}
