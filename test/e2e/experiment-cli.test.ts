import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { PlatformStatus } from '../../clients/commands/status';
import { stopProcess } from '../../clients/dev-server';
import type { ExperimentResult } from '../../common/experiment';
import { EXPERIMENT_STATES } from '../../common/experiment-state';
import { CliProcess, runCli } from '../support/cli';
import { eventually, tempDir, uniqueId } from '../support/experiments';
import { useTestbed } from '../support/harness';
import { freePort } from '../support/ports';

let env: NodeJS.ProcessEnv;
const dir = tempDir('experiment-cli');
const t = useTestbed({
  databases: ['sciops_exp_cli'],
  workers: (t) => [
    {
      queues: ['sciops', 'docker', 'db'],
      env: { DATABASE_URL: t.database('sciops_exp_cli').url, SCIOPS_EXPERIMENTS_DIR: path.join(dir, 'out') },
    },
  ],
});

function specFile(name: string, spec: Record<string, unknown>, ext = 'json'): string {
  const file = path.join(dir, `${name}.${ext}`);
  writeFileSync(file, JSON.stringify(spec));
  return file;
}

const spec = (name: string, command: string) => ({
  id: uniqueId(name),
  type: 'dataset_sync',
  image: 'local/busybox:1',
  command: ['sh', '-c', command],
});

beforeAll(() => {
  env = { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: 'default' };
});

/** Waits until `sciops experiment status` reports the experiment IN_PROCESS (it may not be registered yet). */
function untilRunning(id: string): Promise<true> {
  return eventually('it to run', 30_000, async () => {
    const st = await runCli(['--json', 'experiment', 'status', id], env);
    return st.code === 0 && (JSON.parse(st.stdout) as { state?: string }).state === 'IN_PROCESS' ? true : undefined;
  });
}

describe('sciops experiment', () => {
  it('submit --wait, status, logs and list: one experiment from spec file to saved output', async () => {
    const s = spec('cli', 'echo synced 42 files; echo slow mirror >&2');
    const submitted = await runCli(['--json', 'experiment', 'submit', specFile('ok', s), '--wait'], env);
    expect(submitted.stderr).toBe('');
    expect(submitted.code).toBe(0);
    const { result } = JSON.parse(submitted.stdout) as { result: ExperimentResult };
    expect(result).toMatchObject({ id: s.id, state: 'COMPLETED', exitCode: 0 });

    const status = await runCli(['experiment', 'status', s.id], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`experiment ${s.id}: COMPLETED`);
    expect(status.stdout).toMatch(/exit code\s+0/);

    const logs = await runCli(['experiment', 'logs', s.id], env);
    expect(logs).toMatchObject({ code: 0, stdout: 'synced 42 files\n', stderr: 'slow mirror\n' });

    const listed = await eventually('the experiment in the COMPLETED list', 20_000, async () => {
      const list = await runCli(['--json', 'experiment', 'list', '--state', 'COMPLETED', '--type', 'dataset_sync'], env);
      const rows = JSON.parse(list.stdout) as Array<{ id: string; state: string }>;
      return rows.find((r) => r.id === s.id);
    });
    expect(listed.state).toBe('COMPLETED');
  });

  it('stop ends a running experiment STOPPED', async () => {
    const s = spec('cli-stop', 'echo waiting; sleep 120');
    const file = specFile('stop', { ...s, stopGraceSeconds: 1 });
    const submitted = await runCli(['experiment', 'submit', file], env);
    expect(submitted.code).toBe(0);
    expect(submitted.stdout).toContain(`submitted experiment ${s.id}`);
    await untilRunning(s.id);
    const again = await runCli(['experiment', 'submit', file], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already running');
    const stopped = await runCli(['experiment', 'stop', s.id], env);
    expect(stopped.stdout).toContain(`experiment ${s.id}: STOPPED`);
    expect(stopped.code).toBe(0);
  });

  it('Ctrl-C while following detaches (exit 130): the experiment keeps running, and the CLI says how to cancel it', async () => {
    const s = spec('cli-detach', 'echo waiting; sleep 120');
    const file = specFile('detach', { ...s, stopGraceSeconds: 1 });
    const following = new CliProcess(['experiment', 'submit', file, '--wait'], env);
    await untilRunning(s.id);
    expect(await following.stop('SIGINT', 10_000)).toBe(130);
    expect(following.stderr).toBe(
      `sciops: detached: experiment-${s.id} keeps running (see it in the Web UI). To cancel it: sciops experiment stop ${s.id}\n`,
    );
    const status = await runCli(['--json', 'experiment', 'status', s.id], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'IN_PROCESS' });
    expect((await runCli(['experiment', 'stop', s.id], env)).code).toBe(0);
  });

  it('status counts the experiments by state, lists running workflows and schedules', async () => {
    // The tests above: at least one COMPLETED and two STOPPED (stop, and the detached one stopped afterwards).
    const status = await eventually('visibility to count them', 30_000, async () => {
      const st = await runCli(['--json', 'status'], env);
      expect(st.code, st.stderr).toBe(0);
      const parsed = JSON.parse(st.stdout) as PlatformStatus;
      return parsed.experiments.COMPLETED >= 1 && parsed.experiments.STOPPED >= 2 ? parsed : undefined;
    });
    expect(Object.keys(status.experiments).sort()).toEqual([...EXPERIMENT_STATES].sort());
    expect(status.running.every((w) => w.workflowId !== '')).toBe(true);
    expect(Array.isArray(status.schedules) && Array.isArray(status.stacks)).toBe(true);
    const text = await runCli(['status'], env);
    expect(text.stdout).toMatch(/^experiments$/m);
    expect(text.stdout).toMatch(/^ {2}COMPLETED +\d+$/m);
    expect(text.stdout).toMatch(/^schedules \(\d+\)$/m);
  });

  it('an invalid spec exits 2 naming the fields, and starts nothing', async () => {
    const id = uniqueId('cli-bad');
    const bad = await runCli(['experiment', 'submit', specFile('bad', { id, type: 'x', image: 'i', backend: 'k8s', colour: 1 })], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^sciops: invalid experiment spec .*backend: .*colour: unknown field/);
    const status = await runCli(['experiment', 'status', id], env);
    expect(status.code).toBe(3);
  });

  it('a YAML file that does not parse, and a file that does not exist, are one-line input errors', async () => {
    const yaml = path.join(dir, 'broken.yaml');
    writeFileSync(yaml, 'id: [unclosed');
    expect(await runCli(['experiment', 'submit', yaml], env)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('is not valid YAML'),
    });
    expect(await runCli(['experiment', 'submit', path.join(dir, 'nope.json')], env)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('cannot be read: ENOENT'),
    });
  });

  it('a workflow worker on a server without the search attributes says which are missing and how to register them', async () => {
    const port = await freePort();
    const server = spawn(t.bed.temporalCliPath, ['server', 'start-dev', '--headless', '--port', String(port), '--log-level', 'error'], {
      stdio: 'ignore',
    });
    const worker = new CliProcess(
      ['--queues', 'sciops'],
      { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${port}`, SCIOPS_RECOVERY_MINUTES: '0' },
      'worker',
    );
    try {
      await worker.waitFor(/lacks the search attributes/, 60_000);
      expect(worker.stderr).toContain(
        'lacks the search attributes SciopsStack, SciopsExperimentId, SciopsExperimentState, SciopsExperimentType, SciopsBackupTarget, SciopsBackupKind',
      );
      expect(worker.stderr).toContain('--name SciopsBackupTarget --type KeywordList');
      expect(worker.stderr).toContain(
        'temporal operator search-attribute create --namespace default --name SciopsExperimentId --type Keyword',
      );
    } finally {
      await worker.stop('SIGTERM', 20_000);
      await stopProcess(server, 5);
    }
  });
});
