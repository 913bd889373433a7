import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { BackupReport } from '../../common/backup';
import { Queue } from '../../common/queues';
import { WorkflowType } from '../../common/workflow-types';
import { logEntries } from '../support/cli';
import { tempDir, uniqueId } from '../support/experiments';
import { useTestbed } from '../support/harness';
import { freePort } from '../support/ports';
import { WORKERS_IMAGE } from '../support/testbed';

/** Built from this checkout's Dockerfile by the testbed (scripts/workers-image.sh). */
const IMAGE = WORKERS_IMAGE;
const name = `sciops-image-test-${process.pid}`;
const backups = tempDir('image-backups');
let metricsPort: number;

/** The environment that points the docker CLI at the testbed's engine. */
const dockerEnv = () => ({ ...process.env, DOCKER_HOST: t.bed.dockerHost });

function docker(args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', env: dockerEnv() });
}

const t = useTestbed({
  databases: ['sciops_image'],
  before: async (t) => {
    metricsPort = await freePort();
    const db = t.database('sciops_image');
    await db.pool.query(
      'create table samples (id serial primary key, name text); insert into samples (name) select md5(i::text) from generate_series(1, 500) i',
    );
    chmodSync(backups, 0o777); // the image's worker runs as its own user
    // The db queue's worker from the image, as docker-compose.yml runs it: pg_dump and gzip come from the image.
    spawn(
      'docker',
      [
        'run',
        '--rm',
        '--name',
        name,
        '--network',
        'host',
        '-e',
        `TEMPORAL_ADDRESS=${inject('temporalAddress')}`,
        '-e',
        `DATABASE_URL=${db.url}`,
        '-e',
        `SCIOPS_IMAGE_TEST_DB=${db.url}`,
        '-e',
        `SCIOPS_METRICS_ADDRESS=127.0.0.1:${metricsPort}`,
        '-e',
        'SCIOPS_RECOVERY_MINUTES=0',
        '-v',
        `${backups}:${backups}`,
        IMAGE,
        'worker',
        '--queues',
        'db',
      ],
      { stdio: 'ignore', env: dockerEnv() },
    );
  },
  // Workflows and the manager's file work (manifest, checks) stay in-process; every dump goes through the image.
  workers: () => [{ queues: ['sciops', 'docker'] }],
});

// Runs before the harness's teardown: the image's worker goes before the in-process ones stop and the database is dropped.
afterAll(() => {
  execFileSync('docker', ['rm', '-f', name], { stdio: 'ignore', env: dockerEnv() });
});

describe('the workers image built from the Dockerfile', () => {
  it('runs a db worker that backs up PostgreSQL with the tools in the image, logging JSON and passing its healthcheck', async () => {
    const report = (await t.client.workflow.execute(WorkflowType.backup, {
      taskQueue: Queue.workflows,
      workflowId: uniqueId('image-backup'),
      args: [
        {
          name: 'image-check',
          targets: [{ kind: 'postgres', name: 'db', urlEnv: 'SCIOPS_IMAGE_TEST_DB' }],
          destination: { kind: 'local', dir: backups },
        },
      ],
    })) as BackupReport;
    expect(report.dumps).toMatchObject([{ target: 'db', kind: 'postgres', tables: { 'public.samples': 500 } }]);
    expect(report.dumps[0]?.tool).toMatch(/^pg_dump \(PostgreSQL\) \d+/);
    expect(readdirSync(path.join(backups, 'image-check', report.run)).sort()).toEqual([`db-${report.run}.sql.gz`, 'manifest.json']);

    // The compose file's healthcheck, run inside the container.
    docker([
      'exec',
      name,
      'node',
      '-e',
      `fetch('http://127.0.0.1:${metricsPort}/metrics').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
    ]);
    // The worker logs to stderr, which `docker logs` gives back on its own stderr.
    const logs = spawnSync('docker', ['logs', name], { encoding: 'utf8', env: dockerEnv() });
    const entries = logEntries(logs.stderr);
    expect(entries[0]).toMatchObject({ level: 'info', msg: expect.stringMatching(/^polling db on /) });
    expect(docker(['exec', name, 'id', '-un']).trim()).toBe('sciops');
  });
});
