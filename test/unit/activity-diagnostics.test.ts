import { describe, expect, it } from 'vitest';
import { describeJobQueues } from '../../activities/aws/account-health';
import { explainAwsError } from '../../activities/aws/errors';
import { explainPgError } from '../../activities/db/errors';
import { assessPrivileges, majorVersion } from '../../activities/db/privileges';
import { describeNodes } from '../../activities/docker/engine-health';
import { explainDockerError } from '../../activities/docker/errors';

const ENDPOINT = 'unix:///var/run/docker.sock';

describe('explainDockerError', () => {
  it.each([
    ['ENOENT', 'no Docker engine at DOCKER_HOST=unix:///var/run/docker.sock: the socket does not exist'],
    ['ECONNREFUSED', 'no Docker engine answers at DOCKER_HOST=unix:///var/run/docker.sock: connection refused'],
    ['EACCES', 'permission denied on the Docker socket at DOCKER_HOST=unix:///var/run/docker.sock'],
  ])('%s names DOCKER_HOST', (code, summary) => {
    expect(explainDockerError(Object.assign(new Error('x'), { code }), ENDPOINT).summary).toBe(summary);
  });
  it('passes an engine error message on', () => {
    const err = Object.assign(new Error('(HTTP code 503)'), { statusCode: 503, json: { message: 'This node is not a swarm manager.' } });
    expect(explainDockerError(err, ENDPOINT).summary).toBe(
      'the Docker engine at DOCKER_HOST=unix:///var/run/docker.sock answered 503: This node is not a swarm manager.',
    );
  });
});

describe('describeNodes', () => {
  it('lists nodes sorted and flags those not ready or not active', () => {
    const node = (name: string, role: string, state: string, availability: string) => ({
      Description: { Hostname: name },
      Spec: { Role: role, Availability: availability },
      Status: { State: state },
    });
    const { lines, unhealthy } = describeNodes([
      node('b', 'worker', 'down', 'active'),
      node('a', 'manager', 'ready', 'active'),
      node('c', 'worker', 'ready', 'drain'),
    ]);
    expect(lines).toEqual(['a (manager, ready, active)', 'b (worker, down, active)', 'c (worker, ready, drain)']);
    expect(unhealthy).toEqual(['b is down/active', 'c is ready/drain']);
  });
});

describe('explainPgError', () => {
  const url = 'postgres://app:***@db:5432/app';
  it.each([
    ['ECONNREFUSED', 'no PostgreSQL answers at DATABASE_URL=postgres://app:***@db:5432/app: connection refused'],
    ['3D000', 'the database in DATABASE_URL=postgres://app:***@db:5432/app does not exist'],
    ['ENOTFOUND', 'the host in DATABASE_URL=postgres://app:***@db:5432/app cannot be resolved'],
  ])('%s names DATABASE_URL', (code, summary) => {
    expect(explainPgError(Object.assign(new Error('x'), { code }), url).summary).toBe(summary);
  });
  it('points a refused login at the user and password', () => {
    const { fix } = explainPgError(Object.assign(new Error('password authentication failed'), { code: '28P01' }), url);
    expect(fix).toBe('fix the user or password in DATABASE_URL (or pg_hba.conf on the server)');
  });
});

describe('assessPrivileges', () => {
  const role = { user: 'app', superuser: false, createdb: false, ownsDatabase: false, readAllData: false };
  it('a superuser can do both', () => {
    expect(assessPrivileges({ ...role, superuser: true })).toEqual({ dump: true, restore: true, missing: [] });
  });
  it('an owner without CREATEDB can dump but not restore', () => {
    const result = assessPrivileges({ ...role, ownsDatabase: true });
    expect(result.dump).toBe(true);
    expect(result.restore).toBe(false);
    expect(result.missing).toEqual(['restore needs role app to own the database and have CREATEDB (ALTER ROLE app CREATEDB)']);
  });
  it('pg_read_all_data is enough to dump', () => {
    expect(assessPrivileges({ ...role, readAllData: true }).dump).toBe(true);
  });
  it('a plain role can do neither', () => {
    expect(assessPrivileges(role).missing).toHaveLength(2);
  });
});

describe('majorVersion', () => {
  it('reads server and client version strings', () => {
    expect(majorVersion('15.18 (Debian 15.18-0+deb12u1)')).toBe(15);
    expect(majorVersion('pg_dump (PostgreSQL) 16.2')).toBe(16);
    expect(majorVersion('unknown')).toBeUndefined();
  });
});

describe('AWS diagnostics', () => {
  it('names the credentials settings when none are found', () => {
    const err = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    expect(explainAwsError(err, 'AWS (us-east-1)')).toEqual({
      summary: 'no AWS credentials found for AWS (us-east-1)',
      fix: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (an emulator accepts any, e.g. test/test)',
    });
  });
  it('flags job queues that cannot take jobs', () => {
    const { lines, unusable } = describeJobQueues([
      { jobQueueName: 'gpu', state: 'ENABLED', status: 'VALID', jobQueueArn: 'a', priority: 1, computeEnvironmentOrder: [] },
      { jobQueueName: 'old', state: 'DISABLED', status: 'VALID', jobQueueArn: 'b', priority: 1, computeEnvironmentOrder: [] },
    ]);
    expect(lines).toEqual(['gpu (ENABLED/VALID)', 'old (DISABLED/VALID)']);
    expect(unusable).toEqual(['old']);
  });
});
