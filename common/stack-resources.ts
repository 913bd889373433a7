import { fingerprint } from './fingerprint';
import { IMAGE_LABEL, NAMESPACE_LABEL, SPEC_HASH_LABEL, STACK_LABEL } from './labels';
import { durationNanos } from './spec-fields';
import { type MountSpec, type NetworkSpec, resourceName, type ServiceSpec, swarmName, type VolumeSpec } from './stack';

/**
 * What Docker objects a stack spec becomes, as docker/cli's compose converter makes them (so that
 * `docker service inspect` shows the same spec for `sciops deploy` and `docker stack deploy`), each
 * labelled with its stack (sciops' label and docker's namespace label) and the fingerprint of its own
 * definition. Pure: the workflow plans with them, the activities create them.
 */
function labelled<T extends { Labels: Record<string, string> }>(
  stack: string,
  body: T,
): Omit<T, 'Labels'> & { Labels: Record<string, string> } {
  const Labels = { ...body.Labels, [STACK_LABEL]: stack };
  return { ...body, Labels: { ...Labels, [SPEC_HASH_LABEL]: fingerprint({ ...body, Labels }) } };
}

/** Labels with docker's stack namespace added, as `docker stack deploy` labels everything it makes. */
export function namespaced(stack: string, labels: Readonly<Record<string, string>>): Record<string, string> {
  return { ...labels, [NAMESPACE_LABEL]: stack };
}

export function volumeRequest(stack: string, v: VolumeSpec) {
  return labelled(stack, {
    Name: swarmName(stack, v),
    ...(v.driver === undefined ? {} : { Driver: v.driver }),
    ...(v.driverOpts === undefined ? {} : { DriverOpts: v.driverOpts }),
    Labels: namespaced(stack, v.labels),
  });
}

export function networkRequest(stack: string, n: NetworkSpec) {
  return labelled(stack, {
    Name: swarmName(stack, n),
    Driver: n.driver,
    ...(n.driverOpts === undefined ? {} : { Options: n.driverOpts }),
    Internal: n.internal,
    Attachable: n.attachable,
    CheckDuplicate: true,
    ...(n.ipam === undefined
      ? {}
      : {
          IPAM: {
            ...(n.ipam.driver === undefined ? {} : { Driver: n.ipam.driver }),
            Config: n.ipam.config.map((c) => ({
              Subnet: c.subnet,
              ...(c.gateway === undefined ? {} : { Gateway: c.gateway }),
              ...(c.ipRange === undefined ? {} : { IPRange: c.ipRange }),
            })),
          },
        }),
    Labels: namespaced(stack, n.labels),
  });
}

/** A secret or config as a service refers to it: its swarm name and id (never its value). */
export interface ObjectRef {
  readonly name: string;
  readonly dockerName: string;
  readonly id: string;
}
export type SecretRef = ObjectRef;

/** What the service request needs to know of the stack besides the service: how its objects are named and found. */
export interface ServiceContext {
  readonly volumes: readonly VolumeSpec[];
  readonly networks: readonly NetworkSpec[];
  readonly secrets: Readonly<Record<string, ObjectRef>>;
  readonly configs: Readonly<Record<string, ObjectRef>>;
}

const only = <K extends string, V>(key: K, value: V | undefined, keep = value !== undefined) =>
  (keep ? { [key]: value } : {}) as Partial<Record<K, V>>;

function mount(stack: string, m: MountSpec, volumes: readonly VolumeSpec[]) {
  const base = { Type: m.type, Target: m.target, ...only('ReadOnly', true, m.readOnly), ...only('Consistency', m.consistency) };
  if (m.type === 'bind')
    return { ...base, Source: m.source, ...only('BindOptions', { Propagation: m.propagation }, m.propagation !== undefined) };
  if (m.type === 'tmpfs') {
    const options = { ...only('SizeBytes', m.tmpfsSize), ...only('Mode', m.tmpfsMode) };
    return { ...base, ...only('TmpfsOptions', options, Object.keys(options).length > 0) };
  }
  if (m.source === undefined) return base;
  const volume = volumes.find((v) => v.name === m.source) as VolumeSpec;
  const options = { ...only('NoCopy', true, m.nocopy === true), ...only('Subpath', m.subpath) };
  if (volume.external) return { ...base, Source: swarmName(stack, volume), VolumeOptions: options };
  const driven = volume.driver !== undefined || volume.driverOpts !== undefined;
  return {
    ...base,
    Source: swarmName(stack, volume),
    VolumeOptions: {
      ...options,
      // The engine creates the volume with these labels on a node where it does not exist yet.
      Labels: { ...namespaced(stack, volume.labels), [STACK_LABEL]: stack },
      ...only('DriverConfig', { Name: volume.driver ?? '', ...only('Options', volume.driverOpts) }, driven),
    },
  };
}

/** compose's cap_add/cap_drop as docker normalises them: upper case, CAP_ prefixed, ALL wins, sorted. */
export function capabilities(add: readonly string[], drop: readonly string[]): { add: string[]; drop: string[] } {
  const norm = (c: string) => {
    const up = c.trim().toUpperCase();
    return up === 'ALL' || up === 'RESET' || up.startsWith('CAP_') ? up : `CAP_${up}`;
  };
  let adds = new Set(add.map(norm));
  let drops = new Set(drop.map(norm));
  if (adds.has('ALL')) adds = new Set(['ALL']);
  if (drops.has('ALL')) drops = new Set(['ALL']);
  return {
    add: [...adds].filter((c) => c !== 'RESET').sort(),
    drop: [...drops].filter((c) => !adds.has(c) && c !== 'RESET').sort(),
  };
}

/**
 * A service's secrets or configs as the swarm mounts them: the file (target, default the name; owner; mode) and
 * the object's id and swarm name, sorted by name as docker sorts them (so order changes restart nothing).
 */
function references(refs: ServiceSpec['secrets'], objects: Readonly<Record<string, ObjectRef>>) {
  return refs
    .map((r) => ({
      File: { Name: r.target ?? r.source, UID: r.uid, GID: r.gid, Mode: r.mode },
      id: objects[r.source]?.id ?? '',
      name: objects[r.source]?.dockerName ?? '',
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function healthcheck(h: NonNullable<ServiceSpec['healthcheck']>) {
  if (h.disable) return { Test: ['NONE'] };
  const ns = (d: string | undefined) => (d === undefined || durationNanos(d) === 0 ? undefined : durationNanos(d));
  return {
    ...only('Test', h.test),
    ...only('Interval', ns(h.interval)),
    ...only('Timeout', ns(h.timeout)),
    ...only('Retries', h.retries, (h.retries ?? 0) > 0),
    ...only('StartPeriod', ns(h.startPeriod)),
    ...only('StartInterval', ns(h.startInterval)),
  };
}

function updateConfig(u: ServiceSpec['update'] | ServiceSpec['rollback']) {
  if (u === undefined) return undefined;
  const ns = u.delay === undefined ? 0 : durationNanos(u.delay);
  return {
    Parallelism: u.parallelism,
    ...only('Delay', ns, ns > 0),
    ...only('FailureAction', u.failureAction),
    ...only(
      'Monitor',
      u.monitor === undefined ? undefined : durationNanos(u.monitor),
      u.monitor !== undefined && durationNanos(u.monitor) > 0,
    ),
    ...only('MaxFailureRatio', u.maxFailureRatio, (u.maxFailureRatio ?? 0) > 0),
    ...only('Order', u.order),
  };
}

function resources(r: ServiceSpec['resources']) {
  const cpus = (c: number | undefined) => (c === undefined ? undefined : Math.round(c * 1e9));
  const { limits, reservations } = r;
  return {
    ...only(
      'Limits',
      limits === undefined
        ? undefined
        : { ...only('NanoCPUs', cpus(limits.cpus)), ...only('MemoryBytes', limits.memory), ...only('Pids', limits.pids) },
    ),
    ...only(
      'Reservations',
      reservations === undefined
        ? undefined
        : {
            ...only('NanoCPUs', cpus(reservations.cpus)),
            ...only('MemoryBytes', reservations.memory),
            ...only(
              'GenericResources',
              reservations.genericResources.map((g) => ({ DiscreteResourceSpec: { Kind: g.kind, Value: g.value } })),
              reservations.genericResources.length > 0,
            ),
          },
    ),
  };
}

function restartPolicy(p: NonNullable<ServiceSpec['restartPolicy']>) {
  return {
    Condition: p.condition,
    ...only('Delay', p.delay === undefined ? undefined : durationNanos(p.delay)),
    ...only('MaxAttempts', p.maxAttempts),
    ...only('Window', p.window === undefined ? undefined : durationNanos(p.window)),
  };
}

const byTarget = (a: { Target: string }, b: { Target: string }) => (a.Target < b.Target ? -1 : a.Target > b.Target ? 1 : 0);

export function serviceRequest(stack: string, s: ServiceSpec, context: ServiceContext) {
  const caps = capabilities(s.capAdd, s.capDrop);
  const networkName = (name: string) => {
    const n = context.networks.find((x) => x.name === name);
    return n === undefined ? resourceName(stack, name) : swarmName(stack, n);
  };
  const env = Object.entries(s.env)
    .map(([k, v]) => (v === null ? k : `${k}=${v}`))
    .sort();
  return labelled(stack, {
    Name: resourceName(stack, s.name),
    Labels: { ...namespaced(stack, s.labels), [IMAGE_LABEL]: s.image },
    TaskTemplate: {
      ContainerSpec: {
        Image: s.image,
        ...only('Command', s.entrypoint),
        ...only('Args', s.command),
        ...only('Hostname', s.hostname),
        ...only(
          'Hosts',
          s.extraHosts.map((h) => `${h.slice(h.indexOf(':') + 1)} ${h.slice(0, h.indexOf(':'))}`),
          s.extraHosts.length > 0,
        ),
        ...only('DNSConfig', { Nameservers: s.dns, Search: s.dnsSearch }, s.dns.length > 0 || s.dnsSearch.length > 0),
        ...only('Healthcheck', s.healthcheck === undefined ? undefined : healthcheck(s.healthcheck)),
        ...only('Env', env, env.length > 0),
        Labels: namespaced(stack, s.containerLabels),
        ...only('Dir', s.workingDir),
        ...only('User', s.user),
        Mounts: s.volumes.map((m) => mount(stack, m, context.volumes)),
        ...only('StopGracePeriod', s.stopGracePeriod === undefined ? undefined : durationNanos(s.stopGracePeriod)),
        ...only('StopSignal', s.stopSignal),
        ...only('TTY', true, s.tty),
        ...only('OpenStdin', true, s.stdinOpen),
        Secrets: references(s.secrets, context.secrets).map(({ File, id, name }) => ({ File, SecretID: id, SecretName: name })),
        Configs: references(s.configs, context.configs).map(({ File, id, name }) => ({ File, ConfigID: id, ConfigName: name })),
        ...only('ReadOnly', true, s.readOnly),
        // docker's converter always sends the (empty) privileges; the swarm keeps them as given.
        Privileges: {},
        ...only('Init', s.init),
        ...only('Sysctls', s.sysctls, Object.keys(s.sysctls).length > 0),
        ...only('CapabilityAdd', caps.add, caps.add.length > 0),
        ...only('CapabilityDrop', caps.drop, caps.drop.length > 0),
        ...only(
          'Ulimits',
          Object.entries(s.ulimits)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([Name, u]) => ({ Name, Soft: u.soft, Hard: u.hard })),
          Object.keys(s.ulimits).length > 0,
        ),
      },
      ...only('LogDriver', s.logging === undefined ? undefined : { Name: s.logging.driver, Options: s.logging.options }),
      Resources: resources(s.resources),
      ...only('RestartPolicy', s.restartPolicy === undefined ? undefined : restartPolicy(s.restartPolicy)),
      Placement: {
        ...only('Constraints', s.constraints, s.constraints.length > 0),
        ...only(
          'Preferences',
          s.preferences.map((p) => ({ Spread: { SpreadDescriptor: p } })),
          s.preferences.length > 0,
        ),
        ...only('MaxReplicas', s.maxReplicasPerNode),
      },
      Networks: s.networks
        .map((n) => ({ Target: networkName(n.name), Aliases: [...n.aliases, s.name], ...only('DriverOpts', n.driverOpts) }))
        .sort(byTarget),
    },
    Mode: s.mode === 'global' ? { Global: {} } : { Replicated: { Replicas: s.replicas ?? 1 } },
    ...only('UpdateConfig', updateConfig(s.update)),
    ...only('RollbackConfig', updateConfig(s.rollback)),
    EndpointSpec: {
      ...only('Mode', s.endpointMode),
      Ports: s.ports
        .map((p) => ({ Protocol: p.protocol, TargetPort: p.target, ...only('PublishedPort', p.published), PublishMode: p.mode }))
        .sort((a, b) => (a.PublishedPort ?? 0) - (b.PublishedPort ?? 0)),
    },
  });
}

export type ServiceRequest = ReturnType<typeof serviceRequest>;
