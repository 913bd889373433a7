import { describe, expect, it } from 'vitest';
import { checkTestbed } from '../support/testbed';

describe('the test harness', () => {
  it('fails, naming every missing service and how to start them, instead of skipping', async () => {
    const err = await checkTestbed({
      temporalCliPath: '/nonexistent/temporal',
      testServerPath: '/nonexistent/temporal-test-server',
      dockerHost: 'unix:///nonexistent/docker.sock',
      node2DockerHost: 'unix:///nonexistent/node2.sock',
      node3DockerHost: 'unix:///nonexistent/node3.sock',
      databaseUrl: 'postgres://sciops:x@127.0.0.1:1/sciops',
      awsEndpoint: 'http://127.0.0.1:1',
      awsRegion: 'us-east-1',
      mongoUrl: 'mongodb://127.0.0.1:1/',
      mongoTools: '/nonexistent/mongo-tools',
      chromium: '/nonexistent/chromium',
      compose: '/nonexistent/docker-compose',
    }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    const lines = (err as Error).message.split('\n');
    expect(lines[0]).toBe('test services missing:');
    for (const service of [
      'Temporal CLI',
      'Temporal test server',
      'Docker engine',
      'second swarm node',
      'spare engine',
      'PostgreSQL',
      'AWS emulator',
      'MongoDB-wire server',
      'headless browser',
      'workers image',
      'Docker Compose',
      'mongodump',
      'mongorestore',
    ]) {
      expect(lines.some((l) => l.startsWith(`  - ${service} (`))).toBe(true);
    }
    expect(lines.at(-1)).toBe('Fix: start the testbed with `bash scripts/testbed.sh` (npm test does it)');
  });
});
