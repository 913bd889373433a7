import { patched, uuid4 } from '@temporalio/workflow';
import {
  type BackupTarget,
  type Destination,
  type DumpRecord,
  dumpFileName,
  type MongoTarget,
  type PostgresServiceTarget,
  runId,
} from '../common/backup';
import type { ImportCheck } from '../common/backup-import';
import type { RestoreInput } from '../common/restore';
import { db, dockerOn, manager } from './backup-activities';

/** What a copy of a target holds, in the manifest's terms: rows per table, documents per collection, or files. */
export type Contents = Pick<DumpRecord, 'tables' | 'collections' | 'files'>;

/**
 * One target kind's moves, as the backup and restore runbooks use them. A dump lives at `<folder><file>` in
 * the destination (the folder of a run, or of a restore's safety backup); every read of it is held to the
 * record's size and SHA-256 and, once known, to the version that was checked (S3).
 */
export interface TargetEngine {
  /** The target as written to (a Mongo restore with nsFrom/nsTo writes to nsTo's database): what is locked. */
  readonly target: BackupTarget;
  /**
   * Refuses, touching nothing, a target the workers cannot do the work on (PostgreSQL: client tools older than
   * the server); `restores`: the work restores too (a restore, a verification). Run before the first side effect.
   */
  ready(restores: boolean): Promise<void>;
  /** Streams the target into `<folder>`, as the run's file; `safety`: a restore's own copy of what it replaces. */
  dump(folder: string, run: string, safety?: true): Promise<DumpRecord>;
  /** Reads the stored dump through against its record, touching no target; returns the version read (S3). */
  check(folder: string, dump: DumpRecord): Promise<{ version?: string }>;
  /** Restores the dump into a scratch database or volume beside the target; what the scratch copy held. */
  verify(folder: string, dump: DumpRecord, version?: string): Promise<Contents>;
  /** Replaces what the target holds with the dump; what it then holds. */
  restore(folder: string, dump: DumpRecord, version?: string): Promise<Contents>;
  /** What the target holds now, in words (rows in 2 tables, 40 documents, 3 files); undefined when empty. */
  contents(): Promise<string | undefined>;
  /**
   * Checks a file made outside sciops (on the worker that dumps this kind, or in S3) is a dump of this kind
   * for this target, writing nothing; what storing it takes (see sciops backup import).
   */
  checkImport(file: string): Promise<ImportCheck>;
  /** Streams a checked file into `<folder>` as the run's file, repaired as checked; its record, counts not yet taken. */
  storeImport(folder: string, run: string, file: string, check: ImportCheck): Promise<DumpRecord>;
}

/** What a restore renames on the way in (MongoDB only: mongorestore's --nsFrom/--nsTo). */
export type Renames = Pick<RestoreInput, 'nsFrom' | 'nsTo'>;

/** A fresh run id: now, to the millisecond, and 8 hex digits of the workflow's (deterministic) random. */
export const newRunId = () => runId(new Date(), uuid4().replace(/-/g, '').slice(0, 8));

/** The key of a dump in its destination: `<folder><file>`, the folder ending in `/`. The only place it is built. */
const keyOf = (folder: string, file: string) => `${folder}${file}`;

/** A dump's size and SHA-256, and the version of it that was checked (S3): all a restore reads must match. */
const expectedOf = (d: DumpRecord, version?: string) => ({
  bytes: d.bytes,
  sha256: d.sha256,
  ...(version === undefined ? {} : { version }),
});

/** `n one` or `n many`; undefined for 0 (nothing held). */
const some = (n: number, one: string, many: string) => (n === 0 ? undefined : `${n} ${n === 1 ? one : many}`);

/**
 * The engine of a target: the only place that knows postgres, mongo and volume. Dumps and restores of
 * databases run on the db queue, of volumes on the docker worker of the volume's node; reading a stored file
 * back is the manager's (file-store work, the same for every kind).
 */
export function targetEngine(
  target: BackupTarget,
  destination: Destination,
  renames: Renames = {},
  /** The node a volume naming none is on: the one pinnedNode returned for this run (undefined: any docker worker). */
  pinned?: string,
): TargetEngine {
  const at = (folder: string, run: string) => ({ destination, key: keyOf(folder, dumpFileName(target, run)) });
  const stored = (folder: string, d: DumpRecord, version?: string) => ({
    destination,
    key: keyOf(folder, d.file),
    expected: expectedOf(d, version),
  });
  const check = (folder: string, d: DumpRecord) =>
    manager.streaming.verifyDumpFile({ destination, key: keyOf(folder, d.file), ...expectedOf(d), kind: d.kind, database: d.database });
  // Imports are read by the worker that dumps the kind: the file is on its disk (or in S3).
  const imports = (worker: Pick<(typeof db)['streaming'], 'checkImportFile' | 'storeImportFile'>) => ({
    checkImport: (file: string) => worker.checkImportFile({ file, target }),
    storeImport: async (folder: string, run: string, file: string, checked: ImportCheck): Promise<DumpRecord> => ({
      target: target.name,
      kind: target.kind,
      file: dumpFileName(target, run),
      ...(await worker.storeImportFile({ file, ...at(folder, run), check: checked })),
      tool: checked.tool,
      ...(checked.server === undefined ? {} : { server: checked.server }),
      ...(checked.database === undefined ? {} : { database: checked.database }),
    }),
  });

  switch (target.kind) {
    case 'postgres':
      if (target.service !== undefined) {
        // Service mode: inside the database's task, on its node's queue; the task is looked up for each step
        // (it may have been rescheduled meanwhile), and the import is read as any PostgreSQL dump file is.
        const service = target as PostgresServiceTarget;
        const inTask = async <T>(step: (on: ReturnType<typeof dockerOn>, containerId: string) => Promise<T>) => {
          const { node, containerId } = await manager.quick.findServiceTask({ service: service.service });
          return step(dockerOn(node), containerId);
        };
        return {
          target,
          ready: (restores) =>
            inTask(async (on, containerId) => void (await on.quick.checkPostgresService({ target: service, containerId, restores }))),
          check,
          dump: (folder, run, safety) =>
            inTask((on, containerId) =>
              on.streaming.dumpPostgresService({
                target: service,
                containerId,
                ...at(folder, run),
                ...(safety ? SAFETY_POSTGRES : {}),
              }),
            ),
          verify: (...dump) =>
            inTask(async (on, containerId) => ({
              tables: await on.streaming.verifyPostgresServiceDump({ target: service, containerId, ...stored(...dump) }),
            })),
          restore: (...dump) =>
            inTask(async (on, containerId) => ({
              tables: await on.streaming.restorePostgresService({ target: service, containerId, ...stored(...dump) }),
            })),
          contents: () =>
            inTask(async (on, containerId) => {
              const tables = await on.quick.postgresServiceTablesWithRows({ target: service, containerId });
              return tables.length === 0 ? undefined : `rows in ${some(tables.length, 'table', 'tables')}`;
            }),
          ...imports(db.streaming),
        };
      }
      return {
        target,
        ready: async (restores) => void (await db.quick.checkPostgresClient({ target, restores })),
        check,
        dump: (folder, run, safety) => db.streaming.dumpPostgres({ target, ...at(folder, run), ...(safety ? SAFETY_POSTGRES : {}) }),
        verify: async (...dump) => ({ tables: await db.streaming.verifyPostgresDump({ target, ...stored(...dump) }) }),
        restore: async (...dump) => ({
          tables: await db.streaming.restorePostgres({ urlEnv: target.urlEnv, mode: target.mode, ...stored(...dump) }),
        }),
        contents: async () => {
          const tables = await db.quick.postgresTablesWithRows({ urlEnv: target.urlEnv });
          return tables.length === 0 ? undefined : `rows in ${some(tables.length, 'table', 'tables')}`;
        },
        ...imports(db.streaming),
      };
    case 'mongo': {
      // The one place Mongo's dump format and mongorestore's renames are chosen: where the mongodump archive
      // format (common/mongo-archive) plugs in. A restore writes to the database the renames name.
      const into = writtenTo(target, renames);
      // Read from the database the dump was taken of (an archive may hold others; earlier runs name none).
      const dumped = (folder: string, d: DumpRecord, version?: string) => ({
        target: into,
        ...stored(folder, d, version),
        from: d.database,
      });
      return {
        target: into,
        ready: async () => undefined,
        check,
        dump: (folder, run) => db.streaming.dumpMongo({ target: into, ...at(folder, run) }),
        verify: async (...dump) => ({ collections: await db.streaming.verifyMongoDump(dumped(...dump)) }),
        restore: async (...dump) => ({ collections: await db.streaming.restoreMongo(dumped(...dump)) }),
        contents: async () => {
          const documents = Object.values(await db.streaming.mongoDocuments({ target: into })).reduce((a, b) => a + b, 0);
          return some(documents, 'document', 'documents');
        },
        ...imports(db.streaming),
      };
    }
    case 'volume': {
      const docker = dockerOn(target.node ?? pinned);
      return {
        target,
        ready: async () => undefined,
        check,
        dump: (folder, run, safety) => docker.streaming.dumpVolume({ target, ...at(folder, run), ...(safety ? SAFETY : {}) }),
        verify: async (...dump) => ({ files: await docker.streaming.verifyVolumeDump({ target, ...stored(...dump) }) }),
        restore: async (...dump) => ({ files: await docker.streaming.restoreVolume({ target, ...stored(...dump) }) }),
        contents: async () => some(await docker.streaming.volumeFiles({ target }), 'file', 'files'),
        ...imports(docker.streaming),
      };
    }
  }
}

/**
 * A restore's safety copy is gzipped at the fastest level: it is taken with the services stopped, on the
 * restore's critical path, and read back only when the restore fails (on research-shaped rows, gzip -1 was
 * 7 % larger than gzip -6 and took a quarter of its time). A Mongo copy is bound by the server's reads, not
 * by gzip, and keeps the default.
 */
const SAFETY = { gzipLevel: 1 } as const;
/** A PostgreSQL safety copy also keeps owners and grants: it goes back into the same server. */
const SAFETY_POSTGRES = { ...SAFETY, keepOwners: true } as const;

/** Backups, restores and imports started before a volume naming no node was pinned to one engine replay without it. */
const VOLUMES_PINNED = 'backup-volumes-pinned';

/**
 * The node of the engine that a run's volumes naming no node are on: the docker worker that answers first tells
 * its node queue, and every later step on those volumes (dump, verify, contents, safety copy, restore) goes
 * there, never to another manager's worker with a volume of the same name. Undefined: no such volume, a run
 * from before, or a worker that polls no node queue (the steps stay on docker).
 */
export async function pinnedNode(targets: readonly BackupTarget[]): Promise<string | undefined> {
  if (!targets.some((t) => t.kind === 'volume' && t.node === undefined) || !patched(VOLUMES_PINNED)) return undefined;
  return (await manager.quick.engineNode()).node;
}

/** The Mongo target a restore writes to: the backed-up one, except a database that nsFrom names, which goes to nsTo's. Pure. */
function writtenTo(target: MongoTarget, renames: Renames): MongoTarget {
  if (renames.nsFrom !== `${target.database}.*` || renames.nsTo === undefined) return target;
  return { ...target, database: renames.nsTo.slice(0, -2) };
}
