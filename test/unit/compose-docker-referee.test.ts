import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadCompose } from '../../common/compose/load';
import type { ComposeModel } from '../../common/compose/model';

/**
 * The referee for normalisation and merging: docker's own compose loader, run by `docker stack config` (it needs the
 * docker CLI, not a daemon), on the corpus files and on the fixtures docker's compose format accepts. Its output is
 * brought into the model's shape (defaults filled in, durations and sizes as numbers) and compared with what
 * loadCompose makes of the same files and environment. Skipped where no docker CLI is installed.
 */

const ROOT = path.resolve(__dirname, '../..');
const CORPUS = path.resolve(ROOT, '../shared/compose-corpus');
const LOADER = path.join(ROOT, 'test/fixtures/compose/loader');
const HOME = '/home/operator';
const ENVIRONMENT: Record<string, string> = { DB_USER: 'app', FROM_ENV: 'from the environment', HOME };

/** The referee must be there: without the docker CLI this test fails, it never passes by skipping. */
const hasDocker = spawnSync('docker', ['stack', 'config', '--help'], { encoding: 'utf8' }).status === 0;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const drop = (o: Obj): Obj => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** A Go duration (`1m30s`, `500ms`) in nanoseconds. */
function nanos(text: string): number {
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  for (const [, n, u] of text.matchAll(/([\d.]+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(n) * (unit[u as string] as number);
  return Math.round(total);
}

/** Durations as nanoseconds, and zero durations and ratios of update configs dropped (docker omits them). */
function durations(service: Obj): Obj {
  const at = (o: unknown, keys: string[]) => {
    if (!isObj(o)) return;
    for (const k of keys) if (typeof o[k] === 'string') o[k] = nanos(o[k] as string);
  };
  at(service, ['stop_grace_period']);
  at(service.healthcheck, ['interval', 'timeout', 'start_period', 'start_interval']);
  const deploy = service.deploy as Obj;
  at(deploy.restart_policy, ['delay', 'window']);
  for (const key of ['update_config', 'rollback_config']) {
    const u = deploy[key];
    at(u, ['delay', 'monitor']);
    if (isObj(u)) for (const k of ['delay', 'monitor', 'max_failure_ratio']) if (u[k] === 0) delete u[k];
  }
  return service;
}

/** One service of `docker stack config` output in the shape of the model. */
function dockerService(s: Obj): Obj {
  const deploy = (s.deploy ?? {}) as Obj;
  const resources = (deploy.resources ?? {}) as Obj;
  const placement = (deploy.placement ?? {}) as Obj;
  const num = (v: unknown) => (v === undefined ? undefined : Number(v));
  const limits = resources.limits as Obj | undefined;
  const reservations = resources.reservations as Obj | undefined;
  const ulimits = Object.fromEntries(
    Object.entries((s.ulimits ?? {}) as Obj).map(([k, v]) => [k, typeof v === 'number' ? { soft: v, hard: v } : v]),
  );
  return durations(
    drop({
      image: s.image,
      command: s.command,
      entrypoint: s.entrypoint,
      environment: s.environment ?? {},
      labels: s.labels ?? {},
      volumes: ((s.volumes ?? []) as Obj[]).map((v) => drop({ ...v, read_only: v.read_only ?? false })),
      secrets: s.secrets ?? [],
      configs: s.configs ?? [],
      networks: Object.fromEntries(
        Object.entries((s.networks ?? {}) as Record<string, Obj | null>).map(([k, v]) => [
          k,
          drop({ aliases: v?.aliases ?? [], driver_opts: v?.driver_opts }),
        ]),
      ),
      ports: ((s.ports ?? []) as Obj[]).map((p) =>
        drop({ target: p.target, published: p.published, protocol: p.protocol ?? 'tcp', mode: p.mode ?? 'ingress' }),
      ),
      deploy: drop({
        mode: deploy.mode,
        replicas: deploy.replicas,
        labels: deploy.labels ?? {},
        update_config: deploy.update_config,
        rollback_config: deploy.rollback_config,
        resources: drop({
          limits: limits && drop({ cpus: num(limits.cpus), memory: num(limits.memory), pids: limits.pids }),
          reservations:
            reservations &&
            drop({
              cpus: num(reservations.cpus),
              memory: num(reservations.memory),
              generic_resources: reservations.generic_resources ?? [],
            }),
        }),
        restart_policy: deploy.restart_policy,
        placement: drop({
          constraints: placement.constraints ?? [],
          preferences: placement.preferences ?? [],
          max_replicas_per_node: placement.max_replicas_per_node,
        }),
        endpoint_mode: typeof deploy.endpoint_mode === 'string' ? deploy.endpoint_mode.toLowerCase() : undefined,
      }),
      restart: s.restart,
      healthcheck: isObj(s.healthcheck) ? { ...s.healthcheck, disable: s.healthcheck.disable ?? false } : undefined,
      stop_grace_period: s.stop_grace_period,
      stop_signal: s.stop_signal,
      hostname: s.hostname,
      user: s.user,
      working_dir: s.working_dir,
      init: s.init,
      cap_add: s.cap_add ?? [],
      cap_drop: s.cap_drop ?? [],
      sysctls: s.sysctls ?? {},
      ulimits,
      extra_hosts: s.extra_hosts ?? [],
      dns: s.dns ?? [],
      dns_search: s.dns_search ?? [],
      logging: isObj(s.logging) ? { ...s.logging, options: s.logging.options ?? {} } : undefined,
      read_only: s.read_only ?? false,
      tty: s.tty ?? false,
      stdin_open: s.stdin_open ?? false,
    }),
  );
}

function dockerTop(kind: string, entries: Obj): Obj {
  return Object.fromEntries(
    Object.entries(entries).map(([key, raw]) => {
      const e = (raw ?? {}) as Obj;
      const common = { external: e.external ?? false, name: e.name, labels: e.labels ?? {} };
      if (kind === 'volumes') return [key, drop({ ...common, driver: e.driver, driver_opts: e.driver_opts })];
      if (kind === 'networks') {
        return [
          key,
          drop({
            ...common,
            driver: e.driver,
            driver_opts: e.driver_opts,
            attachable: e.attachable ?? false,
            internal: e.internal ?? false,
            ipam: e.ipam,
          }),
        ];
      }
      return [key, drop({ ...common, file: e.file, template_driver: e.template_driver })];
    }),
  );
}

/** The model as docker's loader makes it, from `docker stack config -c ...`. */
function dockerModel(files: readonly string[]): Obj {
  const result = spawnSync('docker', ['stack', 'config', ...files.flatMap((f) => ['-c', f])], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, DOCKER_CONFIG: path.join(HOME, '.docker'), ...ENVIRONMENT },
  });
  if (result.status !== 0) throw new Error(`docker stack config failed: ${result.stderr}`);
  const config = parse(result.stdout) as Obj;
  return {
    services: Object.fromEntries(Object.entries((config.services ?? {}) as Obj).map(([n, s]) => [n, dockerService(s as Obj)])),
    ...Object.fromEntries(['volumes', 'networks', 'secrets', 'configs'].map((k) => [k, dockerTop(k, (config[k] ?? {}) as Obj)])),
  };
}

/** loadCompose on the same files, with the durations as numbers. */
function sciopsModel(files: readonly string[]): Obj {
  const { model } = loadCompose({
    files: files.map((f) => ({ path: f, text: readFileSync(f, 'utf8') })),
    environment: ENVIRONMENT,
    readFile: (p) => readFileSync(p, 'utf8'),
    homeDir: HOME,
  });
  const copy = JSON.parse(JSON.stringify(model)) as ComposeModel & Obj;
  const services = Object.fromEntries(Object.entries(copy.services).map(([n, s]) => [n, durations(s as unknown as Obj)]));
  const networks = Object.fromEntries(
    Object.entries(copy.networks).map(([n, net]) => {
      if (!net.ipam) return [n, net];
      // docker's compose types keep only the subnet of an IPAM pool.
      return [n, { ...net, ipam: { ...net.ipam, config: net.ipam.config.map((c) => drop({ subnet: c.subnet })) } }];
    }),
  );
  return { ...copy, services, networks };
}

const cases: [string, string[]][] = [
  ['multiomix (corpus)', [path.join(CORPUS, 'multiomix/docker-compose_dist.yml')]],
  ['modulector (corpus)', [path.join(CORPUS, 'modulector/docker-compose_dist.yml')]],
  ['loader/docker-wide.yml', [path.join(LOADER, 'docker-wide.yml')]],
  ['loader/docker-short-syntax.yml', [path.join(LOADER, 'docker-short-syntax.yml')]],
  ['loader/merge: base.yml + override.yml', [path.join(LOADER, 'merge/base.yml'), path.join(LOADER, 'merge/override.yml')]],
];

describe('loadCompose against docker stack config', () => {
  it('has the docker CLI to compare with', () => {
    expect(hasDocker, 'the docker CLI (docker stack config) is missing: install docker.io, as scripts/docker-engine.sh does').toBe(true);
  });
  it.each(cases)('%s: the same model as docker', (_name, files) => {
    expect(sciopsModel(files)).toEqual(dockerModel(files));
  });
});
