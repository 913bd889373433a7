import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { execIn } from '../../activities/docker/stack-exec';
import type { BackupReport } from '../../common/backup';
import { parseDockerHost } from '../../common/config';
import { Queue } from '../../common/queues';
import type { RestoreReport } from '../../common/restore';
import { WorkflowType } from '../../common/workflow-types';
import { dockerClient } from '../../workers/create-workers';
import { eventually, tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { useTestbed, type WorkerOptions } from '../support/harness';
import { removeService } from '../support/services';

// Issue 14 part 3, service mode: a PostgreSQL server that runs as a swarm service on the second node and
// publishes no port is dumped and restored inside its own task (docker exec on that node's queue), with the
// server's own pg_dump and psql, as the runbook's `docker exec db pg_dump` does.
const NODE2 = 'sciops-node2';
const suffix = Date.now().toString(36);
const service = `sciops-pgsvc-${suffix}`;
const dir = tempDir('pg-service');
const destination = { kind: 'local', dir };
const target = { kind: 'postgres', name: 'db', service, database: 'omics', user: 'omics' };
const SEED = `create table samples (id int primary key, name text not null, note text);
create table "Gene Expr" (id serial primary key, gene text, value double precision);
insert into samples select i, 'sample ' || i, E'tab\\there, line\\nbreak, back\\\\slash ' || md5(i::text) from generate_series(1, 2500) i;
insert into "Gene Expr" (gene, value) select 'G' || i, i / 7.0 from generate_series(1, 1200) i;
create table readings (id int, at date not null, v int) partition by range (at);
create table readings_2025 partition of readings for values from ('2025-01-01') to ('2026-01-01');
create table readings_2026 partition of readings for values from ('2026-01-01') to ('2027-01-01');
insert into readings select i, date '2025-06-01' + (i % 400), i from generate_series(1, 900) i;`;

const t = useTestbed({
  workers: (t): WorkerOptions[] => [
    { queues: ['sciops', 'docker', 'db'], env: { SCIOPS_BACKUP_DIR: dir } },
    { queues: [], node: NODE2, env: { DOCKER_HOST: t.bed.node2DockerHost, SCIOPS_BACKUP_DIR: dir } },
  ],
  after: async (t) => {
    await removeService(t.docker, service);
  },
});
const manager = t.docker;
const node2 = dockerClient(parseDockerHost(t.bed.node2DockerHost));

const run = <T>(type: string, input: unknown) =>
  t.client.workflow.execute(type, { taskQueue: Queue.workflows, workflowId: uniqueId(type), args: [input] }) as Promise<T>;

/** The container of the service's running task, on the second node's engine. */
async function taskContainer(): Promise<string> {
  return eventually(`a running task of ${service}`, 120_000, async () => {
    const tasks = (await manager.listTasks({ filters: { service: [service], 'desired-state': ['running'] } })) as Array<{
      Status: { State: string; ContainerStatus?: { ContainerID?: string } };
    }>;
    return tasks.find((t) => t.Status.State === 'running')?.Status.ContainerStatus?.ContainerID;
  });
}

/** Runs SQL with psql inside the service's task; returns its unaligned output. */
async function sql(text: string): Promise<string> {
  const { exitCode, output } = await execIn(node2, await taskContainer(), [
    'psql',
    '-X',
    '-A',
    '-t',
    '-v',
    'ON_ERROR_STOP=1',
    '-U',
    'omics',
    '-d',
    'omics',
    '-c',
    text,
  ]);
  if (exitCode !== 0) throw new Error(`psql failed: ${output}`);
  return output.trim();
}

/** One digest of every row of both tables, in a stable order. */
const digest = () =>
  sql(`select md5(coalesce((select string_agg(s::text, '|' order by id) from samples s), '') ||
    coalesce((select string_agg(g::text, '|' order by id) from "Gene Expr" g), '') ||
    coalesce((select string_agg(r::text, '|' order by id) from readings r), ''))`);

// A hook of its own for the time the server's first start (initdb on the second node) may take; it needs no workers.
beforeAll(async () => {
  await manager.createService({
    Name: service,
    TaskTemplate: {
      ContainerSpec: { Image: 'local/postgres:15', Env: ['POSTGRES_USER=omics', 'POSTGRES_PASSWORD=not-published', 'POSTGRES_DB=omics'] },
      Placement: { Constraints: [`node.hostname == ${NODE2}`] },
    },
    Mode: { Replicated: { Replicas: 1 } },
  });
  await eventually('the service database to accept connections', 120_000, async () =>
    (await execIn(node2, await taskContainer(), ['pg_isready', '-U', 'omics', '-d', 'omics'])).exitCode === 0 ? true : undefined,
  );
  // pg_isready answers during initdb's own temporary start too: wait for the server that stays.
  await eventually('the schema to be created', 60_000, async () =>
    sql(SEED).then(
      () => true,
      () => undefined,
    ),
  );
}, 300_000);

describe('PostgreSQL inside a swarm service (service mode)', () => {
  it("backs up with the server's own pg_dump in its task, verifies, and restores: the same rows, digest for digest", async () => {
    const before = await digest();
    const report = await run<BackupReport>(WorkflowType.backup, {
      name: `svc-${suffix}`,
      targets: [target],
      destination,
      verify: true,
    });
    const [dump] = report.dumps;
    expect(dump).toMatchObject({
      target: 'db',
      kind: 'postgres',
      tables: {
        'public.samples': 2500,
        'public.Gene Expr': 1200,
        // A partitioned table's rows are counted in its partitions, as pg_dump copies them.
        'public.readings_2025': 528,
        'public.readings_2026': 372,
      },
    });
    expect(dump?.tool).toMatch(/^pg_dump \(PostgreSQL\) 15\./);
    expect(dump?.server).toMatch(/^15\./);
    expect(report.verified).toBe(true);
    const text = gunzipSync(readFileSync(path.join(dir, `svc-${suffix}`, report.run, dump?.file as string))).toString();
    expect(text).toContain('COPY public.samples (id, name, note) FROM stdin;');
    expect(text).not.toContain('CREATE TABLE'); // data-only, as the runbook's pg_dump --data-only

    await sql(`delete from samples where id > 100; update "Gene Expr" set value = 0; insert into samples values (9999, 'late', null)`);
    expect(await digest()).not.toBe(before);
    const input = { destination, backup: `svc-${suffix}`, run: report.run };
    // Data in the target: refused without force, having changed nothing.
    const refused = await failureOf(run(WorkflowType.restore, input));
    expect(refused.message).toMatch(/rows in 4 tables/);
    const restored = await run<RestoreReport>(WorkflowType.restore, { ...input, force: true });
    expect(restored.restored).toEqual(['db']);
    expect(await digest()).toBe(before);
  }, 300_000);

  it('a full dump (schema and data) restores into the database dropped and made anew', async () => {
    const before = await digest();
    const name = `svcfull-${suffix}`;
    const report = await run<BackupReport>(WorkflowType.backup, { name, targets: [{ ...target, mode: 'full' }], destination });
    await sql('drop table "Gene Expr"; create table stray (id int)');
    await run<RestoreReport>(WorkflowType.restore, { destination, backup: name, run: report.run, force: true });
    expect(await digest()).toBe(before);
    expect(await sql("select count(*) from pg_tables where tablename = 'stray'")).toBe('0');
  }, 300_000);

  it('a service that does not exist is refused before any change: no run folder, nothing written', async () => {
    const name = `nosvc-${suffix}`;
    const failure = await failureOf(
      run(WorkflowType.backup, { name, targets: [{ ...target, service: `sciops-absent-${suffix}` }], destination }),
    );
    expect(failure.message).toMatch(new RegExp(`service sciops-absent-${suffix}`));
    expect(existsSync(path.join(dir, name))).toBe(false);
  }, 120_000);
});
