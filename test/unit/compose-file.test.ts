import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { QUEUE_KINDS } from '../../common/queues';
import { cliTypeName, SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { SETTINGS } from '../../common/settings';

interface Service {
  image?: string;
  command?: string[] | string;
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  user?: string;
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
}

const ROOT = path.resolve(__dirname, '../..');
const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;
const workers = Object.entries(services).filter(([, s]) => Array.isArray(s.command) && s.command[0] === 'worker');

describe('the production docker-compose.yml', () => {
  it('runs one sciops worker service per task queue, on the sciops image, with metrics, JSON logs and the payload keys', () => {
    const queues = workers.map(([, s]) => (s.command as string[])[(s.command as string[]).indexOf('--queues') + 1]);
    expect(queues.sort()).toEqual([...QUEUE_KINDS].sort());
    for (const [name, s] of workers) {
      expect(s.image, name).toMatch(/sciops\/workers/);
      expect(s.environment, name).toMatchObject({
        TEMPORAL_ADDRESS: 'temporal:7233',
        SCIOPS_METRICS_ADDRESS: '0.0.0.0:9464',
        SCIOPS_LOG_FORMAT: 'json',
        SCIOPS_CODEC_KEYS_FILE: '/run/secrets/codec_keys',
      });
      expect(s.depends_on?.['temporal-register']?.condition, name).toBe('service_completed_successfully');
    }
  });

  it('gives the Docker socket to the docker queue only, and a database URL to the db queue only', () => {
    const withSocket = workers.filter(([, s]) => s.volumes?.some((v) => v.startsWith('/var/run/docker.sock:')));
    expect(withSocket.map(([name]) => name)).toEqual(['sciops-docker']);
    expect(workers.filter(([, s]) => s.environment?.DATABASE_URL !== undefined).map(([name]) => name)).toEqual(['sciops-db']);
  });

  it("lends stacks only the docker worker's stack files and SCIOPS_GITLAB_TOKEN, mounted read-only at the path it checks", () => {
    const docker = services['sciops-docker'];
    /** `${NAME:-fallback}`, as compose interpolates it from .env. */
    const fromEnv = (name: string, fallback = '') => `\${${name}:-${fallback}}`;
    const files = fromEnv('SCIOPS_STACK_FILES', '/srv/sciops-stacks');
    expect(docker?.environment).toMatchObject({
      SCIOPS_GITLAB_TOKEN: fromEnv('SCIOPS_GITLAB_TOKEN'),
      SCIOPS_SECRET_FILE_ROOTS: files,
      SCIOPS_CONFIG_FILE_ROOTS: files,
    });
    expect(docker?.volumes).toContain(`${files}:${files}:ro`);
    for (const [name, s] of workers) expect(Object.keys(s.environment ?? {}), name).not.toContain('GITLAB_TOKEN');
  });

  it('sets only settings sciops reads (every SCIOPS_ variable is documented)', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const key of Object.keys(s.environment ?? {}).filter((k) => k.startsWith('SCIOPS_'))) {
        if (name === 'sciops-database') continue; // the one-shot's own variable, not a sciops setting
        expect(Object.keys(SETTINGS), `${name}: ${key}`).toContain(key);
      }
    }
  });

  it('keeps Temporal on PostgreSQL, with a healthcheck on every long-running service', () => {
    expect(services.temporal?.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    for (const [name, s] of Object.entries(services)) {
      if (s.restart === 'unless-stopped') expect(s.healthcheck?.test, name).toBeDefined();
    }
  });

  it('registers every search attribute sciops sets, with its type', () => {
    const script = String(services['temporal-register']?.command);
    for (const key of SEARCH_ATTRIBUTES) expect(script).toContain(`${key.name}:${cliTypeName(key)}`);
  });

  it('points the Web UI at the codec server, which allows the UI origin', () => {
    expect(services['temporal-ui']?.environment?.TEMPORAL_CODEC_ENDPOINT).toMatch(/8081/);
    expect(services['codec-server']?.command).toEqual(expect.arrayContaining(['codec-server', '--ui-origin']));
  });
});
