import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliTypeName, SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { useTestbed } from '../support/harness';

const ROOT = path.resolve(__dirname, '../..');
const t = useTestbed();

interface Rendered {
  services: Record<
    string,
    {
      command?: string[];
      entrypoint?: string[];
      environment?: Record<string, string>;
      healthcheck?: { test: string[] };
      depends_on?: Record<string, { condition: string }>;
      build?: { context: string };
    }
  >;
}

/** `docker compose config` on the repository's file, as an operator's `docker compose up` would read it. */
function composeConfig(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(t.bed.compose, ['--project-directory', ROOT, '-f', 'docker-compose.yml', 'config', '--format', 'json'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('docker-compose.yml, as Docker Compose reads it', () => {
  const env = { TEMPORAL_DB_PASSWORD: 'temporal-pw-1', SCIOPS_DB_PASSWORD: 'sciops-pw-2' };

  it('is valid, and its values resolve from .env settings', () => {
    const result = composeConfig(env);
    expect(result.status, result.stderr).toBe(0);
    const config = JSON.parse(result.stdout) as Rendered;
    const s = config.services;
    expect(s['sciops-db']?.environment?.DATABASE_URL).toBe('postgres://sciops:sciops-pw-2@postgresql:5432/sciops');
    expect(s.temporal?.environment?.POSTGRES_PWD).toBe('temporal-pw-1');
    expect(s['sciops-docker']?.build?.context).toBe(ROOT);
    for (const name of ['sciops-workflows', 'sciops-docker', 'sciops-db', 'sciops-aws']) {
      expect(s[name]?.depends_on?.['temporal-register']?.condition, name).toBe('service_completed_successfully');
      expect(s[name]?.healthcheck?.test.join(' '), name).toContain('9464/metrics');
    }
  });

  it('one-shot scripts are valid shell once Compose has unescaped them, and register each search attribute', () => {
    const config = JSON.parse(composeConfig(env).stdout) as Rendered;
    for (const name of ['temporal-schema', 'temporal-register', 'sciops-database']) {
      // `config` prints a compose file again, so `$$` (a literal `$` for the container's shell) stays escaped.
      const script = (config.services[name]?.command?.[0] ?? '').replaceAll('$$', '$');
      expect(script, name).not.toBe('');
      const check = spawnSync('sh', ['-n', '-c', script], { encoding: 'utf8' });
      expect(check.status, `${name}: ${check.stderr}`).toBe(0);
    }
    const register = config.services['temporal-register']?.command?.[0] ?? '';
    for (const key of SEARCH_ATTRIBUTES) expect(register).toContain(`${key.name}:${cliTypeName(key)}`);
  });

  it('refuses to render without the passwords, naming the setting', () => {
    const result = composeConfig({ SCIOPS_DB_PASSWORD: 'x' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('set TEMPORAL_DB_PASSWORD in .env');
  });
});
