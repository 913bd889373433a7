import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { ExperimentResult } from '../../common/experiment';
import { EXPERIMENT_TYPE_LABEL } from '../../common/labels';
import { Queue } from '../../common/queues';
import type { RecoveryReport } from '../../common/recovery';
import { experimentWorkflowId } from '../../common/workflow-ids';
import { WorkflowType } from '../../common/workflow-types';
import { CliProcess } from '../support/cli';
import { containerRunning, containersCreated, eventually, startExperiment, tempDir, uniqueId } from '../support/experiments';
import { useTestbed } from '../support/harness';

const outputs = tempDir('recovery');
const CAP = 2;
const t = useTestbed({
  databases: ['sciops_recovery'],
  // docker runs in its own process (below), so that it can be killed.
  workers: (t) => [
    {
      queues: ['sciops', 'db'],
      env: { DATABASE_URL: t.database('sciops_recovery').url, EXPERIMENT_CONCURRENCY_FEATURE_SELECTION: String(CAP) },
    },
  ],
});
const { docker } = t;
const db = () => t.database('sciops_recovery');

const spec = (name: string, command: string, type = 'statistical_validation') => ({
  id: uniqueId(name),
  type,
  image: 'local/busybox:1',
  command: ['sh', '-c', command],
});

function recover(): Promise<RecoveryReport> {
  return t.client.workflow.execute(WorkflowType.recoverExperiments, {
    taskQueue: Queue.workflows,
    workflowId: uniqueId('recover'),
    args: [{ pageSize: 2 }],
  }) as Promise<RecoveryReport>;
}

const result = (id: string) => t.client.workflow.getHandle(experimentWorkflowId(id)).result() as Promise<ExperimentResult>;
const stateOf = async (id: string) => (await db().pool.query('select state from experiments where id = $1', [id])).rows[0]?.state;

function dockerWorker(extra: NodeJS.ProcessEnv = {}): CliProcess {
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    SCIOPS_EXPERIMENTS_DIR: outputs,
    SCIOPS_RECOVERY_MINUTES: '0',
  };
  return new CliProcess(['--queues', 'docker'], { ...env, ...extra }, 'worker');
}

describe('a docker worker killed with SIGKILL mid-run', () => {
  it('the retry re-attaches to the same container: it finishes, and exactly one container ever existed', async () => {
    const first = dockerWorker();
    let second: CliProcess | undefined;
    try {
      await first.waitFor(/polling docker/, 30_000);
      const s = spec('crash', 'echo begin; sleep 6; echo end');
      const since = Date.now();
      const handle = await startExperiment(t.client, s);
      await containerRunning(docker, s.id);
      await first.stop('SIGKILL', 5000);
      second = dockerWorker();
      const done = (await handle.result()) as ExperimentResult;
      expect(done).toMatchObject({ state: 'COMPLETED', exitCode: 0, attempts: 1 });
      expect(readFileSync(path.join(outputs, s.id, 'stdout.txt'), 'utf8')).toBe('begin\nend\n');
      expect(await containersCreated(docker, s.id, since)).toBe(1);
    } finally {
      await first.stop('SIGKILL', 5000);
      await second?.stop('SIGTERM', 30_000);
    }
  });
});

describe('a docker worker stopped with SIGTERM mid-run', () => {
  it('lets go of the run after its grace period and exits 0; the next worker re-attaches to the same container', async () => {
    const first = dockerWorker({ SCIOPS_SHUTDOWN_GRACE_SECONDS: '1' });
    let second: CliProcess | undefined;
    try {
      await first.waitFor(/polling docker/, 30_000);
      const s = spec('sigterm', 'echo begin; sleep 8; echo end');
      const since = Date.now();
      const handle = await startExperiment(t.client, s);
      await containerRunning(docker, s.id);
      expect(await first.stop('SIGTERM', 20_000)).toBe(0);
      const [c] = await docker.listContainers({ filters: { label: [`sciops.experiment=${s.id}`] } });
      expect(c?.State).toBe('running');
      second = dockerWorker();
      expect(await handle.result()).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
      expect(await containersCreated(docker, s.id, since)).toBe(1);
    } finally {
      await first.stop('SIGKILL', 5000);
      await second?.stop('SIGTERM', 30_000);
    }
  });
});

describe('recoverExperiments', () => {
  it("starts the rows the platform's app inserted, leaves running ones alone, and marks invalid specs", async () => {
    const worker = dockerWorker();
    try {
      await worker.waitFor(/polling docker/, 30_000);
      const running = spec('long', 'sleep 5');
      const handle = await startExperiment(t.client, running);
      await eventually('the long one to be IN_PROCESS', 30_000, async () =>
        (await stateOf(running.id)) === 'IN_PROCESS' ? true : undefined,
      );

      const inserted = [spec('app-1', 'echo one'), spec('app-2', 'echo two'), spec('app-3', 'echo three')];
      for (const s of inserted) {
        await db().pool.query('insert into experiments (id, type, spec) values ($1, $2, $3)', [s.id, s.type, JSON.stringify(s)]);
      }
      const broken = uniqueId('broken');
      await db().pool.query('insert into experiments (id, type, spec) values ($1, $2, $3)', [broken, 'inference', '{"image": ""}']);

      const report = await recover();
      expect([...report.started].sort()).toEqual(inserted.map((s) => s.id).sort());
      expect(report.running).toEqual([running.id]);
      expect(report.invalid).toEqual([broken]);
      for (const s of inserted) expect(await result(s.id)).toMatchObject({ state: 'COMPLETED', attempts: 1 });
      expect(readFileSync(path.join(outputs, inserted[1].id, 'stdout.txt'), 'utf8')).toBe('two\n');
      const invalid = await db().pool.query('select state, message from experiments where id = $1', [broken]);
      expect(invalid.rows[0].state).toBe('FINISHED_WITH_ERROR');
      expect(invalid.rows[0].message).toContain('id: ');

      await handle.result();
      expect(await recover()).toEqual({ started: [], running: [], invalid: [] });
    } finally {
      await worker.stop('SIGTERM', 30_000);
    }
  });
});

describe('recoverExperiments and the experiment policy', () => {
  it("a row the platform's app inserted with a forbidden mount never runs: FINISHED_WITH_ERROR with the reason", async () => {
    const worker = dockerWorker();
    try {
      await worker.waitFor(/polling docker/, 30_000);
      // One that no setting could allow (refused as it is read), one the docker worker's policy refuses.
      const root = { ...spec('app-root', 'chroot /host id'), mounts: [{ type: 'bind', source: '/', target: '/host' }] };
      const socket = { ...spec('app-sock', 'id'), mounts: [{ type: 'bind', source: '/var/run/docker.sock', target: '/s' }] };
      const elsewhere = tempDir('recovery-elsewhere');
      const other = { ...spec('app-other', 'ls /data'), mounts: [{ type: 'bind', source: elsewhere, target: '/data' }] };
      const volume = { ...spec('app-volume', 'ls /data'), mounts: [{ type: 'volume', source: 'omics_db-data', target: '/data' }] };
      const since = Date.now();
      for (const s of [root, socket, other, volume]) {
        await db().pool.query('insert into experiments (id, type, spec) values ($1, $2, $3)', [s.id, s.type, JSON.stringify(s)]);
      }
      const report = await recover();
      expect([...report.invalid].sort()).toEqual([root.id, socket.id].sort());
      expect([...report.started].sort()).toEqual([other.id, volume.id].sort());
      const rows = async (ids: string[]) =>
        (await db().pool.query('select id, state, message from experiments where id = any($1) order by id', [ids])).rows as Array<{
          id: string;
          state: string;
          message: string;
        }>;
      for (const row of await rows([root.id, socket.id])) {
        expect(row.state).toBe('FINISHED_WITH_ERROR');
        expect(row.message).toMatch(/is never allowed .*whatever SCIOPS_EXPERIMENT_BIND_ROOTS says/);
      }
      expect(await result(other.id)).toMatchObject({
        state: 'FINISHED_WITH_ERROR',
        message: expect.stringContaining('SCIOPS_EXPERIMENT_BIND_ROOTS (none set)'),
      });
      expect(await result(volume.id)).toMatchObject({
        state: 'FINISHED_WITH_ERROR',
        message: expect.stringContaining('SCIOPS_EXPERIMENT_VOLUMES (none set)'),
      });
      for (const s of [root, socket, other, volume]) expect(await containersCreated(docker, s.id, since), s.id).toBe(0);
    } finally {
      await worker.stop('SIGTERM', 30_000);
    }
  });
});

describe('a backlog under a per-type concurrency cap', () => {
  it(`drains every experiment, never more than ${CAP} IN_PROCESS at once`, async () => {
    const worker = dockerWorker();
    try {
      await worker.waitFor(/polling docker/, 30_000);
      const backlog = Array.from({ length: 8 }, (_, i) => spec(`backlog-${i}`, 'sleep 1', 'feature_selection'));
      const handles = await Promise.all(backlog.map((s) => startExperiment(t.client, s)));
      await eventually('the experiments table', 30_000, async () =>
        (await db().pool.query("select to_regclass('experiments') as t")).rows[0].t === null ? undefined : true,
      );
      let peak = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const { rows } = await db().pool.query(
            "select count(*)::int as n from experiments where type = 'feature_selection' and state = 'IN_PROCESS'",
          );
          const containers = await docker.listContainers({ filters: { label: [`${EXPERIMENT_TYPE_LABEL}=feature_selection`] } });
          peak = Math.max(peak, rows[0].n, containers.length);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const results = (await Promise.all(handles.map((h) => h.result()))) as ExperimentResult[];
      sampling = false;
      await sampler;
      expect(results.map((r) => r.state)).toEqual(backlog.map(() => 'COMPLETED'));
      expect(peak).toBe(CAP);
    } finally {
      await worker.stop('SIGTERM', 30_000);
    }
  });
});
