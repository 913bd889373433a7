import { fingerprint } from './fingerprint';
import {
  type NetworkSpec,
  resourceName,
  runnerDescription,
  type ServiceSpec,
  SPEC_HASH_LABEL,
  STACK_LABEL,
  type StackSpec,
  type VolumeSpec,
} from './stack';
import { type SwarmView, swarmActions } from './stack-swarm';

/**
 * What Docker objects a stack spec becomes, each labelled with its stack and the fingerprint of its own
 * definition. Pure: the workflow plans with them, the activities create them.
 */
function labelled<T extends { Labels: Record<string, string> }>(stack: string, body: T): T {
  const Labels = { ...body.Labels, [STACK_LABEL]: stack };
  return { ...body, Labels: { ...Labels, [SPEC_HASH_LABEL]: fingerprint({ ...body, Labels }) } };
}

export function volumeRequest(stack: string, v: VolumeSpec) {
  return labelled(stack, { Name: resourceName(stack, v.name), Driver: v.driver, DriverOpts: v.driverOpts, Labels: v.labels });
}

export function networkRequest(stack: string, n: NetworkSpec) {
  return labelled(stack, {
    Name: resourceName(stack, n.name),
    Driver: 'overlay',
    Attachable: n.attachable,
    CheckDuplicate: true,
    IPAM: {
      Driver: 'default',
      Config: n.subnet === undefined ? [] : [{ Subnet: n.subnet, ...(n.gateway === undefined ? {} : { Gateway: n.gateway }) }],
    },
    Labels: n.labels,
  });
}

/** A secret as a service mounts it: its versioned swarm name and id (never its value). */
export interface SecretRef {
  readonly name: string;
  readonly dockerName: string;
  readonly id: string;
}

export function serviceRequest(stack: string, s: ServiceSpec, secrets: Readonly<Record<string, SecretRef>>) {
  return labelled(stack, {
    Name: resourceName(stack, s.name),
    TaskTemplate: {
      ContainerSpec: {
        Image: s.image,
        ...(s.command === undefined ? {} : { Command: s.command }),
        Env: Object.entries(s.env).map(([k, v]) => `${k}=${v}`),
        Mounts: s.volumes.map((v) => ({ Type: 'volume', Source: resourceName(stack, v.source), Target: v.target, ReadOnly: v.readOnly })),
        Secrets: s.secrets.map((name) => ({
          SecretID: secrets[name]?.id ?? '',
          SecretName: secrets[name]?.dockerName ?? '',
          File: { Name: name, UID: '0', GID: '0', Mode: 0o400 },
        })),
        Labels: { [STACK_LABEL]: stack },
      },
      Networks: s.networks.map((n) => ({ Target: resourceName(stack, n), Aliases: [s.name] })),
      Placement: { Constraints: s.constraints },
      Resources: {
        Limits: {
          ...(s.resources.cpus === undefined ? {} : { NanoCPUs: Math.round(s.resources.cpus * 1e9) }),
          ...(s.resources.memoryMb === undefined ? {} : { MemoryBytes: s.resources.memoryMb * 1024 * 1024 }),
        },
      },
      RestartPolicy: { Condition: 'any', MaxAttempts: 0 },
    },
    Mode: { Replicated: { Replicas: s.replicas } },
    UpdateConfig: updateConfig(s.update),
    RollbackConfig: updateConfig(s.rollback),
    EndpointSpec: { Ports: s.ports.map((p) => ({ Protocol: p.protocol, TargetPort: p.target, PublishedPort: p.published })) },
    Labels: s.labels,
  });
}

function updateConfig(u: ServiceSpec['update'] | ServiceSpec['rollback']) {
  return { Parallelism: u.parallelism, Delay: u.delaySeconds * 1e9, FailureAction: u.failureAction, Order: u.order };
}

export type ResourceKind = 'swarm' | 'node' | 'volume' | 'network' | 'secret' | 'service' | 'runner';

/** One resource as found on the swarm: its name, its spec-hash label, and (volumes) its node. */
export interface Observed {
  readonly kind: ResourceKind;
  readonly name: string;
  readonly hash?: string;
  readonly node?: string;
  /** Secrets: the swarm's id (which services refer to), the secret's name in the spec, and its version. */
  readonly id?: string;
  readonly secret?: string;
  readonly version?: number;
}

export interface PlannedChange {
  readonly kind: ResourceKind;
  /** The name in the spec (not prefixed with the stack). */
  readonly name: string;
  readonly change: 'create' | 'update' | 'unchanged';
  readonly node?: string;
}

export interface StackPlan {
  readonly changes: readonly PlannedChange[];
  /** What makes the spec undeployable here, each naming the field: nothing may be touched. */
  readonly problems: readonly string[];
}

/**
 * Compares the spec with what the swarm holds. The swarm itself first (init, nodes to join, node labels: see
 * swarmActions). Volumes and networks cannot be changed in place, so a
 * different one under the same name is a problem, not an update; services update; secrets are created when
 * missing (their content is compared inside the activity that holds it). Every volume's node is resolved
 * (the manager's hostname where the spec names none). Pure.
 */
export function planStack(
  spec: Omit<StackSpec, 'volumes'> & { volumes: Array<VolumeSpec & { node: string }> },
  swarm: SwarmView,
  observed: readonly Observed[],
): StackPlan {
  const actions = swarmActions(spec.swarm, swarm);
  const changes: PlannedChange[] = [...actions.changes];
  const problems: string[] = [...actions.problems];
  const nodes = actions.nodes;
  const find = (kind: ResourceKind, name: string, node?: string) =>
    observed.find((o) => o.kind === kind && o.name === resourceName(spec.name, name) && (node === undefined || o.node === node));

  spec.volumes.forEach((v, i) => {
    if (!nodes.includes(v.node)) {
      problems.push(`volumes[${i}].node: no node "${v.node}" in the swarm (nodes: ${nodes.join(', ')})`);
      return;
    }
    const found = find('volume', v.name, v.node);
    const hash = volumeRequest(spec.name, v).Labels[SPEC_HASH_LABEL];
    if (found !== undefined && found.hash !== hash) {
      problems.push(
        `volumes[${i}]: volume ${resourceName(spec.name, v.name)} on ${v.node} exists with other options; volumes are never changed in place`,
      );
    }
    changes.push({ kind: 'volume', name: v.name, node: v.node, change: found === undefined ? 'create' : 'unchanged' });
  });
  spec.networks.forEach((n, i) => {
    const found = find('network', n.name);
    const hash = networkRequest(spec.name, n).Labels[SPEC_HASH_LABEL];
    if (found !== undefined && found.hash !== hash) {
      problems.push(
        `networks[${i}]: network ${resourceName(spec.name, n.name)} exists with other options; remove the stack's services and the network first (sciops teardown)`,
      );
    }
    changes.push({ kind: 'network', name: n.name, change: found === undefined ? 'create' : 'unchanged' });
  });
  const refs: Record<string, SecretRef> = {};
  for (const s of spec.secrets) {
    // The newest version is the one services use.
    const found = observed.filter((o) => o.kind === 'secret' && o.secret === s.name).sort((a, b) => (b.version ?? 1) - (a.version ?? 1))[0];
    if (found?.id !== undefined) refs[s.name] = { name: s.name, dockerName: found.name, id: found.id };
    changes.push({ kind: 'secret', name: s.name, change: found === undefined ? 'create' : 'unchanged' });
  }
  for (const s of spec.services) {
    const found = find('service', s.name);
    const hash = serviceRequest(spec.name, s, refs).Labels[SPEC_HASH_LABEL];
    changes.push({ kind: 'service', name: s.name, change: found === undefined ? 'create' : found.hash === hash ? 'unchanged' : 'update' });
  }
  // Runners GitLab has are unchanged unless their container lost its registration (seen only when deploying).
  for (const r of spec.runners) {
    const found = observed.some((o) => o.kind === 'runner' && o.name === runnerDescription(spec.name, r.name));
    changes.push({ kind: 'runner', name: r.name, change: found ? 'unchanged' : 'create' });
  }
  return { changes, problems };
}
