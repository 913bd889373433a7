import { describe, expect, it } from 'vitest';
import { containerOverrides, containerProperties, pollDelayMs, propertiesHash } from '../../activities/aws/job-definitions';
import { containerOptions, serviceSpec } from '../../activities/docker/experiment-specs';
import { listQuery } from '../../clients/commands/experiment/list';
import { progressLines } from '../../clients/follow';
import { ConfigError, InputError } from '../../common/errors';
import { experimentSpecSchema, lastLines } from '../../common/experiment';
import { readExperimentLimits } from '../../common/experiment-limits';
import { EXPERIMENT_STATES, isTerminal, previousStates } from '../../common/experiment-state';
import { parseInput } from '../../common/validate';

const parse = (value: unknown) => parseInput(experimentSpecSchema, value, 'experiment spec');
const minimal = { id: 'exp-1', type: 'correlation_analysis', image: 'local/busybox:1' };

describe('experiment states', () => {
  it('only move forward: out of a terminal state there is no move', () => {
    for (const to of EXPERIMENT_STATES) {
      for (const from of previousStates(to)) {
        expect(isTerminal(from), `${from} -> ${to}`).toBe(false);
        expect(EXPERIMENT_STATES.indexOf(from)).toBeLessThan(EXPERIMENT_STATES.indexOf(to));
      }
    }
    expect(previousStates('IN_PROCESS')).toEqual(['PENDING']);
    expect(previousStates('STOPPED')).toEqual(['PENDING', 'IN_PROCESS']);
    expect(previousStates('PENDING')).toEqual([]);
  });
});

describe('experiment spec', () => {
  it('fills defaults: docker backend, 10 s grace, 3 attempts, no mounts', () => {
    expect(parse(minimal)).toEqual({
      ...minimal,
      env: {},
      mounts: [],
      resources: {},
      placement: { constraints: [] },
      backend: 'docker',
      stopGraceSeconds: 10,
      maxAttempts: 3,
    });
  });

  it.each([
    [{ ...minimal, id: 'has space' }, 'id: letters, digits'],
    [{ ...minimal, image: ' ' }, 'image: name a Docker image, e.g. local/busybox:1 (no spaces)'],
    [{ ...minimal, colour: 'red' }, 'colour: unknown field'],
    [{ ...minimal, backend: 'batch' }, 'batch: required when backend is "batch"'],
    [{ ...minimal, batch: { jobQueue: 'q' } }, 'batch: only for backend "batch"'],
    [{ ...minimal, placement: { node: 'n2' } }, 'placement: placement needs backend "swarm"'],
    [
      { ...minimal, mounts: [{ type: 'bind', source: 'data', target: '/data' }] },
      'mounts[0].source: a bind mount source must be an absolute host path',
    ],
    [{ ...minimal, backend: 'swarm', placement: { constraints: ['gpu'] } }, 'placement.constraints[0]: a swarm constraint'],
    [{ ...minimal, env: { 'BAD-NAME': 'x' } }, 'env.BAD-NAME'],
    // The review's 1 MB value (p1): named, with the way to pass data instead; and many values that add up.
    [{ ...minimal, env: { X: 'a'.repeat(1 << 20) } }, 'env.X: at most 32768 characters: pass larger data as a file in a mount'],
    [{ ...minimal, env: Object.fromEntries(['A', 'B', 'C'].map((k) => [k, 'a'.repeat(30_000)])) }, 'env: at most 65536 characters in all'],
    [{ ...minimal, timeLimitSeconds: 0 }, 'timeLimitSeconds'],
  ])('rejects %j naming the field', (value, message) => {
    expect(() => parse(value)).toThrow(InputError);
    expect(() => parse(value)).toThrow(message);
  });
});

describe('per-type limits', () => {
  it('default to 3 h, 1 h for dataset_sync, and are overridden by EXPERIMENT_TIME_LIMIT_<TYPE>', () => {
    const limits = readExperimentLimits({ EXPERIMENT_TIME_LIMIT_MODEL_TRAINING: '7200', EXPERIMENT_CONCURRENCY_INFERENCE: '4' });
    expect(limits.timeLimitSeconds('correlation_analysis')).toBe(10800);
    expect(limits.timeLimitSeconds('dataset_sync')).toBe(3600);
    expect(limits.timeLimitSeconds('model_training')).toBe(7200);
    expect(limits.timeLimitSeconds('something_new')).toBe(10800);
    expect(limits.concurrency('inference')).toBe(4);
    expect(limits.concurrency('model_training')).toBeUndefined();
  });

  it('a bad value stops the worker naming the variable', () => {
    expect(() => readExperimentLimits({ EXPERIMENT_TIME_LIMIT_INFERENCE: '1h' })).toThrow(ConfigError);
    expect(() => readExperimentLimits({ EXPERIMENT_CONCURRENCY_INFERENCE: '0' })).toThrow('EXPERIMENT_CONCURRENCY_INFERENCE');
  });
});

describe('backend mappings', () => {
  const spec = parse({
    ...minimal,
    backend: 'swarm',
    command: ['run.sh'],
    env: { A: '1' },
    mounts: [{ type: 'volume', source: 'data', target: '/data', readOnly: true }],
    resources: { cpus: 1.5, memoryMb: 512, gpus: 1 },
    placement: { constraints: ['node.labels.gpu==true'], node: 'n2' },
    stopGraceSeconds: 7,
  });

  it('a container carries the experiment id label, limits and the stop timeout', () => {
    const options = containerOptions({ ...spec, backend: 'docker', placement: { constraints: [] } });
    expect(options).toMatchObject({
      name: 'sciops-exp-exp-1',
      Cmd: ['run.sh'],
      Env: ['A=1'],
      Labels: { 'sciops.experiment': 'exp-1', 'sciops.experiment.type': 'correlation_analysis' },
      StopTimeout: 7,
      HostConfig: {
        NanoCpus: 1.5e9,
        Memory: 512 * 1024 * 1024,
        Mounts: [{ Type: 'volume', Source: 'data', Target: '/data', ReadOnly: true }],
      },
    });
    expect(options.HostConfig?.DeviceRequests).toEqual([{ Driver: '', Count: 1, Capabilities: [['gpu']] }]);
  });

  it('a service runs once (restart none, one replica), placed by constraints and node', () => {
    const service = serviceSpec(spec);
    expect(service.TaskTemplate?.RestartPolicy).toEqual({ Condition: 'none' });
    expect(service.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(service.TaskTemplate?.Placement?.Constraints).toEqual(['node.labels.gpu==true', 'node.hostname==n2']);
    expect((service.TaskTemplate as { ContainerSpec: { StopGracePeriod: number } }).ContainerSpec.StopGracePeriod).toBe(7e9);
  });

  it("command means what it means in compose on both engines: the image's CMD, never its ENTRYPOINT", () => {
    const container = (serviceSpec(spec).TaskTemplate as { ContainerSpec: Record<string, unknown> }).ContainerSpec;
    expect(container.Args).toEqual(['run.sh']);
    expect(container.Command).toBeUndefined();
    const options = containerOptions({ ...spec, backend: 'docker', placement: { constraints: [] } });
    expect(options.Cmd).toEqual(['run.sh']);
    expect(options.Entrypoint).toBeUndefined();
  });

  it('a Batch job definition depends on the setup only; command, env and resources are per-job overrides', () => {
    const a = parse({ ...minimal, backend: 'batch', batch: { jobQueue: 'q' }, command: ['a'], env: { X: '1' } });
    const b = parse({ ...minimal, id: 'exp-2', backend: 'batch', batch: { jobQueue: 'q' }, command: ['b'], resources: { gpus: 2 } });
    expect(propertiesHash(containerProperties(a))).toBe(propertiesHash(containerProperties(b)));
    expect(propertiesHash(containerProperties({ ...a, image: 'other:1' }))).not.toBe(propertiesHash(containerProperties(a)));
    expect(containerOverrides(a)).toEqual({ command: ['a'], environment: [{ name: 'X', value: '1' }], resourceRequirements: [] });
    expect(containerOverrides(b).resourceRequirements).toEqual([{ type: 'GPU', value: '2' }]);
  });

  it('polls Batch with back-off: 1 s, growing, capped at 15 s', () => {
    expect([0, 1, 2, 3].map(pollDelayMs)).toEqual([1000, 1500, 2250, 3375]);
    expect(pollDelayMs(50)).toBe(15_000);
  });
});

describe('CLI helpers', () => {
  it('list builds a visibility query from validated filters', () => {
    expect(listQuery({ state: 'TIMEOUT_EXCEEDED', type: 'inference' })).toBe(
      "WorkflowType = 'runExperiment' AND SciopsExperimentState = 'TIMEOUT_EXCEEDED' AND SciopsExperimentType = 'inference'",
    );
    expect(() => listQuery({ state: "x' OR '1'='1" })).toThrow('--state');
  });

  it('progress prints a line per step that changed', () => {
    const before = {
      state: 'running' as const,
      steps: [
        { name: 'register', state: 'done' as const },
        { name: 'run', state: 'pending' as const },
      ],
    };
    const after = { ...before, steps: [before.steps[0], { name: 'run', state: 'running' as const, detail: 'docker' }] };
    expect(progressLines(undefined, before, 0)).toEqual(['[0s] register: done']);
    expect(progressLines(before, after, 3)).toEqual(['[3s] run: running (docker)']);
  });

  it('lastLines keeps the end of a log, without blank lines', () => {
    expect(lastLines('a\n\nb\nc\n', 2)).toBe('b\nc');
  });
});
