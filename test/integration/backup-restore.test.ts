import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { describe, expect, inject, it } from 'vitest';
import type { BackupReport } from '../../common/backup';
import type { Manifest } from '../../common/backup-manifest';
import { approveRestoreSignal } from '../../common/backup-signals';
import type { Progress } from '../../common/progress';
import { progressQuery } from '../../common/progress';
import { Queue } from '../../common/queues';
import type { RestoreReport } from '../../common/restore';
import { WorkflowType } from '../../common/workflow-types';
import { CliProcess } from '../support/cli';
import type { ScratchDatabase } from '../support/database';
import { demuxedText } from '../support/docker-streams';
import { eventually, tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { useTestbed } from '../support/harness';
import { metricValue } from '../support/metrics';
import { createSleepingService, removeService } from '../support/services';
import { workerMetrics } from '../support/workers';

const IMAGE = 'local/busybox:1';
const suffix = Date.now().toString(36);
const dir = tempDir('backups');
const destination = { kind: 'local', dir };
const SCHEMA = `create table samples (id serial primary key, name text not null, reads bigint, meta jsonb);
create table runs (id serial primary key, sample_id int not null references samples(id), payload bytea, at timestamptz default now());`;
const volume = `sciops-media-${suffix}`;
const service = `sciops-web-${suffix}`;
const t = useTestbed({
  databases: ['platform', 'fresh'],
  before: async (t) => {
    const db = t.database('platform');
    // A full restore drops and re-creates the database, ending the pool's idle connections: the pool then opens new ones.
    db.pool.on('error', () => undefined);
    t.database('fresh').pool.on('error', () => undefined);
    await db.pool.query(SCHEMA);
    await db.pool.query(
      `insert into samples (name, reads, meta) select 'sample ' || i, i * 1000, jsonb_build_object('i', i, 'tag', md5(i::text)) from generate_series(1, 3000) i`,
    );
    await db.pool.query(
      `insert into runs (sample_id, payload) select 1 + i % 3000, decode(md5(i::text), 'hex') from generate_series(1, 9000) i`,
    );
    await t.docker.createVolume({ Name: volume });
    await inVolume(
      'mkdir -p /v/a/b && head -c 200000 /dev/urandom > /v/a/b/raw.bin && echo hello > /v/readme.txt && ln -s readme.txt /v/link',
    );
    await createSleepingService(t.docker, service, 2);
    process.env.SCIOPS_TEST_PLATFORM_DB = db.url;
  },
  workers: () => [{ queues: ['sciops', 'docker', 'db'] }],
  after: async (t) => {
    await removeService(t.docker, service);
    await eventually('the service tasks to stop', 30_000, async () =>
      (await t.docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${service}`] } })).length === 0 ? true : undefined,
    );
    await t.docker
      .getVolume(volume)
      .remove()
      .catch(() => undefined);
  },
});
const { docker } = t;
const db = () => t.database('platform');
const fresh = () => t.database('fresh');

function spec(extra: Record<string, unknown> = {}) {
  return {
    name: `nightly-${suffix}`,
    targets: [
      { kind: 'postgres', name: 'db', urlEnv: 'SCIOPS_TEST_PLATFORM_DB' },
      { kind: 'volume', name: 'media', volume, image: IMAGE },
    ],
    destination,
    stopServices: [service],
    ...extra,
  };
}

const run = <T>(type: string, input: unknown) =>
  t.client.workflow.execute(type, { taskQueue: Queue.workflows, workflowId: uniqueId(type), args: [input] }) as Promise<T>;

/** Every table's content as one digest per table, in a stable order. */
async function tableDigests(target: ScratchDatabase): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of ['samples', 'runs']) {
    const { rows } = await target.pool.query(
      `select md5(coalesce(string_agg(t::text, '|' order by id), '')) as d, count(*) as n from ${table} t`,
    );
    out[table] = `${rows[0].n}:${rows[0].d}`;
  }
  return out;
}

/** Runs a command in a throwaway container with the volume at /v; returns its output. */
async function inVolume(command: string): Promise<string> {
  const container = await docker.createContainer({
    Image: IMAGE,
    Cmd: ['sh', '-c', command],
    HostConfig: { Mounts: [{ Type: 'volume', Source: volume, Target: '/v' }] },
  });
  await container.start();
  await container.wait();
  const logs = (await container.logs({ stdout: true, stderr: true })) as Buffer;
  await container.remove({ force: true });
  return demuxedText(logs);
}

const volumeDigest = () => inVolume('cd /v && find . -type f | sort | xargs sha256sum');
const replicas = async () => (await docker.getService(service).inspect()).Spec.Mode.Replicated.Replicas as number;

let first: BackupReport;
let before: Record<string, string>;
let volumeBefore: string;

describe('backup', () => {
  it('dumps a database and a volume with the services paused, and writes a manifest last', async () => {
    before = await tableDigests(db());
    volumeBefore = await volumeDigest();
    const handle = await t.client.workflow.start(WorkflowType.backup, {
      taskQueue: Queue.workflows,
      workflowId: uniqueId('backup'),
      args: [spec()],
    });
    // While it runs, the service it stops has no replicas.
    await eventually('the service to be paused', 30_000, async () => ((await replicas()) === 0 ? true : undefined));
    first = (await handle.result()) as BackupReport;
    expect(await replicas()).toBe(2);
    expect((await docker.getService(service).inspect()).Spec.Labels).toEqual({});

    const folder = path.join(dir, `nightly-${suffix}`, first.run);
    expect(readdirSync(folder).sort()).toEqual([`db-${first.run}.sql.gz`, 'manifest.json', `media-${first.run}.tar.gz`]);
    const manifest = JSON.parse(readFileSync(path.join(folder, 'manifest.json'), 'utf8')) as Manifest;
    const [pg, media] = manifest.dumps;
    expect(pg).toMatchObject({ target: 'db', kind: 'postgres', tables: { 'public.samples': 3000, 'public.runs': 9000 } });
    expect(pg?.tool).toMatch(/^pg_dump \(PostgreSQL\) \d+/);
    expect(pg?.server).toMatch(/^\d+\.\d+/);
    expect(media).toMatchObject({ target: 'media', kind: 'volume', files: 2 });
    for (const d of manifest.dumps) {
      const bytes = readFileSync(path.join(folder, d.file));
      expect(d.bytes).toBe(bytes.length);
      expect(d.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    // A data-only dump: rows, no schema.
    const sql = (await import('node:zlib')).gunzipSync(readFileSync(path.join(folder, pg?.file as string))).toString();
    expect(sql).toContain('COPY public.samples');
    expect(sql).not.toContain('CREATE TABLE');
    // The run is counted on the workers' metrics endpoint: its bytes and one duration sample.
    const metrics = await workerMetrics();
    const labels = { backup: first.backup, outcome: 'complete' };
    expect(metricValue(metrics, 'sciops_backup_bytes_total', labels)).toBe(manifest.dumps.reduce((sum, d) => sum + d.bytes, 0));
    expect(metricValue(metrics, 'sciops_backup_duration_seconds_count', labels)).toBe(1);
  });

  it('verifies by restoring into scratch copies when asked, and prunes by retention only after a complete run', async () => {
    // Two older complete runs and an incomplete leftover beside the real ones.
    const root = path.join(dir, `nightly-${suffix}`);
    for (const old of ['20250101T030000Z', '20250102T030000Z']) {
      mkdirSync(path.join(root, old), { recursive: true });
      writeFileSync(path.join(root, old, 'manifest.json'), '{}');
    }
    mkdirSync(path.join(root, '20250103T030000Z'), { recursive: true });
    writeFileSync(path.join(root, '20250103T030000Z', 'db-20250103T030000Z.sql.gz.partial-0badc0de'), 'x');
    // A run another backup began a minute ago and is still writing (it has no manifest yet): never pruned.
    const inFlight = new Date(Date.now() - 60_000).toISOString().replace(/[-:]|\.\d{3}/g, '');
    mkdirSync(path.join(root, inFlight), { recursive: true });
    writeFileSync(path.join(root, inFlight, `db-${inFlight}.sql.gz`), 'being written');
    const report = await run<BackupReport>(
      WorkflowType.backup,
      spec({ verify: true, stopServices: [], retention: { keepLast: 2, daily: 0, weekly: 0, monthly: 0 } }),
    );
    expect(report.verified).toBe(true);
    expect([...report.pruned].sort()).toEqual(['20250101T030000Z', '20250102T030000Z', '20250103T030000Z']);
    expect(readdirSync(root).sort()).toEqual([first.run, report.run, inFlight].sort());
    expect(readdirSync(path.join(root, inFlight))).toEqual([`db-${inFlight}.sql.gz`]);
    rmSync(path.join(root, inFlight), { recursive: true });
    // The scratch database and volume are gone.
    const { rows } = await db().pool.query("select count(*)::int as n from pg_database where datname like 'sciops_verify_%'");
    expect(rows[0].n).toBe(0);
    expect(((await docker.listVolumes()).Volumes ?? []).filter((v) => v.Name.startsWith('sciops-verify-'))).toEqual([]);
  });
});

describe('restore', () => {
  const input = (extra: Record<string, unknown> = {}) => ({ destination, backup: `nightly-${suffix}`, run: first.run, ...extra });

  it('refuses a target that holds data unless forced, having changed nothing', async () => {
    const failure = await failureOf(run(WorkflowType.restore, input()));
    expect(failure.type).toBe('TargetNotEmpty');
    expect(failure.message).toContain('targets hold data: db (rows in 2 tables), media (2 files)');
    expect(readdirSync(path.join(dir, `nightly-${suffix}`)).some((f) => f.startsWith('safety-'))).toBe(false);
  });

  it('puts the data back (after a safety backup), equal table by table and byte for byte', async () => {
    await db().pool.query(
      "delete from runs where id % 2 = 0; update samples set name = 'changed' where id < 100; insert into samples (name) values ('new')",
    );
    await inVolume('rm /v/readme.txt && echo other > /v/new.txt');
    expect(await tableDigests(db())).not.toEqual(before);
    const report = await run<RestoreReport>(WorkflowType.restore, input({ force: true }));
    expect(report.restored).toEqual(['db', 'media']);
    expect(await tableDigests(db())).toEqual(before);
    expect(await volumeDigest()).toBe(volumeBefore);
    expect(await inVolume('readlink /v/link')).toBe('readme.txt\n');
    expect(await replicas()).toBe(2);
    // The safety backup holds the state just before, in the mode the restore replaced it (here the data), kept.
    const safety = path.join(dir, report.safety);
    expect(readdirSync(safety).sort()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^db-.*\.sql\.gz$/), expect.stringMatching(/^media-.*\.tar\.gz$/)]),
    );
    const saved = (await import('node:zlib'))
      .gunzipSync(readFileSync(path.join(safety, readdirSync(safety).find((f) => f.startsWith('db-')) as string)))
      .toString();
    expect(saved).toContain('COPY public.samples');
    expect(saved).toContain('\tchanged\t');
    // Made at gzip's fastest level (the header's XFL byte says 4), where the run's own files use the default (0).
    const xfl = (file: string) => readFileSync(file)[8];
    for (const f of readdirSync(safety)) if (f.endsWith('.gz')) expect(xfl(path.join(safety, f)), f).toBe(4);
    const runDir = path.join(dir, report.backup, report.run);
    const own = readdirSync(runDir).filter((f) => f.endsWith('.gz'));
    expect(own.length).toBeGreaterThan(0);
    for (const f of own) expect(xfl(path.join(runDir, f)), f).toBe(0);
  });

  it('restores a data-only dump into a database whose schema the migrations made', async () => {
    await fresh().pool.query(SCHEMA);
    process.env.SCIOPS_TEST_PLATFORM_DB = fresh().url;
    try {
      const report = await run<RestoreReport>(WorkflowType.restore, input({ targets: ['db'] }));
      expect(report.restored).toEqual(['db']);
      expect(await tableDigests(fresh())).toEqual(before);
      // Sequences came along: the next id follows the restored rows.
      const { rows } = await fresh().pool.query("insert into samples (name) values ('after') returning id");
      expect(rows[0].id).toBe(3001);
    } finally {
      process.env.SCIOPS_TEST_PLATFORM_DB = db().url;
    }
  });

  it('refuses a truncated or altered file before anything destructive', async () => {
    const copy = '20250105T030000Z';
    const root = path.join(dir, `nightly-${suffix}`);
    mkdirSync(path.join(root, copy));
    for (const f of readdirSync(path.join(root, first.run))) {
      writeFileSync(path.join(root, copy, f.replace(first.run, copy)), readFileSync(path.join(root, first.run, f)));
    }
    const manifest = JSON.parse(readFileSync(path.join(root, copy, 'manifest.json'), 'utf8')) as Manifest;
    writeFileSync(
      path.join(root, copy, 'manifest.json'),
      JSON.stringify({ ...manifest, run: copy, dumps: manifest.dumps.map((d) => ({ ...d, file: d.file.replace(first.run, copy) })) }),
    );
    const dump = path.join(root, copy, `db-${copy}.sql.gz`);
    truncateSync(dump, 1000);
    await db().pool.query("update samples set name = 'marker' where id = 1");
    const marked = await tableDigests(db());
    const safeties = () => readdirSync(root).filter((f) => f.startsWith('safety-')).length;
    const safetiesBefore = safeties();
    const failure = await failureOf(run(WorkflowType.restore, input({ run: copy, force: true })));
    expect(failure.type).toBe('BackupCorrupt');
    expect(failure.message).toContain(`db-${copy}.sql.gz: 1000 bytes where the manifest says`);
    expect(await tableDigests(db())).toEqual(marked);
    expect(safeties()).toBe(safetiesBefore);
  });

  it('puts the safety backup back when a restore fails half-way, and resumes the services', async () => {
    const marked = await tableDigests(db());
    const root = path.join(dir, `nightly-${suffix}`);
    const bad = '20250104T030000Z';
    mkdirSync(path.join(root, bad));
    // A dump that passes its checksum but fails in the middle: rows, then an error.
    const body = gzipSync('COPY public.samples (id, name, reads, meta) FROM stdin;\n1\tfrom the bad dump\t1\t{}\n\\.\nselect 1/0;\n');
    writeFileSync(path.join(root, bad, `db-${bad}.sql.gz`), body);
    const manifest = JSON.parse(readFileSync(path.join(root, first.run, 'manifest.json'), 'utf8')) as Manifest;
    const dbDump = {
      ...(manifest.dumps[0] as Manifest['dumps'][0]),
      file: `db-${bad}.sql.gz`,
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
    };
    writeFileSync(path.join(root, bad, 'manifest.json'), JSON.stringify({ ...manifest, run: bad, dumps: [dbDump] }));
    const failure = await failureOf(run(WorkflowType.restore, input({ run: bad, force: true })));
    expect(failure.type).toBe('BackupFailed');
    expect(failure.message).toMatch(
      /^restore failed: psql failed .*division by zero.*\. The safety backup \(.*safety-\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}\/\) was put back into db$/,
    );
    expect(await tableDigests(db())).toEqual(marked);
    expect(await replicas()).toBe(2);
  });

  it('waits for approval before the destructive steps when asked', async () => {
    const safeties = () => readdirSync(path.join(dir, `nightly-${suffix}`)).filter((f) => f.startsWith('safety-')).length;
    const safetiesBefore = safeties();
    const handle = await t.client.workflow.start(WorkflowType.restore, {
      taskQueue: Queue.workflows,
      workflowId: uniqueId('restore'),
      args: [input({ targets: ['media'], force: true, approve: true })],
    });
    await eventually('the restore to wait for approval', 30_000, async () => {
      const progress: Progress = await handle.query(progressQuery);
      return progress.current === 'approval' ? progress : undefined;
    });
    expect(safeties()).toBe(safetiesBefore);
    await handle.signal(approveRestoreSignal);
    expect(((await handle.result()) as RestoreReport).restored).toEqual(['media']);
  });
});

describe('an S3 destination', () => {
  it('uploads each dump in parts, and restores from the bucket', async () => {
    const s3 = new S3Client({ region: t.bed.awsRegion, endpoint: t.bed.awsEndpoint, forcePathStyle: true });
    const bucket = `sciops-backups-${suffix}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // 20 MB that gzip cannot shrink: more than two 8 MiB parts.
    await inVolume('head -c 20000000 /dev/urandom > /v/a/large.bin');
    const remote = { kind: 's3', bucket, prefix: 'omics/' };
    try {
      const report = await run<BackupReport>(WorkflowType.backup, spec({ destination: remote, stopServices: [] }));
      expect(report.location).toBe(`s3://${bucket}/omics/nightly-${suffix}/${report.run}`);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(
        [`db-${report.run}.sql.gz`, 'manifest.json', `media-${report.run}.tar.gz`]
          .map((f) => `omics/nightly-${suffix}/${report.run}/${f}`)
          .sort(),
      );
      const media = report.dumps.find((d) => d.target === 'media');
      expect(media?.bytes).toBeGreaterThan(20_000_000);
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `omics/nightly-${suffix}/${report.run}/${media?.file}` }));
      expect(head.ETag).toMatch(/-\d+"$/); // a multipart upload's ETag ends in -<parts>

      const digest = await volumeDigest();
      await inVolume('rm /v/a/large.bin');
      const restored = await run<RestoreReport>(WorkflowType.restore, {
        destination: remote,
        backup: `nightly-${suffix}`,
        run: report.run,
        targets: ['media'],
        force: true,
      });
      expect(restored.restored).toEqual(['media']);
      expect(await volumeDigest()).toBe(digest);
    } finally {
      await inVolume('rm -f /v/a/large.bin');
      const left = (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [];
      if (left.length > 0)
        await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: left.map((o) => ({ Key: o.Key })) } }));
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      s3.destroy();
    }
  });
});

describe('schedules and a worker killed mid-backup', () => {
  it('a schedule fires and its backups appear', async () => {
    const scheduleId = `backup-sched-${suffix}`;
    const scheduled = spec({ name: `sched-${suffix}`, stopServices: [], targets: [spec().targets[1]] });
    const handle = await t.client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '3s' }] },
      action: {
        type: 'startWorkflow',
        workflowType: WorkflowType.backup,
        taskQueue: Queue.workflows,
        args: [scheduled],
        workflowId: `backup-sched-${suffix}`,
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' },
    });
    try {
      await eventually('two scheduled backups', 60_000, async () => {
        const runs = existsSync(path.join(dir, `sched-${suffix}`)) ? readdirSync(path.join(dir, `sched-${suffix}`)) : [];
        const complete = runs.filter((r) => existsSync(path.join(dir, `sched-${suffix}`, r, 'manifest.json')));
        return complete.length >= 2 ? complete : undefined;
      });
    } finally {
      await handle.delete();
    }
  });

  it('SIGKILL of the worker mid-dump publishes nothing as complete, and the services come back', async () => {
    await inVolume('head -c 150000000 /dev/urandom > /v/big.bin');
    await t.restartWorkers({ queues: ['sciops', 'db'] });
    const env = { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), SCIOPS_RECOVERY_MINUTES: '0' };
    const firstWorker = new CliProcess(['--queues', 'docker'], env, 'worker');
    let second: CliProcess | undefined;
    const name = `killed-${suffix}`;
    try {
      await firstWorker.waitFor(/polling docker/, 30_000);
      const handle = await t.client.workflow.start(WorkflowType.backup, {
        taskQueue: Queue.workflows,
        workflowId: uniqueId('backup'),
        args: [spec({ name, targets: [spec().targets[1]] })],
      });
      const root = path.join(dir, name);
      await eventually('the volume dump to be under way', 60_000, async () => {
        const [runDir] = existsSync(root) ? readdirSync(root) : [];
        return runDir !== undefined && readdirSync(path.join(root, runDir)).some((f) => f.includes('.partial-')) ? true : undefined;
      });
      await firstWorker.stop('SIGKILL', 5000);
      const [runDir] = readdirSync(root);
      expect(readdirSync(path.join(root, runDir as string)).filter((f) => !f.includes('.partial-'))).toEqual([]);
      expect(await replicas()).toBe(0);
      second = new CliProcess(['--queues', 'docker'], env, 'worker');
      const report = (await handle.result()) as BackupReport;
      expect(await replicas()).toBe(2);
      expect(readdirSync(path.join(root, report.run)).sort()).toEqual(['manifest.json', `media-${report.run}.tar.gz`]);
    } finally {
      await firstWorker.stop('SIGKILL', 5000);
      await second?.stop('SIGTERM', 30_000);
      await t.restartWorkers({ queues: ['sciops', 'docker', 'db'] });
      await inVolume('rm -f /v/big.bin');
    }
  });
});
