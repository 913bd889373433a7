import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult, DoctorReport } from '../../common/doctor';
import { Failure } from '../../common/failures';
import { progressQuery } from '../../common/progress';
import { Queue } from '../../common/queues';
import { WorkflowType } from '../../common/workflow-types';
import { createJobQueue } from '../support/aws-fixtures';
import { useTestbed } from '../support/harness';
import { resetAws } from '../support/workers';

const NODE2 = 'sciops-node2';
const t = useTestbed();
let counter = 0;

function startDoctor(input: unknown) {
  return t.client.workflow.start<(input: unknown) => Promise<DoctorReport>>(WorkflowType.doctor, {
    taskQueue: Queue.workflows,
    workflowId: `doctor-test-${Date.now()}-${counter++}`,
    args: [input],
  });
}

function check(report: DoctorReport, name: string): CheckResult {
  const found = report.checks.find((c) => c.check === name);
  if (found === undefined) throw new Error(`no check ${name} in ${JSON.stringify(report)}`);
  return found;
}

const fact = (result: CheckResult, key: string) => Object.fromEntries(result.facts)[key];

beforeAll(async () => {
  await resetAws();
  await createJobQueue('doctor-queue');
});

describe('doctor workflow, through a worker on every queue', () => {
  it('reports both swarm engines, PostgreSQL and the AWS emulator as healthy', async () => {
    const { bed } = t;
    const report = await t.withWorkers(
      [
        { queues: ['sciops', 'docker', 'db', 'aws'] },
        // The node-local worker runs beside node 2's own engine.
        { queues: [], node: NODE2, env: { DOCKER_HOST: bed.node2DockerHost } },
      ],
      async () => {
        const handle = await startDoctor({ nodes: [NODE2] });
        const result = await handle.result();
        const progress = await handle.query(progressQuery);
        expect(progress.state).toBe('completed');
        expect(progress.steps.map((s) => [s.name, s.state])).toEqual([
          ['docker', 'done'],
          [`docker@${NODE2}`, 'done'],
          ['db', 'done'],
          ['aws', 'done'],
          // No SCIOPS_BACKUP_DIR on the db worker: nothing to compare (doctor-shared-workers.test.ts).
          ['local backups', 'skipped'],
        ]);
        return result;
      },
    );

    expect(report.checks.map((c) => [c.check, c.status])).toEqual([
      ['docker', 'ok'],
      [`docker@${NODE2}`, 'ok'],
      ['db', 'ok'],
      ['aws', 'ok'],
    ]);
    expect(report.status).toBe('ok');

    const docker = check(report, 'docker');
    expect(fact(docker, 'swarm')).toBe('active');
    expect(fact(docker, 'role')).toBe('manager');
    expect(fact(docker, 'nodes')).toContain(`${NODE2} (worker, ready, active)`);
    expect(fact(docker, 'nodes')).toMatch(/\(manager, ready, active\)/);

    const node2 = check(report, `docker@${NODE2}`);
    expect(fact(node2, 'host')).toBe(NODE2);
    expect(fact(node2, 'role')).toBe('worker');
    expect(fact(node2, 'DOCKER_HOST')).toBe(bed.node2DockerHost);

    const db = check(report, 'db');
    expect(fact(db, 'server')).toMatch(/^PostgreSQL \d+/);
    expect(fact(db, 'can dump')).toBe('yes');
    expect(fact(db, 'can restore')).toBe('yes');
    expect(fact(db, 'DATABASE_URL')).toMatch(/^postgres:\/\/sciops:\*\*\*@127\.0\.0\.1:\d+\/sciops$/);

    const aws = check(report, 'aws');
    expect(fact(aws, 'batch job queues')).toBe('doctor-queue (ENABLED/VALID)');
    expect(fact(aws, 'endpoint')).toBe(bed.awsEndpoint);
  });

  it('reports a queue no worker polls as failed, with the command that starts one, and still completes', async () => {
    const report = await t.withWorkers([{ queues: ['sciops', 'docker', 'db'] }], () =>
      startDoctor({ waitSeconds: 2 }).then((h) => h.result()),
    );
    const aws = check(report, 'aws');
    expect(aws.status).toBe('fail');
    expect(aws.summary).toBe('no worker picked up the check on task queue "aws" within 2s');
    expect(aws.fix).toBe('start one where it can reach the system: sciops worker --queues aws');
    expect(check(report, 'docker').status).toBe('ok');
    expect(report.status).toBe('fail');
  });

  it('names the setting to fix when the engine, the database or the AWS endpoint cannot be reached', async () => {
    const wrongPassword = new URL(t.bed.databaseUrl);
    wrongPassword.password = 'not-the-password';
    const report = await t.withWorkers(
      [
        {
          queues: ['sciops', 'docker', 'db', 'aws'],
          env: {
            DOCKER_HOST: 'unix:///var/run/sciops-no-such.sock',
            DATABASE_URL: wrongPassword.toString(),
            AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
          },
        },
      ],
      () => startDoctor({}).then((h) => h.result()),
    );
    const docker = check(report, 'docker');
    expect(docker.status).toBe('fail');
    expect(docker.summary).toBe('no Docker engine at DOCKER_HOST=unix:///var/run/sciops-no-such.sock: the socket does not exist');

    const db = check(report, 'db');
    expect(db.status).toBe('fail');
    expect(db.summary).toMatch(/^PostgreSQL refused the login in DATABASE_URL=postgres:\/\/sciops:\*\*\*@/);
    expect(db.fix).toContain('fix the user or password in DATABASE_URL');
    expect(JSON.stringify(report)).not.toContain('not-the-password');

    const aws = check(report, 'aws');
    expect(aws.status).toBe('fail');
    expect(aws.summary).toBe('nothing answers at AWS_ENDPOINT_URL=http://127.0.0.1:9: connection refused');
  });

  it('fails a node-local worker that talks to another node’s engine', async () => {
    const report = await t.withWorkers([{ queues: ['sciops', 'docker', 'db', 'aws'] }, { queues: [], node: 'not-this-host' }], () =>
      startDoctor({ nodes: ['not-this-host'] }).then((h) => h.result()),
    );
    const local = check(report, 'docker@not-this-host');
    expect(local.status).toBe('fail');
    expect(local.summary).toMatch(/^the worker for node not-this-host talks to the engine of host /);
  });

  it('rejects invalid input at the top of the workflow, naming the field, without retrying', async () => {
    await t.withWorkers([{ queues: ['sciops'] }], async () => {
      for (const [input, message] of [
        [{ nodez: ['x'] }, 'invalid doctor input: nodez: unknown field; remove it or check its spelling'],
        [{ waitSeconds: 0 }, 'invalid doctor input: waitSeconds: Too small: expected number to be >=1'],
        [{ nodes: ['bad name!'] }, 'invalid doctor input: nodes[0]: not a node name: use the hostname `docker node ls` shows'],
      ] as const) {
        const handle = await startDoctor(input);
        const err = await handle.result().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WorkflowFailedError);
        const cause = (err as WorkflowFailedError).cause;
        expect(cause).toBeInstanceOf(ApplicationFailure);
        expect((cause as ApplicationFailure).type).toBe(Failure.invalidInput);
        expect((cause as ApplicationFailure).nonRetryable).toBe(true);
        expect(cause?.message).toBe(message);
      }
    });
  });
});
