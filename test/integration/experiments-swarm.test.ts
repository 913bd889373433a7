import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPERIMENT_LABEL } from '../../common/labels';
import { eventually, runExperiment, startExperiment, tempDir, uniqueId } from '../support/experiments';
import { useTestbed } from '../support/harness';

const NODE2 = 'sciops-node2';
const outputs = tempDir('swarm-experiments');
const t = useTestbed({
  databases: ['sciops_exp_swarm'],
  workers: (t) => [
    { queues: ['sciops', 'docker', 'db'], env: { DATABASE_URL: t.database('sciops_exp_swarm').url, SCIOPS_EXPERIMENTS_DIR: outputs } },
  ],
});
const { docker } = t;

const spec = (name: string, command: string, extra: Record<string, unknown> = {}) => ({
  id: uniqueId(name),
  type: 'model_training',
  backend: 'swarm',
  image: 'local/busybox:1',
  command: ['sh', '-c', command],
  // Swarm expands templates in the environment: the container learns which node it was placed on.
  env: { NODE: '{{.Node.Hostname}}' },
  ...extra,
});

const read = (id: string, file: string) => readFileSync(path.join(outputs, id, file), 'utf8');
const servicesOf = (id: string) => docker.listServices({ filters: { label: [`${EXPERIMENT_LABEL}=${id}`] } });

describe('runExperiment on the swarm backend (a one-shot service)', () => {
  it('COMPLETED on the node its placement names, with the task logs saved and the service removed', async () => {
    const s = spec('placed', 'echo "ran on $NODE"; echo note >&2', { placement: { node: NODE2 } });
    const result = await runExperiment(t.client, s);
    expect(result).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(read(s.id, 'stdout.txt')).toBe(`ran on ${NODE2}\n`);
    expect(read(s.id, 'stderr.txt')).toBe('note\n');
    expect(await servicesOf(s.id)).toEqual([]);
  });

  it('the service drops every capability (its spec inspected, and seen from inside the task)', async () => {
    const s = spec('caps', "grep '^CapEff' /proc/self/status; sleep 3");
    const handle = await startExperiment(t.client, s);
    const service = await eventually('the service', 30_000, async () => (await servicesOf(s.id))[0]);
    const template = service.Spec?.TaskTemplate as { ContainerSpec?: { CapabilityDrop?: string[]; CapabilityAdd?: string[] } };
    const container = template.ContainerSpec ?? {};
    expect(container.CapabilityDrop).toEqual(['ALL']);
    expect(container.CapabilityAdd).toBeUndefined();
    expect(await handle.result()).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(read(s.id, 'stdout.txt')).toBe('CapEff:\t0000000000000000\n');
  });

  it('honours a node-label constraint: a label no node has keeps the task pending until the soft time limit', async () => {
    const s = spec('unplaceable', 'echo never', { placement: { constraints: ['node.labels.gpu==true'] }, timeLimitSeconds: 3 });
    const result = await runExperiment(t.client, s);
    expect(result.state).toBe('TIMEOUT_EXCEEDED');
    expect(result.exitCode).toBeUndefined();
    expect(await servicesOf(s.id)).toEqual([]);
  });

  it('FINISHED_WITH_ERROR with the exit code of the task', async () => {
    const s = spec('fails', 'echo "no convergence" >&2; exit 4');
    const result = await runExperiment(t.client, s);
    expect(result).toMatchObject({ state: 'FINISHED_WITH_ERROR', exitCode: 4 });
    // The message names where the task's stderr is, never quotes it (an experiment's output may be its data).
    expect(result.message).toContain(`exited with code 4; its stderr is in ${path.join(outputs, s.id)}/stderr.txt`);
    expect(result.message).not.toContain('no convergence');
    expect(read(s.id, 'stderr.txt')).toBe('no convergence\n');
  });

  it('STOPPED: the task is shut down with SIGTERM and what it printed is kept', async () => {
    const s = spec('stop', "trap 'echo got TERM; exit 143' TERM; echo started; sleep 60 & wait", { stopGraceSeconds: 5 });
    const handle = await startExperiment(t.client, s);
    await eventually('the task to print', 60_000, async () => {
      const [service] = await servicesOf(s.id);
      if (service === undefined) return undefined;
      const logs = (await docker.getService(service.ID).logs({ stdout: true, follow: false })) as unknown as Buffer;
      return logs.toString().includes('started') ? true : undefined;
    });
    await handle.cancel();
    const result = await handle.result();
    expect(result).toMatchObject({ state: 'STOPPED', exitCode: 143 });
    expect(read(s.id, 'stdout.txt')).toBe('started\ngot TERM\n');
  });

  it('an image no node has: FINISHED_WITH_ERROR with the task error', async () => {
    const s = { ...spec('noimage', 'true'), image: 'local/does-not-exist:1' };
    const result = await runExperiment(t.client, s);
    expect(result.state).toBe('FINISHED_WITH_ERROR');
    expect(result.message).toMatch(/the swarm could not run experiment .*: task (rejected|failed)/);
  });
});
