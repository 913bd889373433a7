import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCompose } from '../../common/compose/load';
import { InputError } from '../../common/errors';

const LOADER = path.resolve(__dirname, '../fixtures/compose/loader');

function loadFixture(name: string, environment: Record<string, string> = {}) {
  const file = path.join(LOADER, name);
  return loadCompose({
    files: [{ path: file, text: readFileSync(file, 'utf8') }],
    environment,
    readFile: (p) => readFileSync(p, 'utf8'),
    homeDir: '/home/operator',
  });
}

function failure(files: { path: string; text: string }[]): InputError {
  try {
    loadCompose({ files, environment: {}, readFile: () => '' });
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('the wide fixture: every model key, anchors, merge keys and extensions', () => {
  const { model, ignored } = loadFixture('wide.yml', { DB_USER: 'app', FROM_ENV: 'from the environment' });
  const { api, worker, proxy } = model.services;

  it('merges `<<: *defaults` into each service and drops x- extensions', () => {
    expect(api?.restart).toBe('unless-stopped');
    expect(worker?.logging).toEqual({ driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } });
    expect(api?.labels).toEqual({ 'com.example.stack': 'wide' });
    expect(worker?.labels).toEqual({ 'com.example.role': 'worker', 'com.example.flag': '' });
    expect(proxy?.logging).toEqual({ driver: 'syslog', options: {} });
    expect(Object.keys(model.services)).toEqual(['api', 'worker', 'proxy']);
  });

  it('interpolates with defaults and required variables, env files first and environment over them', () => {
    expect(api?.image).toBe('registry.example.org:5000/sciops/api:1.0');
    expect(api?.deploy.replicas).toBe(2);
    expect(api?.environment).toEqual({
      APP_MODE: 'production',
      APP_QUOTED: '"kept with its quotes"',
      APP_EMPTY: '',
      LOG_LEVEL: 'debug',
      WORKERS: '4',
      RATIO: '0.25',
      BIG: '1e+06',
      DEBUG: 'false',
      EMPTY: null,
      FROM_ENV: 'from the environment',
      DATABASE_URL: 'postgres://app@db/app',
      LITERAL: '$HOME',
    });
    expect(worker?.environment).toEqual({
      QUEUE: 'fast',
      LOG_LEVEL: 'info',
      EMPTY: '',
      FROM_ENV: 'from the environment',
      UNSET_NAME: null,
    });
  });

  it('reads the long syntax of mounts, ports, secrets and deploy', () => {
    expect(api?.volumes).toEqual([
      {
        type: 'bind',
        source: path.join(LOADER, 'config'),
        target: '/etc/api',
        read_only: true,
        consistency: 'cached',
        bind: { propagation: 'rprivate', create_host_path: true },
      },
      { type: 'volume', source: 'data', target: '/data', read_only: false, volume: { nocopy: true, subpath: 'api' } },
      { type: 'tmpfs', target: '/scratch', read_only: false, tmpfs: { size: 64 * 1024 ** 2, mode: 1777 } },
    ]);
    expect(api?.ports).toEqual([
      { target: 8000, published: 8080, protocol: 'tcp', mode: 'ingress' },
      { target: 8443, published: 8443, protocol: 'tcp', mode: 'host' },
    ]);
    expect(api?.secrets).toEqual([{ source: 'db_password', target: 'db.pw', uid: '1000', gid: '1000', mode: 0o400 }]);
    expect(api?.deploy).toMatchObject({
      endpoint_mode: 'vip',
      update_config: {
        parallelism: 2,
        delay: '10s',
        failure_action: 'rollback',
        monitor: '1m30s',
        max_failure_ratio: 0.3,
        order: 'start-first',
      },
      restart_policy: { condition: 'on-failure', delay: '5s', max_attempts: 3, window: '2m' },
      placement: { constraints: ['node.role == worker'], preferences: [{ spread: 'node.labels.zone' }], max_replicas_per_node: 2 },
    });
    expect(api?.deploy.resources.reservations?.generic_resources).toEqual([{ discrete_resource_spec: { kind: 'gpu', value: 1 } }]);
    expect(api?.networks).toEqual({
      front: { aliases: ['api', 'api.front'], driver_opts: { 'com.example.mtu': '1400' } },
      back: { aliases: [] },
    });
    expect([api?.stdin_open, api?.init, worker?.init, worker?.tty]).toEqual([true, true, false, true]);
  });

  it('reads top-level objects: secrets from a file or the environment, inline config content, deprecated external names', () => {
    expect(model.secrets.api_token).toEqual({ external: false, labels: {}, environment: 'API_TOKEN' });
    expect(model.configs.banner?.content).toBe('Welcome to the wide stack\n');
    expect(model.configs.api_config).toEqual({
      external: false,
      labels: {},
      file: path.join(LOADER, 'config/api.ini'),
      template_driver: 'golang',
    });
    expect(model.volumes.legacy).toEqual({ external: true, name: 'wide_legacy', labels: {} });
    expect(model.volumes.plain).toEqual({ external: false, labels: {} });
    expect(model.networks.front?.ipam).toEqual({
      driver: 'default',
      config: [{ subnet: '10.20.0.0/24', gateway: '10.20.0.1', ip_range: '10.20.0.128/25' }],
    });
    expect(model.networks.back).toMatchObject({ internal: true, attachable: false });
  });

  it('reports restart, which it carries, as ignored where the anchor writes it', () => {
    expect(ignored).toEqual([
      { service: 'api', key: 'restart', why: 'unsupported', file: 'wide.yml', line: 13 },
      { service: 'worker', key: 'restart', why: 'unsupported', file: 'wide.yml', line: 13 },
    ]);
  });
});

describe('ignored keys', () => {
  const { model, ignored } = loadFixture('ignored-keys.yml');
  const at = (service: string, key: string) => ignored.find((k) => k.service === service && k.key === key);

  it('reports every key docker stack deploy ignores or does not know, with its line', () => {
    expect(at('app', 'build')).toEqual({ service: 'app', key: 'build', why: 'unsupported', file: 'ignored-keys.yml', line: 7 });
    expect(at('app', 'container_name')).toMatchObject({ why: 'deprecated', line: 29 });
    expect(at('app', 'expose')).toMatchObject({ why: 'deprecated', line: 30 });
    expect(at('app', 'depends_on')).toMatchObject({ why: 'unsupported', line: 31 });
    expect(at('app', 'profiles')).toMatchObject({ why: 'unsupported', line: 73 });
    expect(at('app', 'networks.back.ipv4_address')).toMatchObject({ line: 88 });
    expect(at('app', 'ports[0].app_protocol')).toMatchObject({ line: 99 });
    expect(at('app', 'volumes[0].bind.selinux')).toMatchObject({ line: 106 });
    expect(at('app', 'deploy.resources.reservations.devices')).toMatchObject({ line: 116 });
    expect(at('app', 'env_file[0].format')).toMatchObject({ line: 84 });
    expect(at('helper', 'provider')).toMatchObject({ line: 123 });
    const appKeys = ignored.filter((k) => k.service === 'app' && !k.key.includes('.') && !k.key.includes('['));
    expect(appKeys).toHaveLength(51);
  });

  it('reports keys outside any service with an empty service name and their path', () => {
    expect(ignored.filter((k) => k.service === '').map((k) => `${k.key}:${k.line}`)).toEqual([
      'name:3',
      'models:145',
      'networks.back.enable_ipv4:135',
      'networks.back.enable_ipv6:136',
      'networks.back.ipam.options:138',
      'networks.back.ipam.config[0].aux_addresses:142',
    ]);
  });

  it('still loads what the swarm uses', () => {
    expect(model.services.app?.restart).toBe('on-failure:3');
    expect(model.services.app?.networks).toEqual({ back: { aliases: ['app'] } });
    expect(model.services.app?.environment).toEqual({ QUEUE: 'default', LOG_LEVEL: 'info' });
  });
});

describe('errors', () => {
  it('collects every problem of every file, naming the files', () => {
    const error = failure([
      {
        path: '/p/a.yml',
        text: 'services:\n  web:\n    image: nginx\n    volumes_from: [db]\n    oom_score_adj: 5\n    deploy: { replicas: x }\n',
      },
      { path: '/p/conf/b.yml', text: 'services:\n  web:\n    ports: ["1:2:3:4:5"]\n  db: {image: "postgres:16", imagee: x}\n' },
    ]);
    expect(error.what).toBe('compose files a.yml, conf/b.yml');
    expect(error.issues).toEqual([
      'a.yml:4:5 services.web.volumes_from: docker stack deploy refuses this key: To share a volume between services, define it using the top-level `volumes` option and reference it from each service that shares it using the service-level `volumes` option.',
      'a.yml:5:5 services.web.oom_score_adj: docker applies an OOM score adjustment, but sciops cannot carry it to the service yet: remove oom_score_adj, or deploy this service with docker stack deploy',
      'a.yml:6:15 services.web.deploy.replicas: expected a whole number (0 or more), got "x"',
      'conf/b.yml:4:30 services.db.imagee: unknown key: remove it or check its spelling',
    ]);
  });

  it('reports a file that is not a mapping, and no file at all', () => {
    expect(failure([{ path: '/p/a.yml', text: '- just\n- a list\n' }]).issues).toEqual([
      'a.yml:1:1 (input): the top level must be a mapping of services, volumes, networks, secrets and configs',
    ]);
    expect(failure([{ path: '/p/a.yml', text: '' }]).issues).toHaveLength(1);
    expect(() => loadCompose({ files: [], environment: {}, readFile: () => '' })).toThrow('no compose file given');
  });

  it('points at the key through anchors and merge keys', () => {
    const text = ['x-base: &base', '  image: nginx', '  stop_grace_period: soon', 'services:', '  web:', '    <<: *base', ''].join('\n');
    expect(failure([{ path: '/p/a.yml', text }]).issues).toEqual([
      'a.yml:3:3 services.web.stop_grace_period: expected a duration such as 10s, 1m30s or 500ms, got "soon"',
    ]);
  });
});
