import type Dockerode from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';
import { engineNodeName } from '../../activities/docker/engine-node';
import { parseDockerHost } from '../../common/config';
import type { ExperimentResult } from '../../common/experiment';
import { EXPERIMENT_LABEL } from '../../common/labels';
import { dockerClient } from '../../workers/create-workers';
import { containersCreated, eventually, startExperiment, tempDir, uniqueId } from '../support/experiments';
import { useTestbed } from '../support/harness';

// Review M2: two docker workers on two engines both poll the docker queue (two managers' workers, or a second
// replica). Each docker-backend experiment's steps after the first go to the node queue of the worker that took
// that first step, so the run, its stop and its removal all meet the one container; none runs twice or on.
const outputs = tempDir('engine-pinning');
const t = useTestbed({
  databases: ['sciops_engine_pinning'],
  workers: (t) => {
    const env = { DATABASE_URL: t.database('sciops_engine_pinning').url, SCIOPS_EXPERIMENTS_DIR: outputs };
    return [
      { queues: ['sciops', 'docker', 'db'], env },
      { queues: ['docker'], env: { ...env, DOCKER_HOST: t.bed.node3DockerHost } },
    ];
  },
});
let engines: Array<{ name: string; docker: Dockerode }>;

beforeAll(async () => {
  engines = await Promise.all(
    [t.docker, dockerClient(parseDockerHost(t.bed.node3DockerHost))].map(async (docker) => ({
      name: (await engineNodeName(docker)) as string,
      docker,
    })),
  );
});

const containersOf = (docker: Dockerode, id: string) =>
  docker.listContainers({ all: true, filters: { label: [`${EXPERIMENT_LABEL}=${id}`] } });

describe('engine-local steps stay on one engine (M2)', () => {
  it('names each engine as its node queue: the two workers poll different docker@<node> queues', () => {
    expect(engines.map((e) => e.name)).toEqual([expect.any(String), expect.any(String)]);
    expect(engines[0]?.name).not.toBe(engines[1]?.name);
  });

  it('with two docker pollers, every stopped experiment had one container, on one engine, and none is left', async () => {
    const since = Date.now();
    const specs = Array.from({ length: 8 }, (_, i) => ({
      id: uniqueId(`pinned-${i}`),
      type: 'pinning',
      image: 'local/busybox:1',
      command: ['sleep', '120'],
      stopGraceSeconds: 1,
    }));
    const handles = await Promise.all(specs.map((s) => startExperiment(t.client, s)));
    // Each one running somewhere before it is stopped.
    await Promise.all(
      specs.map((s) =>
        eventually(`the container of ${s.id} to run on an engine`, 60_000, async () => {
          for (const engine of engines) {
            const [c] = await containersOf(engine.docker, s.id);
            if (c?.State === 'running') return engine.name;
          }
          return undefined;
        }),
      ),
    );
    await Promise.all(handles.map((h) => h.cancel()));
    const results = (await Promise.all(handles.map((h) => h.result()))) as ExperimentResult[];
    expect(results.map((r) => r.state)).toEqual(specs.map(() => 'STOPPED'));
    for (const s of specs) {
      const created = await Promise.all(engines.map((e) => containersCreated(e.docker, s.id, since)));
      expect(
        created.reduce((a, b) => a + b, 0),
        `containers created for ${s.id}`,
      ).toBe(1);
      // The stop and the removal reached the engine the container was on: nothing of the run is left anywhere.
      for (const engine of engines) expect(await containersOf(engine.docker, s.id), `${s.id} on ${engine.name}`).toEqual([]);
    }
  });
});
