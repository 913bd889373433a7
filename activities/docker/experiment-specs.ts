import type Dockerode from 'dockerode';
import { experimentJobName } from '../../common/batch-jobs';
import type { ExperimentSpec } from '../../common/experiment';
import { EXPERIMENT_LABEL, EXPERIMENT_TYPE_LABEL } from '../../common/labels';

/** What Docker calls the spec's mounts. */
function mounts(spec: ExperimentSpec) {
  return spec.mounts.map((m) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly }));
}

function labels(spec: ExperimentSpec): Record<string, string> {
  return { [EXPERIMENT_LABEL]: spec.id, [EXPERIMENT_TYPE_LABEL]: spec.type };
}

function env(spec: ExperimentSpec): string[] {
  return Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
}

/**
 * Every capability dropped, the spec's own (each allowed by SCIOPS_EXPERIMENT_CAPABILITIES) added back, and no
 * way to gain privileges (setuid binaries, file capabilities): root in the container is not root on the host.
 */
function capabilities(spec: ExperimentSpec): { add: string[]; drop: string[] } {
  return { add: [...(spec.capabilities ?? [])], drop: ['ALL'] };
}

/** `docker create` options for an experiment on one engine. Pure. */
export function containerOptions(spec: ExperimentSpec): Dockerode.ContainerCreateOptions {
  const { cpus, memoryMb, gpus } = spec.resources;
  return {
    name: experimentJobName(spec.id),
    Image: spec.image,
    ...(spec.command === undefined ? {} : { Cmd: spec.command }),
    Env: env(spec),
    Labels: labels(spec),
    ...(spec.workingDir === undefined ? {} : { WorkingDir: spec.workingDir }),
    StopTimeout: spec.stopGraceSeconds,
    HostConfig: {
      Mounts: mounts(spec),
      SecurityOpt: ['no-new-privileges'],
      CapDrop: capabilities(spec).drop,
      ...(capabilities(spec).add.length === 0 ? {} : { CapAdd: capabilities(spec).add }),
      ...(cpus === undefined ? {} : { NanoCpus: Math.round(cpus * 1e9) }),
      ...(memoryMb === undefined ? {} : { Memory: memoryMb * 1024 * 1024 }),
      ...(gpus === undefined || gpus === 0 ? {} : { DeviceRequests: [{ Driver: '', Count: gpus, Capabilities: [['gpu']] }] }),
    },
  };
}

/**
 * A one-shot swarm service for an experiment: one replica, restart condition none, placement from the spec
 * (`node` becomes `node.hostname==<node>`), the spec's stop grace period between SIGTERM and SIGKILL. Pure.
 */
export function serviceSpec(spec: ExperimentSpec): Dockerode.CreateServiceOptions {
  const { cpus, memoryMb, gpus } = spec.resources;
  const constraints = [...spec.placement.constraints];
  if (spec.placement.node !== undefined) constraints.push(`node.hostname==${spec.placement.node}`);
  return {
    Name: experimentJobName(spec.id),
    Labels: labels(spec),
    TaskTemplate: {
      ContainerSpec: {
        Image: spec.image,
        // compose's meaning, as for stack services: `command` replaces the image's CMD, not its ENTRYPOINT.
        ...(spec.command === undefined ? {} : { Args: spec.command }),
        Env: env(spec),
        Labels: labels(spec),
        ...(spec.workingDir === undefined ? {} : { Dir: spec.workingDir }),
        Mounts: mounts(spec),
        StopGracePeriod: spec.stopGraceSeconds * 1e9,
        CapabilityDrop: capabilities(spec).drop,
        ...(capabilities(spec).add.length === 0 ? {} : { CapabilityAdd: capabilities(spec).add }),
        // Honoured by engines of API 1.46 and later; older ones need `"no-new-privileges": true` in daemon.json.
        Privileges: { NoNewPrivileges: true } as Dockerode.Privileges,
      },
      RestartPolicy: { Condition: 'none' },
      Placement: { Constraints: constraints },
      Resources: {
        Limits: {
          ...(cpus === undefined ? {} : { NanoCPUs: Math.round(cpus * 1e9) }),
          ...(memoryMb === undefined ? {} : { MemoryBytes: memoryMb * 1024 * 1024 }),
        },
        ...(gpus === undefined || gpus === 0
          ? {}
          : // The Engine API nests it as DiscreteResourceSpec; dockerode's types flatten it.
            { Reservations: { GenericResources: [{ DiscreteResourceSpec: { Kind: 'gpu', Value: gpus } } as Dockerode.GenericResource] } }),
      },
    },
    Mode: { Replicated: { Replicas: 1 } },
  };
}
