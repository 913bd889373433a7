import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { createDockerActivities } from '../../activities/docker';
import { readConfig } from '../../common/config';
import { BACKUP_DIR_CHECK, type CheckResult, type DoctorReport } from '../../common/doctor';
import { progressQuery } from '../../common/progress';
import { nodeQueue, Queue } from '../../common/queues';
import { WorkflowType } from '../../common/workflow-types';
import { createActivityClients, dockerClient } from '../../workers/create-workers';
import { tempDir } from '../support/experiments';
import { useTestbed, type WorkerOptions } from '../support/harness';

const t = useTestbed();
let counter = 0;

async function doctor(input: unknown): Promise<{ report: DoctorReport; steps: Array<[string, string]> }> {
  const handle = await t.client.workflow.start<(input: unknown) => Promise<DoctorReport>>(WorkflowType.doctor, {
    taskQueue: Queue.workflows,
    workflowId: `doctor-shared-${Date.now()}-${counter++}`,
    args: [input],
  });
  const report = await handle.result();
  const progress = await handle.query(progressQuery);
  return { report, steps: progress.steps.map((s) => [s.name, s.state]) };
}

function line(report: DoctorReport, name: string): CheckResult | undefined {
  return report.checks.find((c) => c.check === name);
}

const fact = (result: CheckResult | undefined, key: string) => Object.fromEntries(result?.facts ?? [])[key];

/** The workflow and db workers with one SCIOPS_BACKUP_DIR, the docker worker with another (or none). */
function dbAndDocker(dbDir: string | undefined, dockerDir: string | undefined): WorkerOptions[] {
  const env = (dir: string | undefined): Record<string, string> => (dir === undefined ? {} : { SCIOPS_BACKUP_DIR: dir });
  return [
    { queues: ['sciops', 'db'], env: env(dbDir) },
    { queues: ['docker'], env: env(dockerDir) },
  ];
}

describe('doctor: the db and docker workers keep local backups in one directory', () => {
  it('passes when both have the same SCIOPS_BACKUP_DIR, and leaves nothing in it', async () => {
    const dir = tempDir('doctor-backups');
    const { report, steps } = await t.withWorkers(dbAndDocker(dir, dir), () => doctor({ waitSeconds: 3 }));
    const result = line(report, BACKUP_DIR_CHECK);
    expect(result?.status, JSON.stringify(result)).toBe('ok');
    expect(result?.summary).toBe(
      `the db and docker workers share ${dir}: a file written by the db worker was read and removed by the docker worker`,
    );
    expect(steps).toContainEqual([BACKUP_DIR_CHECK, 'done']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('fails when the docker worker keeps them in another directory, naming both, and removes the probe', async () => {
    const dbDir = tempDir('doctor-backups-db');
    const dockerDir = tempDir('doctor-backups-docker');
    const { report, steps } = await t.withWorkers(dbAndDocker(dbDir, dockerDir), () => doctor({ waitSeconds: 3 }));
    const result = line(report, BACKUP_DIR_CHECK);
    expect(result?.status).toBe('fail');
    expect(result?.summary).toBe(
      `the db worker keeps local backups in ${dbDir} and the docker worker in ${dockerDir}, and they are not the same directory`,
    );
    expect(result?.fix).toContain(`mount one volume (or shared file system) at ${dbDir} on both the db and the docker worker`);
    expect(fact(result, 'docker worker')).toBe(`SCIOPS_BACKUP_DIR=${dockerDir}`);
    expect(report.status).toBe('fail');
    expect(steps).toContainEqual([BACKUP_DIR_CHECK, 'failed']);
    expect(readdirSync(dbDir)).toEqual([]);
    expect(readdirSync(dockerDir)).toEqual([]);
  });

  it('fails when only the db worker has a backup directory, or it does not exist there', async () => {
    const dir = tempDir('doctor-backups-db-only');
    const onlyDb = await t.withWorkers(dbAndDocker(dir, undefined), () => doctor({ waitSeconds: 3 }));
    expect(line(onlyDb.report, BACKUP_DIR_CHECK)?.summary).toBe(
      `the db worker keeps local backups in ${dir}, but the docker worker (which verifies and prunes them) has no SCIOPS_BACKUP_DIR`,
    );

    const missing = path.join(dir, 'not-mounted');
    const notThere = await t.withWorkers(dbAndDocker(missing, missing), () => doctor({ waitSeconds: 3 }));
    const result = line(notThere.report, BACKUP_DIR_CHECK);
    expect(result?.status).toBe('fail');
    expect(result?.summary).toBe(`the db worker cannot write in SCIOPS_BACKUP_DIR=${missing}: it does not exist`);
  });

  it('is left out when the db worker has no SCIOPS_BACKUP_DIR', async () => {
    const { report, steps } = await t.withWorkers(dbAndDocker(undefined, undefined), () => doctor({ waitSeconds: 3 }));
    expect(line(report, BACKUP_DIR_CHECK)).toBeUndefined();
    expect(steps).toContainEqual([BACKUP_DIR_CHECK, 'skipped']);
  });
});

describe('doctor: one host per docker queue', () => {
  it('passes with the one worker on the docker queue, naming it', async () => {
    const { report } = await t.withWorkers(dbAndDocker(undefined, undefined), () => doctor({ waitSeconds: 3 }));
    const docker = line(report, Queue.docker);
    expect(docker?.status).toBe('ok');
    // Earlier test files' workers, on this host too, may still be listed.
    expect(fact(docker, 'workers')).toContain(`${process.pid}@${os.hostname()}`);
  });

  // On a node queue of its own: the server lists a stopped worker for minutes, and the docker queue is every test's.
  it('fails a queue that workers on two hosts poll, naming them and what to run instead', async () => {
    const node = `m2-${Date.now().toString(36)}`;
    const queue = nodeQueue(node);
    const elsewhere = '4242@another-host';
    const report = await t.withWorkers([{ queues: ['sciops'], node }], async () => {
      // A second poller of the node's queue, as a worker on another host would be.
      const config = readConfig(process.env);
      const dirs = { experiments: tempDir('doctor-m2-experiments'), secrets: tempDir('doctor-m2-secrets') };
      const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
      const s3 = createActivityClients(config, [], node).s3;
      const other = await Worker.create({
        connection,
        namespace: 'default',
        taskQueue: queue,
        identity: elsewhere,
        activities: createDockerActivities(dockerClient(config.docker), config.docker.text, dirs, s3),
      });
      const running = other.run();
      try {
        await untilPolledBy(queue, 2);
        return (await doctor({ nodes: [node], waitSeconds: 3 })).report;
      } finally {
        other.shutdown();
        await running;
        await connection.close();
      }
    });
    const result = line(report, queue);
    expect(result?.status).toBe('fail');
    // Listed host by host.
    const byHost = [elsewhere, `${process.pid}@${os.hostname()}`].sort((a, b) => a.split('@')[1].localeCompare(b.split('@')[1]));
    expect(result?.summary).toBe(
      `workers on 2 hosts poll task queue "${queue}" (${byHost.join(', ')}), and it must be one engine's: a retry on another host's worker does not find what the first one started on its engine`,
    );
    expect(result?.fix).toBe(
      `stop all but one worker started with --node ${node}: the one on ${node} itself; a worker stopped in the last 90 seconds is still listed`,
    );
  });
});

/** Waits until the server lists `count` pollers of the activity queue (a new worker polls within a second). */
async function untilPolledBy(queue: string, count: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const { pollers } = await t.client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: queue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    });
    if ((pollers ?? []).length >= count) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${queue} never had ${count} pollers`);
}
