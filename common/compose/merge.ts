import type { DraftAttachment, DraftDeploy, DraftHealthcheck, DraftService, DraftUpdateConfig } from './draft';
import { originOf } from './draft';
import { type Issues, issueAt, put } from './issues';
import type { ComposeFileReference, ComposePort, ComposeServiceVolume } from './model';

/**
 * Merging the services of several `-c` files the way `docker stack deploy` does (docker/cli
 * `cli/compose/loader/merge.go`, a mergo merge with override and appended slices): a later file's value replaces a
 * scalar only when it is set and not empty (so `read_only: false` does not undo `true`, and `A=` does not clear an
 * environment variable), `environment`/`labels`/`sysctls`/`ulimits` merge by key, volumes by target, ports by
 * published port, secrets and configs by source (each then sorted by that key), networks by name (a later file's
 * aliases replace the earlier ones), other lists (`cap_add`, `dns`, constraints...) are appended, `command` and
 * `entrypoint` are replaced. Where docker would silently drop or garble a value, the merge is refused instead: two
 * ports with the same published port (or none) in one file, one secret mounted twice, two healthcheck tests (docker
 * joins them into one command), driver_opts for a network the earlier file already configures.
 */
export function mergeService(base: DraftService, over: DraftService, issues: Issues): DraftService {
  const m: DraftService = { ...base, networkAt: { ...base.networkAt, ...over.networkAt } };
  for (const key of ['image', 'stop_signal', 'hostname', 'user', 'working_dir', 'restart'] as const) {
    if (over[key]) m[key] = over[key];
  }
  if (over.image) m.imageAt = over.imageAt;
  for (const key of ['command', 'entrypoint'] as const) if (over[key] && over[key].length > 0) m[key] = over[key];
  if (over.environment) m.environment = mergeEnvironment(base.environment ?? {}, over.environment);
  for (const key of ['labels', 'sysctls'] as const) if (over[key]) m[key] = { ...base[key], ...over[key] };
  if (over.ulimits) m.ulimits = { ...base.ulimits, ...over.ulimits };
  if (base.volumes) m.volumes = byKey(base.volumes, over.volumes, (v: ComposeServiceVolume) => v.target, 'volumes', 'target', issues, base);
  else if (over.volumes) m.volumes = over.volumes;
  if (base.ports) m.ports = byKey(base.ports, over.ports, (p: ComposePort) => p.published ?? 0, 'ports', 'published port', issues, base);
  else if (over.ports) m.ports = over.ports;
  for (const key of ['secrets', 'configs'] as const) {
    const b = base[key];
    if (b) m[key] = byKey(b, over[key], (r: ComposeFileReference) => r.source, key, 'source', issues, base);
    else if (over[key]) m[key] = over[key];
  }
  if (over.networks) m.networks = mergeNetworks(base, over, issues);
  if (over.deploy) m.deploy = base.deploy ? mergeDeploy(base.deploy, over.deploy) : over.deploy;
  if (over.healthcheck) m.healthcheck = base.healthcheck ? mergeHealthcheck(base.healthcheck, over.healthcheck, issues) : over.healthcheck;
  if (over.stop_grace_period && (base.stop_grace_period === undefined || !isZeroDuration(over.stop_grace_period))) {
    m.stop_grace_period = over.stop_grace_period;
  }
  if (over.init !== undefined && (base.init === undefined || over.init)) m.init = over.init;
  for (const key of ['read_only', 'tty', 'stdin_open'] as const) if (over[key]) m[key] = true;
  for (const key of ['cap_add', 'cap_drop', 'dns', 'dns_search', 'extra_hosts'] as const) {
    if (over[key]) m[key] = [...(base[key] ?? []), ...over[key]];
  }
  if (over.logging) m.logging = base.logging ? mergeLogging(base.logging, over.logging) : over.logging;
  return m;
}

/** mergo on `map[string]*string`: a later value wins when it is not empty, or when the earlier one is missing or empty. */
function mergeEnvironment(base: Record<string, string | null>, over: Record<string, string | null>): Record<string, string | null> {
  const out = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const before = Object.hasOwn(out, key) ? out[key] : undefined;
    if (before === undefined || before === null || before === '' || (value !== null && value !== '')) put(out, key, value);
  }
  return out;
}

/**
 * docker's `mergeSlice`: both lists keyed (a later entry of the same key replaces the earlier), sorted by key. Two
 * entries of one list with the same key would lose one of them: refused, naming both.
 */
function byKey<T extends object, K extends string | number>(
  base: T[],
  over: T[] | undefined,
  keyOf: (item: T) => K,
  list: string,
  keyName: string,
  issues: Issues,
  service: DraftService,
): T[] {
  const merged = new Map<K, T>();
  for (const items of [base, over ?? []]) {
    const seen = new Map<K, T>();
    for (const item of items) {
      const key = keyOf(item);
      const twin = seen.get(key);
      if (twin !== undefined) {
        const here = originOf(item, service.at);
        const first = originOf(twin, service.at);
        issues.addLine(
          here.file,
          issueAt(
            here,
            `has the same ${keyName} (${key === 0 ? 'none' : String(key)}) as ${first.file}:${first.line}; docker stack deploy merges ${list} of a service defined in several files by ${keyName} and would keep only one of them: give each its own ${keyName}`,
          ),
        );
      }
      seen.set(key, item);
      merged.set(key, item);
    }
  }
  return [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, item]) => item);
}

function mergeNetworks(base: DraftService, over: DraftService, issues: Issues): Record<string, DraftAttachment | null> {
  const out: Record<string, DraftAttachment | null> = { ...base.networks };
  for (const [name, next] of Object.entries(over.networks ?? {})) {
    const before = Object.hasOwn(out, name) ? out[name] : undefined;
    if (before === undefined || before === null) put(out, name, next);
    else if (next !== null) {
      if (next.driver_opts !== undefined && JSON.stringify(next.driver_opts) !== JSON.stringify(before.driver_opts)) {
        const where = over.networkAt[name] ?? over.at;
        issues.add(
          { ...where, path: [...where.path, 'driver_opts'] },
          'docker stack deploy keeps the driver_opts of the first file that configures this network for the service and ignores these: set them there',
        );
      }
      put(out, name, {
        ...(next.aliases === undefined ? {} : { aliases: next.aliases }),
        ...(before.driver_opts ? { driver_opts: before.driver_opts } : {}),
      });
    }
  }
  return out;
}

function mergeDeploy(base: DraftDeploy, over: DraftDeploy): DraftDeploy {
  const d: DraftDeploy = { ...base };
  if (over.mode) {
    d.mode = over.mode;
    d.modeAt = over.modeAt;
  }
  if (over.endpoint_mode) d.endpoint_mode = over.endpoint_mode;
  if (over.replicas !== undefined) {
    d.replicas = over.replicas;
    d.replicasAt = over.replicasAt;
  }
  if (over.labels) d.labels = { ...base.labels, ...over.labels };
  if (over.update_config) d.update_config = base.update_config ? mergeUpdate(base.update_config, over.update_config) : over.update_config;
  if (over.rollback_config)
    d.rollback_config = base.rollback_config ? mergeUpdate(base.rollback_config, over.rollback_config) : over.rollback_config;
  if (over.resources) {
    const b = base.resources ?? {};
    const o = over.resources;
    d.resources = { ...b };
    if (o.limits) {
      const l = { ...b.limits };
      if (o.limits.cpus !== undefined) l.cpus = o.limits.cpus;
      if (o.limits.memory) l.memory = o.limits.memory;
      if (o.limits.pids) l.pids = o.limits.pids;
      d.resources.limits = b.limits ? l : o.limits;
    }
    if (o.reservations) {
      const r = { ...b.reservations };
      if (o.reservations.cpus !== undefined) r.cpus = o.reservations.cpus;
      if (o.reservations.memory) r.memory = o.reservations.memory;
      if (o.reservations.generic_resources) r.generic_resources = [...(r.generic_resources ?? []), ...o.reservations.generic_resources];
      d.resources.reservations = b.reservations ? r : o.reservations;
    }
  }
  if (over.restart_policy) {
    const r = { ...base.restart_policy };
    const o = over.restart_policy;
    if (o.condition) r.condition = o.condition;
    if (o.delay && (r.delay === undefined || !isZeroDuration(o.delay))) r.delay = o.delay;
    if (o.max_attempts !== undefined) r.max_attempts = o.max_attempts;
    if (o.window && (r.window === undefined || !isZeroDuration(o.window))) r.window = o.window;
    d.restart_policy = r;
  }
  if (over.placement) {
    const p = { ...base.placement };
    const o = over.placement;
    if (o.constraints) p.constraints = [...(p.constraints ?? []), ...o.constraints];
    if (o.preferences) p.preferences = [...(p.preferences ?? []), ...o.preferences];
    if (o.max_replicas_per_node) p.max_replicas_per_node = o.max_replicas_per_node;
    d.placement = p;
  }
  return d;
}

function mergeUpdate(base: DraftUpdateConfig, over: DraftUpdateConfig): DraftUpdateConfig {
  const u = { ...base };
  if (over.parallelism !== undefined) u.parallelism = over.parallelism;
  if (over.delay && !isZeroDuration(over.delay)) u.delay = over.delay;
  if (over.failure_action) u.failure_action = over.failure_action;
  if (over.monitor && !isZeroDuration(over.monitor)) u.monitor = over.monitor;
  if (over.max_failure_ratio) u.max_failure_ratio = over.max_failure_ratio;
  if (over.order) u.order = over.order;
  return u;
}

function mergeHealthcheck(base: DraftHealthcheck, over: DraftHealthcheck, issues: Issues): DraftHealthcheck {
  const h = { ...base };
  if (over.test && over.test.length > 0) {
    if (base.test && base.test.length > 0 && over.testAt) {
      const first = base.testAt;
      issues.add(
        over.testAt,
        `docker stack deploy would join this test to the one in ${first ? `${first.file}:${first.line}` : 'the earlier file'} into a single command: set healthcheck.test in one file only`,
      );
    }
    h.test = over.test;
    h.testAt = over.testAt;
  }
  for (const key of ['interval', 'timeout', 'start_period', 'start_interval'] as const) {
    const value = over[key];
    if (value && (h[key] === undefined || !isZeroDuration(value))) h[key] = value;
  }
  if (over.retries !== undefined) h.retries = over.retries;
  if (over.disable) {
    h.disable = true;
    h.disableAt = over.disableAt;
  }
  return h;
}

function mergeLogging(
  base: NonNullable<DraftService['logging']>,
  over: NonNullable<DraftService['logging']>,
): NonNullable<DraftService['logging']> {
  if (base.driver && over.driver && base.driver !== over.driver) return over;
  const driver = base.driver || over.driver;
  return { ...(driver ? { driver } : {}), options: { ...base.options, ...over.options } };
}

/** Whether a Go duration is zero (`0`, `0s`, `0m0s`), which mergo does not let override. */
function isZeroDuration(text: string): boolean {
  return text
    .replace(/[a-zµμ]+/g, ' ')
    .trim()
    .split(/\s+/)
    .every((n) => Number(n) === 0);
}
