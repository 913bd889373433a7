import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCompose } from '../../common/compose/load';

/** The real compose files of the platforms in the field, loaded as they are deployed. */
const CORPUS = path.resolve(__dirname, '../../../shared/compose-corpus');

function load(relative: string) {
  const file = path.join(CORPUS, relative);
  return loadCompose({
    files: [{ path: file, text: readFileSync(file, 'utf8') }],
    environment: {},
    readFile: (p) => readFileSync(p, 'utf8'),
  });
}

describe('Multiomix (multiomix/docker-compose_dist.yml)', () => {
  const { model, ignored } = load('multiomix/docker-compose_dist.yml');
  const dir = path.join(CORPUS, 'multiomix');

  it('has its ten services in file order', () => {
    expect(Object.keys(model.services)).toEqual([
      'db',
      'mongo',
      'redis',
      'nginx',
      'correlation-analysis-worker',
      'fs-experiments-worker',
      'stats-worker',
      'inference-worker',
      'sync-datasets-worker',
      'multiomix',
    ]);
  });

  it('splits the db command as a shell would, keeping the quoted option one word', () => {
    expect(model.services.db?.command).toEqual(['postgres', '-c', 'config_file=/etc/postgresql/postgresql.conf']);
    expect(model.services.mongo?.command).toEqual(['--config', '/etc/mongo/mongod.conf']);
    expect(model.services.db?.deploy.endpoint_mode).toBe('dnsrr');
  });

  it('renders the numeric CONCURRENCY as docker does ("2"), next to the quoted strings', () => {
    for (const worker of ['correlation-analysis-worker', 'fs-experiments-worker', 'stats-worker', 'inference-worker']) {
      expect(model.services[worker]?.environment.CONCURRENCY, worker).toBe('2');
    }
    expect(model.services['sync-datasets-worker']?.environment).toEqual({ QUEUE_NAME: 'sync_datasets', CONCURRENCY: '1' });
    expect(model.services.db?.environment.POSTGRES_HOST_AUTH_METHOD).toBe('trust');
  });

  it('declares its seven volumes external, each under its own name', () => {
    const names = ['mongo_data', 'mongo_config', 'postgres_data', 'redis_data', 'static_data', 'media_data', 'logs_data'];
    expect(model.volumes).toEqual(
      Object.fromEntries(names.map((n) => [n, { external: true, name: `multiomics_intermediate_${n}`, labels: {} }])),
    );
  });

  it('mounts the nginx config and certificates from absolute paths under the corpus directory, and named volumes by name', () => {
    expect(model.services.nginx?.volumes).toEqual([
      { type: 'bind', source: path.join(dir, 'config/nginx/conf.d'), target: '/etc/nginx/conf.d', read_only: false },
      { type: 'bind', source: path.join(dir, 'config/nginx/certificates'), target: '/etc/nginx/certificates', read_only: false },
      { type: 'volume', source: 'static_data', target: '/static', read_only: false },
      { type: 'volume', source: 'media_data', target: '/media', read_only: false },
    ]);
    expect(model.services.nginx?.ports).toEqual([{ target: 8000, published: 80, protocol: 'tcp', mode: 'ingress' }]);
  });

  it('carries restart for the restart policy, and reports restart and depends_on as ignored with their lines', () => {
    expect(model.services.db?.restart).toBe('always');
    expect(ignored).toContainEqual({ service: 'db', key: 'restart', why: 'unsupported', file: 'docker-compose_dist.yml', line: 5 });
    expect(ignored).toContainEqual({ service: 'nginx', key: 'depends_on', why: 'unsupported', file: 'docker-compose_dist.yml', line: 58 });
    expect(ignored).toContainEqual({
      service: 'multiomix',
      key: 'depends_on',
      why: 'unsupported',
      file: 'docker-compose_dist.yml',
      line: 192,
    });
    expect(ignored.filter((k) => k.key === 'restart')).toHaveLength(10);
    expect(ignored.filter((k) => k.key === 'depends_on')).toHaveLength(7);
    expect(ignored.every((k) => k.key === 'restart' || k.key === 'depends_on')).toBe(true);
  });

  it('leaves out the commented environment of the multiomix service', () => {
    expect(model.services.multiomix?.environment).toEqual({});
    expect(model.services.multiomix?.networks).toEqual({});
  });
});

describe('Modulector (modulector/docker-compose_dist.yml)', () => {
  const { model, ignored } = load('modulector/docker-compose_dist.yml');

  it('keeps list commands and healthchecks word for word', () => {
    expect(model.services.mcp_modulector?.command).toEqual([
      'python3',
      '-m',
      'modulector_sdk.mcp_server',
      '--transport',
      'streamable-http',
      '--host',
      '0.0.0.0',
      '--port',
      '8001',
    ]);
    const health = model.services.mcp_modulector?.healthcheck;
    expect(health?.test?.[0]).toBe('CMD');
    expect(health?.test).toContain(
      '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"healthcheck","version":"1.0"}}}',
    );
    expect(health).toMatchObject({ interval: '30s', timeout: '10s', retries: 3, start_period: '30s', disable: false });
  });

  it('mounts static_data read-only in nginx and declares both volumes external', () => {
    expect(model.services.nginx_modulector?.volumes[1]).toEqual({
      type: 'volume',
      source: 'static_data',
      target: '/static',
      read_only: true,
    });
    expect(model.volumes).toEqual({
      postgres_data: { external: true, name: 'modulector_postgres_data', labels: {} },
      static_data: { external: true, name: 'modulector_static_data', labels: {} },
    });
  });

  it('reports restart and depends_on of each service as ignored', () => {
    expect(ignored.map((k) => `${k.service}.${k.key}:${k.line}`)).toEqual([
      'db_modulector.restart:5',
      'nginx_modulector.restart:22',
      'nginx_modulector.depends_on:28',
      'web_modulector.restart:35',
      'web_modulector.depends_on:36',
      'mcp_modulector.restart:63',
      'mcp_modulector.depends_on:64',
    ]);
  });
});
