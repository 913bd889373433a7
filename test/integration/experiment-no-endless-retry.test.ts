import { statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { MockActivityEnvironment } from '@temporalio/testing';
import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { createExperimentContainers } from '../../activities/docker/experiment-containers';
import { createExperimentServices } from '../../activities/docker/experiment-services';
import { HEARTBEAT_INTERVAL_MS } from '../../activities/heartbeating';
import { parseDockerHost } from '../../common/config';
import type { ExperimentSpec } from '../../common/experiment';
import { dockerClient } from '../../workers/create-workers';
import { runExperiment, tempDir, uniqueId } from '../support/experiments';
import { useTestbed } from '../support/harness';
import { loadTestbed } from '../support/testbed';

// Review H4: a long log copy heartbeats (proof p6), and what the engine refuses for good ends the run at once.
const outputs = tempDir('no-endless-retry');
const LOG_BYTES = 1_200_000;
/** Slow enough that the copy takes about 8 s: four heartbeat intervals (the test needs more than three, with room for timers). */
const BYTES_PER_SECOND = 150_000;
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

const spec = (name: string, extra: Record<string, unknown> = {}) =>
  ({
    id: uniqueId(name),
    type: 'h4check',
    image: 'local/busybox:1',
    command: ['sh', '-c', `head -c ${LOG_BYTES} /dev/zero | tr '\\0' a`],
    ...extra,
  }) as unknown as ExperimentSpec;

/** The engine's log stream, passed on at `BYTES_PER_SECOND`: what gigabytes of log look like to the copy. */
function throttled(source: NodeJS.ReadableStream): NodeJS.ReadableStream {
  return Readable.from(
    (async function* () {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        for (let i = 0; i < chunk.length; i += 16_384) {
          const part = chunk.subarray(i, i + 16_384);
          yield part;
          await new Promise((r) => setTimeout(r, (part.length / BYTES_PER_SECOND) * 1000));
        }
      }
    })(),
  );
}

/** A real engine client whose log streams (of containers and services) arrive slowly; `copyStarted` marks when. */
function slowLogs(): { docker: Dockerode; copyStarted: () => number | undefined } {
  const docker = dockerClient(parseDockerHost(loadTestbed().dockerHost));
  let started: number | undefined;
  const getContainer = docker.getContainer.bind(docker);
  docker.getContainer = (id: string) => {
    const container = getContainer(id);
    const logs = container.logs.bind(container) as (opts: object) => Promise<NodeJS.ReadableStream>;
    container.logs = (async (opts: object) => {
      started = Date.now();
      return throttled(await logs(opts));
    }) as unknown as Dockerode.Container['logs'];
    return container;
  };
  const dial = docker.modem.dial.bind(docker.modem);
  docker.modem.dial = ((options: Parameters<typeof dial>[0], callback: (err: unknown, data: unknown) => void) =>
    dial(options, (err: unknown, data: unknown) => {
      if (err || !options.path?.includes('/logs')) return callback(err, data);
      started = Date.now();
      callback(null, throttled(data as NodeJS.ReadableStream));
    })) as typeof docker.modem.dial;
  return { docker, copyStarted: () => started };
}

/** Runs an activity as Temporal would, recording when it heartbeats and what it says. */
async function heartbeatsOf<T>(run: () => Promise<T>) {
  const env = new MockActivityEnvironment(undefined, { logger: quiet });
  const beats: Array<{ at: number; details: unknown }> = [];
  env.on('heartbeat', (details: unknown) => beats.push({ at: Date.now(), details }));
  const result = (await env.run(run)) as T;
  return { result, beats, ended: Date.now() };
}

/** The longest time without a heartbeat between `from` and `to`. */
function longestSilence(beats: Array<{ at: number }>, from: number, to: number): number {
  const marks = [from, ...beats.map((b) => b.at).filter((t) => t > from && t < to), to];
  return Math.max(...marks.slice(1).map((t, i) => t - (marks[i] as number)));
}

describe('a long log copy heartbeats (proof p6)', () => {
  it('docker: the container has exited, and its log takes seconds to copy; heartbeats continue, with the bytes copied', async () => {
    const { docker, copyStarted } = slowLogs();
    const activities = createExperimentContainers(docker, outputs);
    const s = spec('log-copy');
    try {
      const { result, beats, ended } = await heartbeatsOf(() => activities.runExperimentContainer({ spec: s }));
      expect(result.exitCode).toBe(0);
      expect(statSync(path.join(outputs, s.id, 'stdout.txt')).size).toBe(LOG_BYTES);
      const from = copyStarted() as number;
      expect(ended - from).toBeGreaterThan(3 * HEARTBEAT_INTERVAL_MS);
      expect(longestSilence(beats, from, ended)).toBeLessThan(2 * HEARTBEAT_INTERVAL_MS);
      expect(beats.some((b) => ((b.details as { bytes?: number }).bytes ?? 0) > 0)).toBe(true);
    } finally {
      await activities.removeExperimentContainer({ spec: s });
    }
  });

  it('swarm: the service log streams (not one buffer) and heartbeats while it is copied', async () => {
    const { docker, copyStarted } = slowLogs();
    const activities = createExperimentServices(docker, outputs);
    const s = spec('log-copy-swarm', { backend: 'swarm' });
    try {
      const { result, beats, ended } = await heartbeatsOf(() => activities.runExperimentService({ spec: s }));
      expect(result.exitCode).toBe(0);
      expect(statSync(path.join(outputs, s.id, 'stdout.txt')).size).toBe(LOG_BYTES);
      const from = copyStarted() as number;
      expect(ended - from).toBeGreaterThan(3 * HEARTBEAT_INTERVAL_MS);
      expect(longestSilence(beats, from, ended)).toBeLessThan(2 * HEARTBEAT_INTERVAL_MS);
    } finally {
      await activities.removeExperimentService({ spec: s });
    }
  });
});

describe('what the engine refuses for good ends the experiment at once', () => {
  const t = useTestbed({
    databases: ['sciops_exp_refused'],
    workers: (t) => [
      {
        queues: ['sciops', 'docker', 'db'],
        env: { DATABASE_URL: t.database('sciops_exp_refused').url, SCIOPS_EXPERIMENTS_DIR: outputs, EXPERIMENT_TIME_LIMIT_H4CHECK: '60' },
      },
    ],
  });

  it('a container Docker refuses to create (HTTP 400: more CPUs than the host has) is FINISHED_WITH_ERROR, not retried to TIMEOUT_EXCEEDED', async () => {
    const started = Date.now();
    const result = await runExperiment(t.client, { ...spec('too-many-cpus'), resources: { cpus: 512 } });
    expect(result.state).toBe('FINISHED_WITH_ERROR');
    expect(result.message).toMatch(/Docker refused experiment .* container: Range of CPUs is from/);
    // Well within the soft limit of 60 s it would otherwise be retried until.
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
