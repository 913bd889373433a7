import type { z } from 'zod';
import type { stackSpecSchema } from '../stack';
import type { ComposeDeploy, ComposeFileObject, ComposeModel, ComposeService, ComposeUpdateConfig } from './model';

/** A stack spec as the deploy workflow takes it (before defaults): what `sciops stack convert` prints. */
export type StackInput = z.input<typeof stackSpecSchema>;
type ServiceInput = NonNullable<StackInput['services']>[number];

/** The network a service without `networks` joins, as docker stack deploy names it: `<stack>_default`. */
const DEFAULT_NETWORK = 'default';

const defined = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

/**
 * A loaded compose model as a sciops stack spec, with the meaning docker/cli's converter gives each key
 * (`command` is the image's CMD, `entrypoint` its ENTRYPOINT, `restart` the fallback restart policy...).
 * Only the networks some service uses are part of the stack (docker creates no others); every top-level
 * secret and config is. Pure; the result is validated by the stack schema like any other spec.
 */
export function composeToStack(model: ComposeModel, stack: string): StackInput {
  const services = Object.entries(model.services).map(([name, s]) => service(name, s));
  const used = new Set(
    Object.values(model.services).flatMap((s) => (Object.keys(s.networks).length > 0 ? Object.keys(s.networks) : [DEFAULT_NETWORK])),
  );
  const networks = [...used].map((name) => {
    const n = model.networks[name];
    if (n === undefined) return { name, driver: 'overlay', attachable: false };
    return defined({
      name,
      dockerName: n.name,
      external: n.external,
      ...(n.external
        ? {}
        : {
            driver: n.driver ?? 'overlay',
            driverOpts: n.driver_opts,
            attachable: n.attachable,
            internal: n.internal,
            labels: { ...n.labels },
            ipam:
              n.ipam === undefined
                ? undefined
                : defined({
                    driver: n.ipam.driver,
                    config: n.ipam.config.flatMap((c) =>
                      c.subnet === undefined ? [] : [defined({ subnet: c.subnet, gateway: c.gateway, ipRange: c.ip_range })],
                    ),
                  }),
          }),
    });
  });
  return {
    name: stack,
    volumes: Object.entries(model.volumes).map(([name, v]) =>
      defined({
        name,
        dockerName: v.name,
        external: v.external,
        ...(v.external ? {} : { driver: v.driver, driverOpts: v.driver_opts, labels: { ...v.labels } }),
      }),
    ),
    networks,
    secrets: Object.entries(model.secrets).map(([name, s]) => defined({ ...fileObject(name, s), env: s.environment })),
    configs: Object.entries(model.configs).map(([name, c]) => defined({ ...fileObject(name, c), content: c.content, env: c.environment })),
    services,
  };
}

function fileObject(name: string, o: ComposeFileObject) {
  return defined({
    name,
    dockerName: o.name,
    external: o.external,
    file: o.file,
    templateDriver: o.template_driver,
    labels: o.external ? undefined : { ...o.labels },
  });
}

function service(name: string, s: ComposeService): ServiceInput {
  const d = s.deploy;
  const networks = Object.entries(s.networks).map(([network, n]) =>
    defined({ name: network, aliases: n.aliases.length > 0 ? [...n.aliases] : undefined, driverOpts: n.driver_opts }),
  );
  return defined({
    name,
    image: s.image,
    command: s.command === undefined ? undefined : [...s.command],
    entrypoint: s.entrypoint === undefined ? undefined : [...s.entrypoint],
    env: { ...s.environment },
    labels: { ...d.labels },
    containerLabels: { ...s.labels },
    secrets: s.secrets.map((r) => defined({ ...r })),
    configs: s.configs.map((r) => defined({ ...r })),
    volumes: s.volumes.map((v) =>
      defined({
        type: v.type,
        source: v.source,
        target: v.target,
        readOnly: v.read_only,
        consistency: v.consistency,
        propagation: v.bind?.propagation as 'rprivate' | undefined,
        nocopy: v.volume?.nocopy,
        subpath: v.volume?.subpath,
        tmpfsSize: v.tmpfs?.size,
        tmpfsMode: v.tmpfs?.mode,
      }),
    ),
    networks: networks.length > 0 ? networks : [{ name: DEFAULT_NETWORK }],
    ports: s.ports.map((p) => defined({ published: p.published, target: p.target, protocol: p.protocol, mode: p.mode })),
    mode: d.mode,
    replicas: d.mode === 'global' ? undefined : d.replicas,
    constraints: [...d.placement.constraints],
    preferences: d.placement.preferences.map((p) => p.spread),
    maxReplicasPerNode: d.placement.max_replicas_per_node,
    resources: resources(d),
    restartPolicy: restartPolicy(d, s.restart),
    update: updateConfig(d.update_config),
    rollback: updateConfig(d.rollback_config) as ServiceInput['rollback'],
    endpointMode: d.endpoint_mode,
    healthcheck:
      s.healthcheck === undefined
        ? undefined
        : defined({
            test: s.healthcheck.test === undefined ? undefined : [...s.healthcheck.test],
            interval: s.healthcheck.interval,
            timeout: s.healthcheck.timeout,
            retries: s.healthcheck.retries,
            startPeriod: s.healthcheck.start_period,
            startInterval: s.healthcheck.start_interval,
            disable: s.healthcheck.disable,
          }),
    stopGracePeriod: s.stop_grace_period,
    stopSignal: s.stop_signal,
    hostname: s.hostname,
    user: s.user,
    workingDir: s.working_dir,
    init: s.init,
    capAdd: [...s.cap_add],
    capDrop: [...s.cap_drop],
    sysctls: { ...s.sysctls },
    ulimits: Object.fromEntries(Object.entries(s.ulimits).map(([k, u]) => [k, { soft: u.soft, hard: u.hard }])),
    extraHosts: [...s.extra_hosts],
    dns: [...s.dns],
    dnsSearch: [...s.dns_search],
    logging:
      s.logging === undefined || s.logging.driver === undefined
        ? undefined
        : { driver: s.logging.driver, options: { ...s.logging.options } },
    readOnly: s.read_only,
    tty: s.tty,
    stdinOpen: s.stdin_open,
  });
}

function resources(d: ComposeDeploy): ServiceInput['resources'] {
  const { limits, reservations } = d.resources;
  return defined({
    limits: limits === undefined ? undefined : defined({ cpus: limits.cpus, memory: limits.memory, pids: limits.pids }),
    reservations:
      reservations === undefined
        ? undefined
        : defined({
            cpus: reservations.cpus,
            memory: reservations.memory,
            genericResources: reservations.generic_resources.map((g) => ({
              kind: g.discrete_resource_spec.kind,
              value: g.discrete_resource_spec.value,
            })),
          }),
  });
}

/**
 * deploy.restart_policy, else the legacy `restart` key as docker falls back to it: `always` and
 * `unless-stopped` restart on any exit, `on-failure[:N]` on failure (at most N times), `no` is no policy.
 */
export function restartPolicy(d: ComposeDeploy, restart: string | undefined): ServiceInput['restartPolicy'] {
  const p = d.restart_policy;
  if (p !== undefined) return defined({ condition: p.condition ?? 'any', delay: p.delay, maxAttempts: p.max_attempts, window: p.window });
  if (restart === undefined || restart === '' || restart === 'no') return undefined;
  const [policy, count] = restart.split(':');
  const maxAttempts = count === undefined || Number(count) <= 0 ? undefined : Number(count);
  if (policy === 'on-failure') return defined({ condition: 'on-failure' as const, maxAttempts });
  return defined({ condition: 'any' as const, maxAttempts });
}

function updateConfig(u: ComposeUpdateConfig | undefined): ServiceInput['update'] {
  if (u === undefined) return undefined;
  return defined({
    parallelism: u.parallelism ?? 1,
    delay: u.delay,
    failureAction: u.failure_action,
    monitor: u.monitor,
    maxFailureRatio: u.max_failure_ratio,
    order: u.order,
  });
}
