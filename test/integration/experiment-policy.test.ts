import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Logger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { createExperimentContainers } from '../../activities/docker/experiment-containers';
import { createExperimentServices } from '../../activities/docker/experiment-services';
import type { ExperimentSpec } from '../../common/experiment';
import { DEFAULT_EXPERIMENT_POLICY } from '../../common/experiment-policy';
import { Failure } from '../../common/failures';
import { containerRunning, containersCreated, runExperiment, startExperiment, tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { useTestbed } from '../support/harness';

const outputs = tempDir('policy-experiments');
const elsewhere = tempDir('policy-elsewhere');
const t = useTestbed({
  databases: ['sciops_exp_policy'],
  // The workers as `sciops worker` builds them, with no SCIOPS_EXPERIMENT_* setting: the default policy.
  workers: (t) => [
    { queues: ['sciops', 'docker', 'db'], env: { DATABASE_URL: t.database('sciops_exp_policy').url, SCIOPS_EXPERIMENTS_DIR: outputs } },
  ],
});
const { docker } = t;

const spec = (name: string, command: string, extra: Record<string, unknown> = {}) => ({
  id: uniqueId(name),
  type: 'inference',
  image: 'local/busybox:1',
  command: ['sh', '-c', command],
  ...extra,
});
const bind = (source: string, target = '/data') => ({ type: 'bind', source, target });
const stateOf = async (id: string) =>
  (await t.database('sciops_exp_policy').pool.query('select state from experiments where id = $1', [id])).rows[0]?.state;

describe('experiments under the default policy (through the workflow)', () => {
  it('the container runs with no-new-privileges and every capability dropped (inspected, and seen from inside)', async () => {
    const s = spec('caps', "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; sleep 2");
    const handle = await startExperiment(t.client, s);
    await containerRunning(docker, s.id);
    const [found] = await docker.listContainers({ filters: { label: [`sciops.experiment=${s.id}`] } });
    const { HostConfig } = await docker.getContainer(found?.Id as string).inspect();
    expect(HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
    expect(HostConfig.CapDrop).toEqual(['ALL']);
    expect(HostConfig.CapAdd ?? null).toBeNull();
    expect(await handle.result()).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(readFileSync(path.join(outputs, s.id, 'stdout.txt'), 'utf8')).toBe('CapEff:\t0000000000000000\nNoNewPrivs:\t1\n');
  });

  it('may bind its own output directory (made for it), and write its results there', async () => {
    const s = spec('own-dir', 'echo 0.87 > /out/r.txt');
    const result = await runExperiment(t.client, { ...s, mounts: [bind(path.join(outputs, s.id, 'results'), '/out')] });
    expect(result).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(readFileSync(path.join(outputs, s.id, 'results', 'r.txt'), 'utf8')).toBe('0.87\n');
  });

  it('a bind of another host directory: FINISHED_WITH_ERROR naming SCIOPS_EXPERIMENT_BIND_ROOTS; nothing is created', async () => {
    const s = spec('other-dir', 'cat /data/*');
    const since = Date.now();
    const result = await runExperiment(t.client, { ...s, mounts: [bind(elsewhere)] });
    expect(result.state).toBe('FINISHED_WITH_ERROR');
    expect(result.message).toMatch(
      /^refused by the docker worker's experiment policy, nothing was started: mounts\[0\]\.source: a bind of /,
    );
    expect(result.message).toContain('SCIOPS_EXPERIMENT_BIND_ROOTS (none set)');
    expect(await stateOf(s.id)).toBe('FINISHED_WITH_ERROR');
    expect(await containersCreated(docker, s.id, since)).toBe(0);
  });

  it('a volume not in the allow list: refused naming SCIOPS_EXPERIMENT_VOLUMES; on swarm too', async () => {
    for (const backend of ['docker', 'swarm']) {
      const s = spec(`volume-${backend}`, 'ls /data', { backend, mounts: [{ type: 'volume', source: 'omics_db-data', target: '/data' }] });
      const since = Date.now();
      const result = await runExperiment(t.client, s);
      expect(result.state).toBe('FINISHED_WITH_ERROR');
      expect(result.message).toContain('volume omics_db-data is not in SCIOPS_EXPERIMENT_VOLUMES (none set)');
      expect(await containersCreated(docker, s.id, since)).toBe(0);
      expect(await docker.listServices({ filters: { label: [`sciops.experiment=${s.id}`] } })).toEqual([]);
    }
  });

  it('a bind of / or of the Docker socket fails at once, as invalid input naming the setting; no row', async () => {
    for (const source of ['/', '/var/run/docker.sock']) {
      const s = spec('root', 'id', { mounts: [bind(source, '/host')] });
      const failure = await failureOf(runExperiment(t.client, s));
      expect(failure.type).toBe(Failure.invalidInput);
      expect(failure.message).toContain(`mounts[0].source: a bind of ${source} is never allowed`);
      expect(failure.message).toContain('whatever SCIOPS_EXPERIMENT_BIND_ROOTS says');
      expect(await stateOf(s.id)).toBeUndefined();
    }
  });

  it('outputDir ../../etc is invalid input; /etc/cron.d is refused naming SCIOPS_EXPERIMENTS_DIR and nothing is written', async () => {
    const relative = await failureOf(runExperiment(t.client, spec('dotdot', 'true', { outputDir: '../../etc' })));
    expect(relative.message).toContain('outputDir: must be an absolute path under the experiments directory (SCIOPS_EXPERIMENTS_DIR');
    const s = spec('cron', 'echo "* * * * * root id"', { outputDir: '/etc/cron.d' });
    const result = await runExperiment(t.client, s);
    expect(result.state).toBe('FINISHED_WITH_ERROR');
    expect(result.message).toContain('outputDir: /etc/cron.d is not a directory under the experiments directory');
    expect(result.message).toContain('(SCIOPS_EXPERIMENTS_DIR)');
    expect(existsSync('/etc/cron.d/stdout.txt')).toBe(false);
  });
});

/** Runs an activity in a mock activity context, as a worker would (heartbeats and log lines go nowhere). */
const quiet: Logger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const inActivity = <T>(fn: () => Promise<T>): Promise<T> => new MockActivityEnvironment(undefined, { logger: quiet }).run(fn);
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (err: unknown) => err as ApplicationFailure,
  );

describe('the docker activities check the spec themselves (their input is untrusted)', () => {
  it('a spec that skipped the workflow (binding /) is refused before anything is created, on both engines', async () => {
    const raw = { ...spec('direct', 'chroot /host id'), mounts: [bind('/', '/host')] } as unknown as ExperimentSpec;
    const since = Date.now();
    const containers = createExperimentContainers(docker, outputs, DEFAULT_EXPERIMENT_POLICY);
    const services = createExperimentServices(docker, outputs, DEFAULT_EXPERIMENT_POLICY);
    for (const run of [() => containers.runExperimentContainer({ spec: raw }), () => services.runExperimentService({ spec: raw })]) {
      const err = await rejection(inActivity(run));
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: 'ExperimentRunRejected', nonRetryable: true });
      expect(err.message).toMatch(/^the docker worker refuses experiment direct-\S+: mounts\[0\]\.source: a bind of \/ is never allowed/);
      expect(err.message).toContain('SCIOPS_EXPERIMENT_BIND_ROOTS');
    }
    expect(await containersCreated(docker, raw.id, since)).toBe(0);
  });

  it('a bind under an allowed root works; a symlink there that leads out of it is refused', async () => {
    const root = tempDir('policy-root');
    mkdirSync(path.join(root, 'proteomics'));
    writeFileSync(path.join(root, 'proteomics', 'batch-7.csv'), 'protein,abundance\nP1,0.5\n');
    symlinkSync('/etc', path.join(root, 'etc-link'));
    const policy = { ...DEFAULT_EXPERIMENT_POLICY, bindRoots: [root] };
    const containers = createExperimentContainers(docker, outputs, policy);

    const ok = { ...spec('allowed', 'cat /data/batch-7.csv'), mounts: [{ ...bind(path.join(root, 'proteomics')), readOnly: true }] };
    expect(await containers.checkExperimentSpec({ spec: ok })).toEqual({ refusals: [] });
    const outcome = await inActivity(() => containers.runExperimentContainer({ spec: ok as unknown as ExperimentSpec }));
    expect(outcome).toMatchObject({ exitCode: 0, outputDir: path.join(outputs, ok.id) });
    expect(readFileSync(path.join(outputs, ok.id, 'stdout.txt'), 'utf8')).toBe('protein,abundance\nP1,0.5\n');
    await containers.removeExperimentContainer({ spec: ok as unknown as ExperimentSpec });
    // The same spec on a worker without the root is refused.
    const strict = createExperimentContainers(docker, outputs);
    expect((await strict.checkExperimentSpec({ spec: ok })).refusals[0]).toContain('SCIOPS_EXPERIMENT_BIND_ROOTS (none set)');

    const linked = { ...spec('linked', 'ls /data'), mounts: [bind(path.join(root, 'etc-link'))] };
    const { refusals } = await containers.checkExperimentSpec({ spec: linked });
    expect(refusals).toEqual([expect.stringContaining('(it resolves to /etc) is never allowed')]);
    const err = await rejection(inActivity(() => containers.runExperimentContainer({ spec: linked as unknown as ExperimentSpec })));
    expect(err.type).toBe('ExperimentRunRejected');
  });
});
