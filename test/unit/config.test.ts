import { describe, expect, it } from 'vitest';
import { parseDockerHost, readConfig, redactUrl } from '../../common/config';
import { ConfigError } from '../../common/errors';

function configError(env: Record<string, string>): ConfigError {
  try {
    readConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('readConfig accepted a bad setting');
}

describe('readConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    const config = readConfig({});
    expect(config.docker).toEqual({ text: 'unix:///var/run/docker.sock', socketPath: '/var/run/docker.sock' });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.aws).toEqual({ region: 'us-east-1', endpoint: undefined });
    expect(config.concurrency).toEqual({ sciops: 40, docker: 8, db: 4, aws: 16 });
    expect(config.devPort).toBe(7233);
    expect(config.shutdownGraceSeconds).toBe(30);
  });

  it('reads every setting it is given', () => {
    const config = readConfig({
      DOCKER_HOST: 'tcp://10.0.0.5:2376',
      DATABASE_URL: 'postgresql://u:p@db:5432/app',
      AWS_REGION: 'eu-west-2',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      SCIOPS_CONCURRENCY_DB: '2',
      SCIOPS_DEV_PORT: '7300',
    });
    expect(config.docker).toEqual({ text: 'tcp://10.0.0.5:2376', host: '10.0.0.5', port: 2376, protocol: 'http' });
    expect(config.databaseUrl).toBe('postgresql://u:p@db:5432/app');
    expect(config.aws).toEqual({ region: 'eu-west-2', endpoint: 'http://127.0.0.1:4566' });
    expect(config.concurrency.db).toBe(2);
    expect(config.devPort).toBe(7300);
  });

  it.each([
    [
      { SCIOPS_CONCURRENCY_DOCKER: 'many' },
      'SCIOPS_CONCURRENCY_DOCKER',
      'SCIOPS_CONCURRENCY_DOCKER: "many" is not a whole number from 1 to 1000; unset it to use 8',
    ],
    [
      { SCIOPS_CONCURRENCY_AWS: '0' },
      'SCIOPS_CONCURRENCY_AWS',
      'SCIOPS_CONCURRENCY_AWS: "0" is not a whole number from 1 to 1000; unset it to use 16',
    ],
    [
      { DATABASE_URL: 'localhost:5432' },
      'DATABASE_URL',
      'DATABASE_URL: scheme "localhost:" is not supported; use the form postgres://user:password@host:5432/database',
    ],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL', 'DATABASE_URL: not a URL; use the form postgres://user:password@host:5432/database'],
    [
      { DOCKER_HOST: 'ssh://me@host' },
      'DOCKER_HOST',
      'DOCKER_HOST: scheme "ssh:" is not supported; use the form unix:///var/run/docker.sock or tcp://host:2375',
    ],
    [{ AWS_REGION: 'Mars' }, 'AWS_REGION', 'AWS_REGION: "Mars" is not an AWS region name such as us-east-1'],
    [
      { AWS_ENDPOINT_URL: 'ftp://x' },
      'AWS_ENDPOINT_URL',
      'AWS_ENDPOINT_URL: scheme "ftp:" is not supported; use the form http://127.0.0.1:4566',
    ],
  ])('rejects %j naming the setting', (env, setting, message) => {
    const err = configError(env);
    expect(err.setting).toBe(setting);
    expect(err.message).toBe(message);
  });

  it('never echoes a malformed DATABASE_URL, which may hold a password', () => {
    expect(configError({ DATABASE_URL: 'postgres//user:hunter2@db' }).message).not.toContain('hunter2');
  });
});

describe('parseDockerHost', () => {
  it('reads unix sockets and tcp endpoints', () => {
    expect(parseDockerHost('unix:///run/n2/docker.sock').socketPath).toBe('/run/n2/docker.sock');
    expect(parseDockerHost('https://engine:2376')).toMatchObject({ host: 'engine', port: 2376, protocol: 'https' });
    expect(parseDockerHost('tcp://engine')).toMatchObject({ host: 'engine', port: 2375 });
  });
});

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/app')).toBe('postgres://app:***@db:5432/app');
    expect(redactUrl('postgres://app@db/app')).toBe('postgres://app@db/app');
    expect(redactUrl('garbage with s3cret')).toBe('(unparseable URL)');
  });
});
