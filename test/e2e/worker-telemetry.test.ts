import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { experimentWorkflowId } from '../../common/workflow-ids';
import { CliProcess, logEntries, runCli } from '../support/cli';
import { tempDir, uniqueId } from '../support/experiments';
import { useTestbed } from '../support/harness';
import { metricValue } from '../support/metrics';
import { freePort } from '../support/ports';

const dir = tempDir('telemetry');
let worker: CliProcess;
let env: NodeJS.ProcessEnv;
let metricsUrl: string;
const t = useTestbed({ databases: ['sciops_telemetry'] });
const db = () => t.database('sciops_telemetry');

beforeAll(async () => {
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  env = {
    ...process.env,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: 'default',
    DATABASE_URL: db().url,
    SCIOPS_EXPERIMENTS_DIR: path.join(dir, 'out'),
    SCIOPS_RECOVERY_MINUTES: '0',
    SCIOPS_METRICS_ADDRESS: `127.0.0.1:${port}`,
  };
  // stderr is a pipe here, as under a service manager: the worker writes JSON lines.
  worker = new CliProcess(['--queues', 'sciops,docker,db'], env, 'worker');
  await worker.waitFor(/polling sciops, docker, db, docker@\S+ on /, 60_000);
});

afterAll(async () => {
  await worker?.stop('SIGTERM', 40_000);
});

describe('a worker process under a service manager', () => {
  it('logs JSON lines with workflow and activity ids, no password, and serves Prometheus metrics', async () => {
    const id = uniqueId('telemetry');
    const file = path.join(dir, 'spec.json');
    writeFileSync(file, JSON.stringify({ id, type: 'dataset_sync', image: 'local/busybox:1', command: ['echo', 'ok'] }));
    const submitted = await runCli(['experiment', 'submit', file, '--wait'], env, 120_000);
    expect(submitted.code, submitted.stderr).toBe(0);

    const entries = logEntries(worker.stderr);
    for (const e of entries) expect(Object.keys(e).slice(0, 3)).toEqual(['time', 'level', 'msg']);
    expect(entries[0]).toMatchObject({ level: 'info', msg: expect.stringMatching(/^polling sciops, docker, db, docker@\S+ on /) });
    const started = entries.find((e) => e.msg === 'experiment container started');
    expect(started).toMatchObject({ experiment: id, workflowId: experimentWorkflowId(id), activityType: 'runExperimentContainer' });
    expect(started?.activityId).toEqual(expect.any(String));
    expect(entries.find((e) => e.msg === 'experiment finished')).toMatchObject({
      state: 'COMPLETED',
      workflowId: experimentWorkflowId(id),
      workflowType: 'runExperiment',
    });
    // The database password never reaches the log, not even inside the URL the worker connects with.
    const password = new URL(db().url).password;
    expect(password).not.toBe('');
    expect(worker.stderr).not.toContain(`:${password}@`);

    const metrics = await (await fetch(metricsUrl)).text();
    expect(metricValue(metrics, 'sciops_experiments_finished_total', { state: 'COMPLETED', type: 'dataset_sync' })).toBe(1);
    expect(metricValue(metrics, 'temporal_worker_start')).toBeGreaterThanOrEqual(3);
    expect(metricValue(metrics, 'temporal_activity_execution_latency_count', { activity_type: 'runExperimentContainer' })).toBe(1);
  });
});
