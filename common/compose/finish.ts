import type { DraftDeploy, DraftService } from './draft';
import type { ComposeDeploy, ComposeService, ComposeServiceNetwork } from './model';

/**
 * A merged service as the model holds it: what no file set takes its default (empty lists and maps, false flags,
 * networks listed without options get empty aliases), and the positions kept for messages are dropped.
 */
export function finishService(s: DraftService): ComposeService {
  const networks: Record<string, ComposeServiceNetwork> = {};
  for (const [name, attachment] of Object.entries(s.networks ?? {})) {
    Object.defineProperty(networks, name, {
      value: { aliases: attachment?.aliases ?? [], ...(attachment?.driver_opts ? { driver_opts: attachment.driver_opts } : {}) },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  const healthcheck =
    s.healthcheck === undefined
      ? undefined
      : (({ testAt: _testAt, disableAt: _disableAt, ...h }) => ({ ...h, disable: h.disable ?? false }))(s.healthcheck);
  return {
    image: s.image ?? '',
    ...(s.command === undefined ? {} : { command: s.command }),
    ...(s.entrypoint === undefined ? {} : { entrypoint: s.entrypoint }),
    environment: s.environment ?? {},
    labels: s.labels ?? {},
    volumes: s.volumes ?? [],
    secrets: s.secrets ?? [],
    configs: s.configs ?? [],
    networks,
    ports: s.ports ?? [],
    deploy: finishDeploy(s.deploy ?? {}),
    ...(s.restart === undefined ? {} : { restart: s.restart }),
    ...(healthcheck === undefined ? {} : { healthcheck }),
    ...(s.stop_grace_period === undefined ? {} : { stop_grace_period: s.stop_grace_period }),
    ...(s.stop_signal === undefined ? {} : { stop_signal: s.stop_signal }),
    ...(s.hostname === undefined ? {} : { hostname: s.hostname }),
    ...(s.user === undefined ? {} : { user: s.user }),
    ...(s.working_dir === undefined ? {} : { working_dir: s.working_dir }),
    ...(s.init === undefined ? {} : { init: s.init }),
    cap_add: s.cap_add ?? [],
    cap_drop: s.cap_drop ?? [],
    sysctls: s.sysctls ?? {},
    ulimits: s.ulimits ?? {},
    extra_hosts: s.extra_hosts ?? [],
    dns: s.dns ?? [],
    dns_search: s.dns_search ?? [],
    ...(s.logging === undefined
      ? {}
      : { logging: { ...(s.logging.driver === undefined ? {} : { driver: s.logging.driver }), options: s.logging.options ?? {} } }),
    read_only: s.read_only ?? false,
    tty: s.tty ?? false,
    stdin_open: s.stdin_open ?? false,
  };
}

function finishDeploy(d: DraftDeploy): ComposeDeploy {
  const reservations = d.resources?.reservations;
  return {
    ...(d.mode === undefined ? {} : { mode: d.mode }),
    ...(d.replicas === undefined ? {} : { replicas: d.replicas }),
    labels: d.labels ?? {},
    ...(d.update_config === undefined ? {} : { update_config: d.update_config }),
    ...(d.rollback_config === undefined ? {} : { rollback_config: d.rollback_config }),
    resources: {
      ...(d.resources?.limits === undefined ? {} : { limits: d.resources.limits }),
      ...(reservations === undefined ? {} : { reservations: { ...reservations, generic_resources: reservations.generic_resources ?? [] } }),
    },
    ...(d.restart_policy === undefined ? {} : { restart_policy: d.restart_policy }),
    placement: {
      constraints: d.placement?.constraints ?? [],
      preferences: d.placement?.preferences ?? [],
      ...(d.placement?.max_replicas_per_node === undefined ? {} : { max_replicas_per_node: d.placement.max_replicas_per_node }),
    },
    ...(d.endpoint_mode === undefined ? {} : { endpoint_mode: d.endpoint_mode }),
  };
}
