import { createHash } from 'node:crypto';
import type { ContainerProperties, KeyValuePair, ResourceRequirement } from '@aws-sdk/client-batch';
import type { ExperimentSpec } from '../../common/experiment';

/** Batch job definition name of an experiment type: one definition per type, one revision per distinct setup. */
export function jobDefinitionName(spec: ExperimentSpec): string {
  return `sciops-${spec.type.replace(/_/g, '-')}`;
}

/**
 * The container properties of an experiment's job definition: image, working directory and EFS volumes.
 * What varies per experiment (command, environment, resources) goes in the job's overrides instead, so
 * experiments of one type share a revision. Pure.
 */
export function containerProperties(spec: ExperimentSpec): ContainerProperties {
  const efs = spec.batch?.efsVolumes ?? [];
  return {
    image: spec.image,
    resourceRequirements: [
      { type: 'VCPU', value: '1' },
      { type: 'MEMORY', value: '512' },
    ],
    ...(efs.length === 0
      ? {}
      : {
          volumes: efs.map((v) => ({
            name: v.name,
            efsVolumeConfiguration: {
              fileSystemId: v.fileSystemId,
              ...(v.rootDirectory === undefined ? {} : { rootDirectory: v.rootDirectory }),
              transitEncryption: 'ENABLED',
              ...(v.accessPointId === undefined ? {} : { authorizationConfig: { accessPointId: v.accessPointId, iam: 'DISABLED' } }),
            },
          })),
          mountPoints: efs.map((v) => ({ sourceVolume: v.name, containerPath: v.containerPath, readOnly: v.readOnly })),
        }),
  };
}

/** A stable fingerprint of container properties, compared with SPEC_HASH_LABEL to reuse a revision. */
export function propertiesHash(properties: ContainerProperties): string {
  return createHash('sha256').update(JSON.stringify(properties)).digest('hex').slice(0, 16);
}

/** The per-experiment part of a job: command, environment, resources. Pure. */
export function containerOverrides(spec: ExperimentSpec): {
  command?: string[];
  environment: KeyValuePair[];
  resourceRequirements: ResourceRequirement[];
} {
  const { cpus, memoryMb, gpus } = spec.resources;
  const resourceRequirements: ResourceRequirement[] = [];
  if (cpus !== undefined) resourceRequirements.push({ type: 'VCPU', value: String(cpus) });
  if (memoryMb !== undefined) resourceRequirements.push({ type: 'MEMORY', value: String(memoryMb) });
  if (gpus !== undefined && gpus > 0) resourceRequirements.push({ type: 'GPU', value: String(gpus) });
  return {
    ...(spec.command === undefined ? {} : { command: spec.command }),
    environment: Object.entries(spec.env).map(([name, value]) => ({ name, value })),
    resourceRequirements,
  };
}

/** Back-off between DescribeJobs polls: 1 s, growing by half each time, at most 15 s. Pure. */
export function pollDelayMs(poll: number): number {
  return Math.min(15_000, Math.round(1000 * 1.5 ** poll));
}
