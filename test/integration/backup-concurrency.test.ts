import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Logger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { createServicePause } from '../../activities/docker/service-pause';
import type { BackupReport } from '../../common/backup';
import type { Manifest } from '../../common/backup-manifest';
import { releaseTargetSignal } from '../../common/backup-signals';
import { type Progress, progressQuery } from '../../common/progress';
import { Queue } from '../../common/queues';
import type { RestoreReport } from '../../common/restore';
import { targetLockWorkflowId } from '../../common/workflow-ids';
import { WorkflowType } from '../../common/workflow-types';
import { eventually, tempDir, uniqueId } from '../support/experiments';
import { useTestbed } from '../support/harness';
import { createSleepingService, removeService } from '../support/services';

// Backups, restores and verifications of one target, started at the same time.
const suffix = Date.now().toString(36);
const dir = tempDir('backup-concurrency');
const destination = { kind: 'local', dir };
const service = `sciops-conc-${suffix}`;
const t = useTestbed({
  databases: ['conc'],
  before: async (t) => {
    const db = t.database('conc');
    await db.pool.query(
      'create table samples (id serial primary key, name text); insert into samples (name) select md5(i::text) from generate_series(1, 2000) i',
    );
    process.env.SCIOPS_TEST_CONC_DB = db.url;
    await createSleepingService(t.docker, service, 2);
  },
  workers: () => [{ queues: ['sciops', 'docker', 'db'] }],
  after: async (t) => {
    await removeService(t.docker, service);
  },
});
const { docker } = t;

const spec = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  targets: [{ kind: 'postgres', name: 'db', urlEnv: 'SCIOPS_TEST_CONC_DB' }],
  destination,
  ...extra,
});
const start = (type: string, input: unknown) =>
  t.client.workflow.start(type, { taskQueue: Queue.workflows, workflowId: uniqueId(type), args: [input] });
const replicas = async () => (await docker.getService(service).inspect()).Spec.Mode.Replicated.Replicas as number;
const quiet: Logger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const inActivity = <T>(fn: () => Promise<T>): Promise<T> => new MockActivityEnvironment(undefined, { logger: quiet }).run(fn);

describe('one target at a time (H5)', () => {
  it('a backup and a restore of a target another workflow holds wait for it, then run', async () => {
    const first = (await (await start(WorkflowType.backup, spec(`held-${suffix}`))).result()) as BackupReport;
    // Whatever holds the target (here a lock taken by hand), nothing of it is touched until it lets go.
    const holder = await t.client.workflow.start('backupTargetLock', {
      taskQueue: Queue.workflows,
      workflowId: targetLockWorkflowId('postgres/SCIOPS_TEST_CONC_DB'),
    });
    try {
      const backup = await start(WorkflowType.backup, spec(`held-${suffix}`));
      const restore = await start(WorkflowType.restore, { destination, backup: `held-${suffix}`, run: first.run, force: true });
      for (const handle of [backup, restore]) {
        await eventually('it to wait for the target', 30_000, async () => {
          const p: Progress = await handle.query(progressQuery);
          const step = p.steps.find((s) => s.name === 'lock targets');
          return p.current === 'lock targets' && step?.detail === 'waiting: another backup or restore holds postgres/SCIOPS_TEST_CONC_DB'
            ? p
            : undefined;
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(readdirSync(path.join(dir, `held-${suffix}`))).toEqual([first.run]);
      await holder.signal(releaseTargetSignal);
      const [report, restored] = (await Promise.all([backup.result(), restore.result()])) as [BackupReport, RestoreReport];
      expect(restored.restored).toEqual(['db']);
      expect(existsSync(path.join(dir, `held-${suffix}`, report.run, 'manifest.json'))).toBe(true);
    } finally {
      await holder.terminate().catch(() => undefined);
    }
  });

  it('two backups of one spec started together get run folders of their own, each complete', async () => {
    const name = `twice-${suffix}`;
    const handles = await Promise.all([start(WorkflowType.backup, spec(name)), start(WorkflowType.backup, spec(name))]);
    const reports = (await Promise.all(handles.map((h) => h.result()))) as BackupReport[];
    const runs = reports.map((r) => r.run);
    expect(new Set(runs).size).toBe(2);
    expect(readdirSync(path.join(dir, name)).sort()).toEqual([...runs].sort());
    for (const run of runs) {
      const manifest = JSON.parse(readFileSync(path.join(dir, name, run, 'manifest.json'), 'utf8')) as Manifest;
      expect(manifest.run).toBe(run);
      expect(readdirSync(path.join(dir, name, run)).sort()).toEqual([manifest.dumps[0]?.file, 'manifest.json'].sort());
    }
  });

  it('a backup and a restore that stop the same service run one after the other', async () => {
    const first = (await (await start(WorkflowType.backup, spec(`svc-${suffix}`, { stopServices: [service] }))).result()) as BackupReport;
    const holder = await t.client.workflow.start('backupTargetLock', {
      taskQueue: Queue.workflows,
      workflowId: targetLockWorkflowId(`service/${service}`),
    });
    try {
      // Its target is free, the service it stops is not: it waits, and the service keeps running meanwhile.
      const restore = await start(WorkflowType.restore, { destination, backup: `svc-${suffix}`, run: first.run, force: true });
      await eventually('the restore to wait for the service', 30_000, async () => {
        const p: Progress = await restore.query(progressQuery);
        return p.steps.find((s) => s.name === 'lock targets')?.detail === `waiting: another backup or restore holds service/${service}`
          ? p
          : undefined;
      });
      expect(await replicas()).toBe(2);
      await holder.signal(releaseTargetSignal);
      await restore.result();
      expect(await replicas()).toBe(2);
    } finally {
      await holder.terminate().catch(() => undefined);
    }
  });

  it('a service a restore paused is not resumed by a backup; one a terminated workflow left paused is taken over', async () => {
    const pause = createServicePause(docker);
    await inActivity(() => pause.pauseService({ name: service, holder: 'restore-nightly-2' }));
    expect(await replicas()).toBe(0);
    expect(await inActivity(() => pause.resumeService({ name: service, holder: 'backup-nightly-1' }))).toEqual({
      replicas: null,
      heldBy: 'restore-nightly-2',
    });
    expect(await replicas()).toBe(0);
    // The restore is gone (terminated, its lock released): the next workflow to hold the service takes it over.
    expect(await inActivity(() => pause.pauseService({ name: service, holder: 'backup-nightly-3' }))).toEqual({
      replicas: 2,
      tookOver: 'restore-nightly-2',
    });
    expect(await inActivity(() => pause.resumeService({ name: service, holder: 'backup-nightly-3' }))).toEqual({ replicas: 2 });
    expect(await replicas()).toBe(2);
    expect((await docker.getService(service).inspect()).Spec.Labels).toEqual({});
  });
});
