import { z } from 'zod';
import {
  build,
  deployment,
  development,
  extraHosts,
  gpus,
  healthcheck,
  serviceConfigOrSecret,
  serviceHook,
  ulimits,
} from './schema-definitions';
import {
  bool,
  boolOrString,
  closed,
  command,
  driverOpts,
  int,
  intOrString,
  listOfStrings,
  listOrDict,
  NAME,
  NAME_HINT,
  num,
  numOrString,
  optional,
  patternRecord,
  str,
  stringArray,
  stringOrList,
  unique,
  withExtensions,
} from './schema-parts';

/**
 * The `service` definition of the Compose Specification (compose-spec `schema/compose-spec.json`), written out by
 * hand: the same keys, types and constraints, so that it accepts and refuses the same documents. Every key is
 * optional, as in the specification; what sciops supports or ignores is decided after validation.
 */

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const blkioLimit = closed(optional({ path: str, rate: intOrString }));
const blkioWeight = closed(optional({ path: str, weight: intOrString }));

const serviceNetworks = z.union([
  listOfStrings,
  patternRecord(
    NAME,
    z.union([
      withExtensions(
        optional({
          aliases: listOfStrings,
          interface_name: str,
          ipv4_address: str,
          ipv6_address: str,
          link_local_ips: listOfStrings,
          mac_address: str,
          driver_opts: driverOpts,
          priority: num,
          gw_priority: num,
        }),
      ),
      z.null(),
    ]),
    true,
    NAME_HINT,
  ),
]);

const ports = unique(
  z.array(
    z.union([
      num,
      str,
      withExtensions(
        optional({ name: str, mode: str, host_ip: str, target: intOrString, published: intOrString, protocol: str, app_protocol: str }),
      ),
    ]),
  ),
);

const serviceVolumes = unique(
  z.array(
    z.union([
      str,
      withExtensions({
        type: z.enum(['bind', 'volume', 'tmpfs', 'cluster', 'npipe', 'image']),
        ...optional({
          source: str,
          target: str,
          read_only: boolOrString,
          consistency: str,
          bind: withExtensions(
            optional({
              propagation: str,
              create_host_path: boolOrString,
              recursive: z.enum(['enabled', 'disabled', 'writable', 'readonly']),
              selinux: z.enum(['z', 'Z']),
            }),
          ),
          volume: withExtensions(optional({ labels: listOrDict, nocopy: boolOrString, subpath: str })),
          tmpfs: withExtensions(optional({ size: z.union([int.min(0), str]), mode: numOrString })),
          image: withExtensions(optional({ subpath: str })),
        }),
      }),
    ]),
  ),
);

const dependsOn = z.union([
  listOfStrings,
  patternRecord(
    NAME,
    withExtensions({
      condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']),
      ...optional({ restart: boolOrString, required: bool }),
    }),
    true,
    NAME_HINT,
  ),
]);

const envFile = z.union([str, z.array(z.union([str, closed({ path: str, ...optional({ format: str, required: boolOrString }) })]))]);

export const service = withExtensions(
  optional({
    develop: development,
    deploy: deployment,
    annotations: listOrDict,
    attach: boolOrString,
    build,
    blkio_config: closed(
      optional({
        device_read_bps: z.array(blkioLimit),
        device_read_iops: z.array(blkioLimit),
        device_write_bps: z.array(blkioLimit),
        device_write_iops: z.array(blkioLimit),
        weight: intOrString,
        weight_device: z.array(blkioWeight),
      }),
    ),
    cap_add: unique(stringArray),
    cap_drop: unique(stringArray),
    cgroup: z.enum(['host', 'private']),
    cgroup_parent: str,
    command,
    configs: serviceConfigOrSecret,
    container_name: z.string().regex(/[a-zA-Z0-9][a-zA-Z0-9_.-]+/),
    cpu_count: z.union([z.string(), int.min(0)]),
    cpu_percent: z.union([z.string(), int.min(0).max(100)]),
    cpu_shares: numOrString,
    cpu_quota: numOrString,
    cpu_period: numOrString,
    cpu_rt_period: numOrString,
    cpu_rt_runtime: numOrString,
    cpus: numOrString,
    cpuset: str,
    credential_spec: withExtensions(optional({ config: str, file: str, registry: str })),
    depends_on: dependsOn,
    device_cgroup_rules: listOfStrings,
    devices: z.array(z.union([str, withExtensions({ source: str, ...optional({ target: str, permissions: str }) })])),
    dns: stringOrList,
    dns_opt: unique(stringArray),
    dns_search: stringOrList,
    domainname: str,
    entrypoint: command,
    env_file: envFile,
    label_file: z.union([str, stringArray]),
    environment: listOrDict,
    expose: unique(z.array(z.union([z.string(), z.number()]))),
    extends: z.union([str, closed({ service: str, file: str.optional() })]),
    provider: withExtensions({
      type: str,
      options: patternRecord(/^.+$/, z.union([scalar, z.array(scalar)]), false).optional(),
    }),
    external_links: unique(stringArray),
    extra_hosts: extraHosts,
    gpus,
    group_add: unique(z.array(z.union([z.string(), z.number()]))),
    healthcheck,
    hostname: str,
    image: str,
    init: boolOrString,
    ipc: str,
    isolation: str,
    labels: listOrDict,
    links: unique(stringArray),
    logging: withExtensions(optional({ driver: str, options: patternRecord(/^.+$/, z.union([z.string(), z.number(), z.null()]), false) })),
    mac_address: str,
    mem_limit: numOrString,
    mem_reservation: intOrString,
    mem_swappiness: intOrString,
    memswap_limit: numOrString,
    network_mode: str,
    models: z.union([listOfStrings, patternRecord(NAME, withExtensions(optional({ endpoint_var: str, model_var: str })), false)]),
    networks: serviceNetworks,
    oom_kill_disable: boolOrString,
    oom_score_adj: z.union([z.string(), int.min(-1000).max(1000)]),
    pid: z.union([z.string(), z.null()]),
    pids_limit: numOrString,
    platform: str,
    ports,
    post_start: z.array(serviceHook),
    pre_stop: z.array(serviceHook),
    privileged: boolOrString,
    profiles: listOfStrings,
    pull_policy: z.string().regex(/always|never|build|if_not_present|missing|refresh|daily|weekly|every_([0-9]+[wdhms])+/),
    pull_refresh_after: str,
    read_only: boolOrString,
    restart: str,
    runtime: str,
    scale: intOrString,
    security_opt: unique(stringArray),
    shm_size: numOrString,
    secrets: serviceConfigOrSecret,
    sysctls: listOrDict,
    stdin_open: boolOrString,
    stop_grace_period: str,
    stop_signal: str,
    storage_opt: z.record(z.string(), z.unknown()),
    tmpfs: stringOrList,
    tty: boolOrString,
    ulimits,
    use_api_socket: bool,
    user: str,
    uts: str,
    userns_mode: str,
    volumes: serviceVolumes,
    volumes_from: unique(stringArray),
    working_dir: str,
  }),
);
