import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { Failure } from '../../common/failures';
import { EXPERIMENT_LABEL } from '../../common/labels';
import { containerRunning, containersCreated, runExperiment, startExperiment, tempDir, uniqueId } from '../support/experiments';
import { useTestbed } from '../support/harness';
import { metricValue } from '../support/metrics';
import { workerMetrics } from '../support/workers';

const outputs = tempDir('experiments');
const t = useTestbed({
  databases: ['sciops_exp_docker'],
  workers: (t) => [
    {
      queues: ['sciops', 'docker', 'db'],
      env: { DATABASE_URL: t.database('sciops_exp_docker').url, SCIOPS_EXPERIMENTS_DIR: outputs },
    },
  ],
});
const { docker } = t;

const spec = (name: string, command: string, extra: Record<string, unknown> = {}) => ({
  id: uniqueId(name),
  type: 'correlation_analysis',
  image: 'local/busybox:1',
  command: ['sh', '-c', command],
  ...extra,
});

const read = (id: string, file: string) => readFileSync(path.join(outputs, id, file), 'utf8');

async function row(id: string) {
  const { rows } = await t
    .database('sciops_exp_docker')
    .pool.query('select state, attempts, exit_code from experiments where id = $1', [id]);
  return rows[0] as { state: string; attempts: number; exit_code: number | null } | undefined;
}

async function containersOf(id: string) {
  return docker.listContainers({ all: true, filters: { label: [`${EXPERIMENT_LABEL}=${id}`] } });
}

describe('runExperiment on the docker backend', () => {
  it('COMPLETED: saves stdout, stderr and the exit code, records the row, removes the container', async () => {
    const s = spec('ok', 'echo hello; echo careful >&2');
    const since = Date.now();
    const result = await runExperiment(t.client, s);
    expect(result).toMatchObject({ id: s.id, state: 'COMPLETED', exitCode: 0, attempts: 1, outputDir: path.join(outputs, s.id) });
    expect(result.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(read(s.id, 'stdout.txt')).toBe('hello\n');
    expect(read(s.id, 'stderr.txt')).toBe('careful\n');
    expect(read(s.id, 'exit_code.txt')).toBe('0\n');
    expect(await row(s.id)).toEqual({ state: 'COMPLETED', attempts: 1, exit_code: 0 });
    expect(await containersOf(s.id)).toEqual([]);
    expect(await containersCreated(docker, s.id, since)).toBe(1);
  });

  it('FINISHED_WITH_ERROR: a non-zero exit; the message names the stderr file and never quotes it', async () => {
    const s = spec('fails', 'echo step one; echo "row alice@example.org is singular" >&2; exit 3');
    const result = await runExperiment(t.client, s);
    expect(result).toMatchObject({ state: 'FINISHED_WITH_ERROR', exitCode: 3 });
    expect(result.message).toContain('exited with code 3');
    expect(result.message).toContain(`its stderr is in ${path.join(outputs, s.id, 'stderr.txt')}`);
    expect(result.message).not.toContain('alice@example.org');
    expect(read(s.id, 'stderr.txt')).toBe('row alice@example.org is singular\n');
    expect(read(s.id, 'exit_code.txt')).toBe('3\n');
  });

  it('TIMEOUT_EXCEEDED: past its soft time limit the container gets SIGTERM and its output is kept', async () => {
    const s = spec('slow', "trap 'echo got TERM; exit 143' TERM; echo started; sleep 60 & wait", { timeLimitSeconds: 2 });
    const result = await runExperiment(t.client, s);
    expect(result).toMatchObject({ state: 'TIMEOUT_EXCEEDED', exitCode: 143 });
    expect(result.message).toContain('soft time limit of 2s exceeded');
    expect(read(s.id, 'stdout.txt')).toBe('started\ngot TERM\n');
    expect(await containersOf(s.id)).toEqual([]);
  });

  it('STOPPED: cancelling the workflow stops the container, SIGKILL after the grace period', async () => {
    const s = spec('stop', "trap '' TERM; echo ignoring TERM; while true; do sleep 1; done", { stopGraceSeconds: 1 });
    const handle = await startExperiment(t.client, s);
    await containerRunning(docker, s.id);
    await handle.cancel();
    const result = await handle.result();
    expect(result).toMatchObject({ state: 'STOPPED', exitCode: 137 });
    expect(read(s.id, 'stdout.txt')).toBe('ignoring TERM\n');
    expect((await row(s.id))?.state).toBe('STOPPED');
    expect(await containersOf(s.id)).toEqual([]);
  });

  it('runs a finished experiment never again: a second start returns the recorded result', async () => {
    const s = spec('once', 'echo once');
    await runExperiment(t.client, s);
    const since = Date.now();
    const again = await runExperiment(t.client, s);
    expect(again).toMatchObject({ state: 'COMPLETED', attempts: 1 });
    expect(await containersCreated(docker, s.id, since)).toBe(0);
  });

  it('an image the engine does not have: FINISHED_WITH_ERROR naming it, no retry loop', async () => {
    const s = { ...spec('noimage', 'true'), image: 'local/does-not-exist:1' };
    const result = await runExperiment(t.client, s);
    expect(result.state).toBe('FINISHED_WITH_ERROR');
    expect(result.message).toContain('image local/does-not-exist:1 is not on this engine');
  });

  it('the same id with another spec is refused and the recorded experiment is untouched', async () => {
    const s = spec('clash', 'echo first');
    await runExperiment(t.client, s);
    const err = await runExperiment(t.client, { ...s, command: ['echo', 'second'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause?.cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('ExperimentSpecConflict');
    expect(await row(s.id)).toMatchObject({ state: 'COMPLETED', attempts: 1 });
  });

  it('an invalid spec fails at once naming the fields, and writes nothing', async () => {
    const id = uniqueId('bad');
    const err = await runExperiment(t.client, {
      id,
      type: 'Bad Type',
      image: '',
      mounts: [{ type: 'bind', source: 'rel', target: '/x' }],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe(Failure.invalidInput);
    expect(cause.message).toContain('type: lower-case words');
    expect(cause.message).toContain('image: name a Docker image');
    expect(await row(id)).toBeUndefined();
  });

  it("counts each experiment once, by the state it ended in, on the workers' metrics endpoint", async () => {
    const metrics = await workerMetrics();
    const finished = (state: string) => metricValue(metrics, 'sciops_experiments_finished_total', { state, type: 'correlation_analysis' });
    // The tests above: ok, once and clash completed (a re-run of once is not counted again); fails and
    // noimage ended with an error; one timed out; one was stopped; the invalid spec never started.
    expect({
      COMPLETED: finished('COMPLETED'),
      FINISHED_WITH_ERROR: finished('FINISHED_WITH_ERROR'),
      TIMEOUT_EXCEEDED: finished('TIMEOUT_EXCEEDED'),
      STOPPED: finished('STOPPED'),
    }).toEqual({ COMPLETED: 3, FINISHED_WITH_ERROR: 2, TIMEOUT_EXCEEDED: 1, STOPPED: 1 });
    // The SDK's own worker metrics are served beside them.
    expect(metrics).toMatch(/^temporal_workflow_completed\{/m);
  });
});
