import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { type BackupSpec, type DumpRecord, fileOf, RUN_ID } from '../../common/backup';
import { MANIFEST_FORMAT, type Manifest } from '../../common/backup-manifest';
import { Failure } from '../../common/failures';
import { serviceLockKey, targetLockKey } from '../../common/locks';
import { Queue } from '../../common/queues';
import type { RestoreInput } from '../../common/restore';
import { targetLockWorkflowId } from '../../common/workflow-ids';
import { WorkflowType } from '../../common/workflow-types';
import { failureOf } from '../support/failures';
import { useTimeSkippingServer, withStubbedActivities } from '../support/time-skipping';

// The restore's rollback with its activities stubbed, on the time-skipping test server: the real workflow code
// (locks, paused services, safety backup, restore, put back) decides which activities run, in which order and
// with which files; the stubs only record that and fail where a test says. A target the restore never reached
// must keep what it holds: putting the safety copy back into it would undo writes made since the pause ended.

const server = useTimeSkippingServer();

const BACKUP = 'nightly';
const RUN = '20261122T030000.000Z-1a2b3c4d';
const FOLDER = `${BACKUP}/${RUN}/`;
const destination = { kind: 'local', dir: '/backups' } as const;
const SERVICES = ['web', 'worker'];

// One target of each kind, in the order the manifest lists (and the restore restores) them. The volume names
// no node: engineNode's answer (none) keeps its work on the manager's docker queue.
const spec: BackupSpec = {
  name: BACKUP,
  targets: [
    { kind: 'postgres', name: 'one', urlEnv: 'ONE_URL', mode: 'data-only' },
    { kind: 'mongo', name: 'two', urlEnv: 'MONGO_URL', database: 'lab' },
    { kind: 'volume', name: 'three', volume: 'lab-files', image: 'busybox:1.36' },
  ],
  destination,
  stopServices: SERVICES,
  retention: { keepLast: 7, daily: 7, weekly: 4, monthly: 6 },
  verify: false,
};

const hex = (c: string) => c.repeat(64);
const runDumps: DumpRecord[] = [
  {
    target: 'one',
    kind: 'postgres',
    file: `one-${RUN}.sql.gz`,
    bytes: 101,
    sha256: hex('a'),
    tool: 'pg_dump (PostgreSQL) 16.4',
    tables: { 'public.samples': 5 },
  },
  {
    target: 'two',
    kind: 'mongo',
    file: `two-${RUN}.archive.gz`,
    bytes: 102,
    sha256: hex('b'),
    tool: 'mongodump 100.9.4',
    collections: { runs: 3 },
    database: 'lab',
  },
  { target: 'three', kind: 'volume', file: `three-${RUN}.tar.gz`, bytes: 103, sha256: hex('c'), tool: 'GNU tar 1.34', files: 3 },
];

const manifest: Manifest = {
  format: MANIFEST_FORMAT,
  backup: BACKUP,
  run: RUN,
  startedAt: '2026-11-22T03:00:00.000Z',
  finishedAt: '2026-11-22T03:05:00.000Z',
  spec,
  dumps: runDumps,
  verified: false,
};

/** force: the targets hold data (what a rollback is for); no approval, so nothing waits for a signal. */
const input = (): RestoreInput => ({ destination, backup: BACKUP, run: RUN, targets: [], force: true, approve: false });

/** A safety copy of a target differs from the run's dump in size and hash: a put-back must be held to the copy's. */
const SAFETY_BYTES = { one: 201, two: 202, three: 203 } as const;
const SAFETY_SHA = { one: hex('d'), two: hex('e'), three: hex('f') } as const;

interface Call {
  readonly queue: string;
  readonly name: string;
  readonly input: Record<string, unknown>;
}

/** How an activity call reads in a sequence: its name and the file (or services) it works on. */
const line = (c: Call) => {
  const on =
    c.input.key ?? c.input.name ?? (c.input.names as string[] | undefined)?.join(',') ?? (c.input.target as { name?: string })?.name;
  return on === undefined ? c.name : `${c.name} ${on}`;
};

const broken = (message: string) => ApplicationFailure.nonRetryable(message, Failure.backupFailed);

/**
 * The db and docker activities of a restore. `failing(key)`: the message the restore from that stored file
 * fails with (as the real activity would: a tool's error, BackupFailed, not retried), if any; `counts[key]`:
 * the files a volume then holds instead of the dump's own count.
 */
function stubs(options: { failing?: (key: string) => string | undefined; counts?: Record<string, number> }) {
  const calls: Call[] = [];
  const record = (queue: string, name: string, input: object) => calls.push({ queue, name, input: input as Record<string, unknown> });
  /** What the stored file `key` restores: a put-back's copy holds what the target held; a run's dump its counts. */
  const restoring = (key: string) => {
    const message = options.failing?.(key);
    if (message !== undefined) throw broken(message);
    const file = fileOf(key);
    return runDumps.find((d) => d.file === file) ?? runDumps.find((d) => file.startsWith(`${d.target}-`));
  };
  const safetyCopy = (kind: DumpRecord['kind'], target: 'one' | 'two' | 'three', key: string, counts: Partial<DumpRecord>): DumpRecord => ({
    target,
    kind,
    file: fileOf(key),
    bytes: SAFETY_BYTES[target],
    sha256: SAFETY_SHA[target],
    tool: 'safety',
    ...counts,
  });
  const db = {
    async checkPostgresClient(input: { target: { name: string } }) {
      record(Queue.db, 'checkPostgresClient', input);
      return { client: 16, server: 16 };
    },
    async dumpPostgres(input: { key: string }) {
      record(Queue.db, 'dumpPostgres', input);
      return safetyCopy('postgres', 'one', input.key, { tables: { 'public.samples': 9 } });
    },
    async dumpMongo(input: { key: string }) {
      record(Queue.db, 'dumpMongo', input);
      return safetyCopy('mongo', 'two', input.key, { collections: { runs: 4 }, database: 'lab' });
    },
    async restorePostgres(input: { key: string }) {
      record(Queue.db, 'restorePostgres', input);
      return restoring(input.key)?.tables ?? {};
    },
    async restoreMongo(input: { key: string }) {
      record(Queue.db, 'restoreMongo', input);
      return restoring(input.key)?.collections ?? {};
    },
  };
  const docker = {
    async readManifest(input: object) {
      record(Queue.docker, 'readManifest', input);
      return manifest;
    },
    async engineNode() {
      record(Queue.docker, 'engineNode', {});
      return {};
    },
    async verifyDumpFile(input: { key: string }) {
      record(Queue.docker, 'verifyDumpFile', input);
      return {};
    },
    async checkServicesPausable(input: { names: string[] }) {
      record(Queue.docker, 'checkServicesPausable', input);
    },
    async pauseService(input: { name: string }) {
      record(Queue.docker, 'pauseService', input);
      return { replicas: 2 };
    },
    async resumeService(input: { name: string }) {
      record(Queue.docker, 'resumeService', input);
      return { replicas: 2 };
    },
    async dumpVolume(input: { key: string }) {
      record(Queue.docker, 'dumpVolume', input);
      return safetyCopy('volume', 'three', input.key, { files: 7 });
    },
    async restoreVolume(input: { key: string }) {
      record(Queue.docker, 'restoreVolume', input);
      const files = restoring(input.key)?.files ?? 0;
      return options.counts?.[input.key] ?? files;
    },
  };
  return { calls, activities: { [Queue.db]: db, [Queue.docker]: docker } };
}

/** The safety backup's run id and folder, as the first safety dump names them (a fresh id the workflow makes). */
function safetyOf(calls: readonly Call[]): { run: string; folder: string } {
  const key = calls.find((c) => c.name === 'dumpPostgres')?.input.key as string;
  const m = new RegExp(`^${BACKUP}/safety-([^/]+)/one-\\1\\.sql\\.gz$`).exec(key);
  expect(m, `safety dump key ${key}`).not.toBeNull();
  const run = (m as RegExpExecArray)[1] as string;
  expect(run).toMatch(RUN_ID);
  expect(run).not.toBe(RUN);
  return { run, folder: `${BACKUP}/safety-${run}/` };
}

/** Everything up to the first restore, the same whichever target fails later. */
function upToRestore(safety: string, run: string): string[] {
  return [
    'readManifest',
    'engineNode',
    'checkPostgresClient one',
    `verifyDumpFile ${FOLDER}one-${RUN}.sql.gz`,
    `verifyDumpFile ${FOLDER}two-${RUN}.archive.gz`,
    `verifyDumpFile ${FOLDER}three-${RUN}.tar.gz`,
    'checkServicesPausable web,worker',
    'pauseService web',
    'pauseService worker',
    `dumpPostgres ${safety}one-${run}.sql.gz`,
    `dumpMongo ${safety}two-${run}.archive.gz`,
    `dumpVolume ${safety}three-${run}.tar.gz`,
  ];
}

const putBackCalls = (calls: readonly Call[], safety: string) =>
  calls.filter((c) => c.name.startsWith('restore') && typeof c.input.key === 'string' && (c.input.key as string).startsWith(safety));

/** Every lock the restore took (its targets' and its services') has ended: a failed restore holds none. */
async function expectLocksReleased() {
  const keys = [...spec.targets.map(targetLockKey), ...SERVICES.map(serviceLockKey)];
  for (const key of keys) {
    const { status } = await server.env.client.workflow.getHandle(targetLockWorkflowId(key)).describe();
    expect(status.name, key).toBe('COMPLETED');
  }
}

describe('restore rollback (time-skipping server, stubbed activities)', () => {
  it('a failed restore of a later target puts the safety backup back into the touched targets only, then resumes the services', async () => {
    const why = 'mongorestore exited with 1: E11000 duplicate key error collection: lab.runs';
    const { calls, activities } = stubs({ failing: (key) => (key === `${FOLDER}two-${RUN}.archive.gz` ? why : undefined) });
    const workflowId = 'restore-rollback-touched';
    const failure = await withStubbedActivities(server.env, activities, () =>
      failureOf(server.env.client.workflow.execute(WorkflowType.restore, { args: [input()], taskQueue: Queue.workflows, workflowId })),
    );
    const { run, folder: safety } = safetyOf(calls);

    expect(failure.type).toBe(Failure.backupFailed);
    expect(failure.message).toBe(`restore failed: ${why}. The safety backup (${safety}) was put back into one, two`);

    // The safety backup is taken with the services paused, before anything is restored; the put-back comes
    // before the services run again, the last paused resumed first.
    expect(calls.map(line)).toEqual([
      ...upToRestore(safety, run),
      `restorePostgres ${FOLDER}one-${RUN}.sql.gz`,
      `restoreMongo ${FOLDER}two-${RUN}.archive.gz`,
      `restorePostgres ${safety}one-${run}.sql.gz`,
      `restoreMongo ${safety}two-${run}.archive.gz`,
      'resumeService worker',
      'resumeService web',
    ]);
    // The volume was never restored, so it is not put back either: nothing touches it after its safety dump.
    expect(calls.filter((c) => c.name === 'restoreVolume')).toEqual([]);

    // Each put-back reads the safety copy held to that copy's own size and hash, into the target it came from.
    expect(putBackCalls(calls, safety).map((c) => c.input)).toEqual([
      {
        urlEnv: 'ONE_URL',
        mode: 'data-only',
        destination,
        key: `${safety}one-${run}.sql.gz`,
        expected: { bytes: SAFETY_BYTES.one, sha256: SAFETY_SHA.one },
      },
      {
        target: spec.targets[1],
        destination,
        key: `${safety}two-${run}.archive.gz`,
        expected: { bytes: SAFETY_BYTES.two, sha256: SAFETY_SHA.two },
        from: 'lab',
      },
    ]);
    // The PostgreSQL safety dump keeps its owners, so that putting it back restores them too.
    expect(calls.find((c) => c.name === 'dumpPostgres')?.input).toMatchObject({ keepOwners: true, destination });
    // The services are paused and resumed by this workflow (the holder their label names).
    for (const c of calls.filter((c) => c.name === 'pauseService' || c.name === 'resumeService')) {
      expect(c.input.holder).toBe(workflowId);
    }
    await expectLocksReleased();
  });

  it('a safety backup that cannot be put back into one target is reported, and the other targets still get theirs', async () => {
    // The last target's restore "succeeds" with a file count the manifest does not record: every target is
    // touched. The put-back into the first fails; the restore goes on with the others and says which is which.
    const refusal = 'psql exited with 3: ERROR: permission denied for table samples';
    // The safety folder's run id is the workflow's own: the put-back is failed by the folder's form.
    const { calls, activities } = stubs({
      counts: { [`${FOLDER}three-${RUN}.tar.gz`]: 2 },
      failing: (key) => (key.startsWith(`${BACKUP}/safety-`) && fileOf(key).startsWith('one-') ? refusal : undefined),
    });
    const workflowId = 'restore-rollback-not-back';
    const failure = await withStubbedActivities(server.env, activities, () =>
      failureOf(server.env.client.workflow.execute(WorkflowType.restore, { args: [input()], taskQueue: Queue.workflows, workflowId })),
    );
    const { run, folder: safety } = safetyOf(calls);

    expect(failure.type).toBe(Failure.backupFailed);
    expect(failure.message).toBe(
      `restore failed: restored data does not match the manifest: three: 2 files, the manifest says 3. ` +
        `The safety backup (${safety}) was put back into two, three. ` +
        `The safety backup could NOT be put back into one (${refusal}); it is kept at ${safety}`,
    );
    expect(calls.map(line)).toEqual([
      ...upToRestore(safety, run),
      `restorePostgres ${FOLDER}one-${RUN}.sql.gz`,
      `restoreMongo ${FOLDER}two-${RUN}.archive.gz`,
      `restoreVolume ${FOLDER}three-${RUN}.tar.gz`,
      // Tried once (BackupFailed is not retried), and the put-back goes on with the next target.
      `restorePostgres ${safety}one-${run}.sql.gz`,
      `restoreMongo ${safety}two-${run}.archive.gz`,
      `restoreVolume ${safety}three-${run}.tar.gz`,
      'resumeService worker',
      'resumeService web',
    ]);
    expect(putBackCalls(calls, safety).at(-1)?.input).toEqual({
      target: spec.targets[2],
      destination,
      key: `${safety}three-${run}.tar.gz`,
      expected: { bytes: SAFETY_BYTES.three, sha256: SAFETY_SHA.three },
    });
    await expectLocksReleased();
  });
});
