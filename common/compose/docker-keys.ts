import { fieldPath } from '../validate';
import type { Issues, KeyPath } from './issues';
import type { IgnoredKey } from './model';
import type { YamlSource } from './yaml-source';

/**
 * The keys `docker stack deploy` ignores, warns about or refuses (docker/cli `cli/compose/types/types.go`), and the
 * Compose Specification keys it does not know. Checked on each file as written, before interpolation, as docker does.
 */

/** docker's `UnsupportedProperties` ("Ignoring unsupported options"). `restart` is also carried: the converter falls back to it. */
export const UNSUPPORTED = [
  'build',
  'cgroupns_mode',
  'cgroup_parent',
  'devices',
  'domainname',
  'external_links',
  'ipc',
  'links',
  'mac_address',
  'network_mode',
  'pid',
  'privileged',
  'restart',
  'security_opt',
  'shm_size',
  'userns_mode',
];

/** docker's `DeprecatedProperties` ("Ignoring deprecated options"), with its reasons. */
export const DEPRECATED: Readonly<Record<string, string>> = {
  container_name: 'Setting the container name is not supported.',
  expose: "Exposing ports is unnecessary - services on the same network can access each other's containers on any port.",
};

/** docker's `ForbiddenProperties`: docker refuses the file, with these reasons. */
export const FORBIDDEN: Readonly<Record<string, string>> = {
  extends: 'Support for `extends` is not implemented yet.',
  volume_driver:
    'Instead of setting the volume driver on the service, define a volume using the top-level `volumes` option and specify the driver there.',
  volumes_from:
    'To share a volume between services, define it using the top-level `volumes` option and reference it from each service that shares it using the service-level `volumes` option.',
  cpu_quota: 'Set resource limits using deploy.resources',
  cpu_shares: 'Set resource limits using deploy.resources',
  cpuset: 'Set resource limits using deploy.resources',
  mem_limit: 'Set resource limits using deploy.resources',
  memswap_limit: 'Set resource limits using deploy.resources',
};

/** Keys docker's swarm converter applies that the sciops model has no field for: refused rather than dropped. */
export const NOT_CARRIED: Readonly<Record<string, string>> = {
  credential_spec: 'a Windows credential spec',
  isolation: 'a Windows isolation technology',
  oom_score_adj: 'an OOM score adjustment',
};

/** Service keys docker's loader reads but its converter never uses. */
const UNUSED_BY_CONVERTER = ['depends_on', 'tmpfs'];

/** Compose Specification service keys docker stack deploy does not know at all. */
const UNKNOWN_TO_DOCKER = [
  'annotations',
  'attach',
  'blkio_config',
  'cgroup',
  'cpu_count',
  'cpu_percent',
  'cpu_period',
  'cpu_rt_period',
  'cpu_rt_runtime',
  'cpus',
  'develop',
  'device_cgroup_rules',
  'dns_opt',
  'gpus',
  'group_add',
  'label_file',
  'mem_reservation',
  'mem_swappiness',
  'models',
  'oom_kill_disable',
  'pids_limit',
  'platform',
  'post_start',
  'pre_stop',
  'profiles',
  'provider',
  'pull_policy',
  'pull_refresh_after',
  'runtime',
  'scale',
  'storage_opt',
  'use_api_socket',
  'uts',
];

const IGNORED_SERVICE_KEYS = new Set([...UNSUPPORTED, ...UNUSED_BY_CONVERTER, ...UNKNOWN_TO_DOCKER]);

/** Keys below a service that neither docker's converter nor sciops uses (`*`: any key, `[]`: any list item). */
const IGNORED_NESTED: readonly (readonly string[])[] = [
  ...['ipv4_address', 'ipv6_address', 'interface_name', 'link_local_ips', 'mac_address', 'priority', 'gw_priority'].map((k) => [
    'networks',
    '*',
    k,
  ]),
  ['ports', '[]', 'name'],
  ['ports', '[]', 'app_protocol'],
  ['volumes', '[]', 'bind', 'recursive'],
  ['volumes', '[]', 'bind', 'selinux'],
  ['volumes', '[]', 'volume', 'labels'],
  ['deploy', 'resources', 'reservations', 'devices'],
  ['env_file', '[]', 'format'],
];

/** Top-level keys docker stack deploy does not use: the stack name comes from the deploy command. */
const IGNORED_TOP: readonly (readonly string[])[] = [
  ['name'],
  ['models'],
  ['networks', '*', 'enable_ipv4'],
  ['networks', '*', 'enable_ipv6'],
  ['networks', '*', 'ipam', 'options'],
  ['networks', '*', 'ipam', 'config', '[]', 'aux_addresses'],
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The key paths in `value` matching `pattern`. */
function matches(value: unknown, pattern: readonly string[], prefix: KeyPath): KeyPath[] {
  if (pattern.length === 0) return [prefix];
  const [head, ...rest] = pattern as [string, ...string[]];
  if (head === '[]') return Array.isArray(value) ? value.flatMap((item, i) => matches(item, rest, [...prefix, i])) : [];
  if (!isRecord(value)) return [];
  if (head === '*') return Object.entries(value).flatMap(([k, item]) => matches(item, rest, [...prefix, k]));
  return Object.hasOwn(value, head) ? matches(value[head], rest, [...prefix, head]) : [];
}

/**
 * The ignored keys of one file (each with its line), and the forbidden or uncarried keys reported as issues.
 * Keys outside any service are reported with `service: ''` and their full path as `key`.
 */
export function checkKeys(source: YamlSource, issues: Issues, refused: (path: KeyPath) => void = () => {}): IgnoredKey[] {
  const ignored: IgnoredKey[] = [];
  const doc = source.value;
  if (!isRecord(doc)) return ignored;
  const add = (service: string, key: string, path: KeyPath, why: IgnoredKey['why']) =>
    ignored.push({ service, key, why, file: source.name, line: source.where(path).line });
  const services = isRecord(doc.services) ? doc.services : {};
  for (const [name, service] of Object.entries(services)) {
    if (!isRecord(service)) continue;
    const path: KeyPath = ['services', name];
    for (const key of Object.keys(service)) {
      if (IGNORED_SERVICE_KEYS.has(key)) add(name, key, [...path, key], 'unsupported');
      else if (Object.hasOwn(DEPRECATED, key)) add(name, key, [...path, key], 'deprecated');
      else if (Object.hasOwn(FORBIDDEN, key)) {
        refused([...path, key]);
        issues.add(source.where([...path, key]), `docker stack deploy refuses this key: ${FORBIDDEN[key]}`);
      } else if (Object.hasOwn(NOT_CARRIED, key)) {
        refused([...path, key]);
        issues.add(
          source.where([...path, key]),
          `docker applies ${NOT_CARRIED[key]}, but sciops cannot carry it to the service yet: remove ${key}, or deploy this service with docker stack deploy`,
        );
      }
    }
    for (const pattern of IGNORED_NESTED) {
      for (const found of matches(service, pattern, [])) add(name, fieldPath(found), [...path, ...found], 'unsupported');
    }
  }
  for (const pattern of IGNORED_TOP) {
    for (const found of matches(doc, pattern, [])) add('', fieldPath(found), found, 'unsupported');
  }
  return ignored;
}
