import { execFileSync, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DoctorReport } from '../../common/doctor';
import { newCodecKey } from '../../common/payload-encryption';
import { createJobQueue } from '../support/aws-fixtures';
import { CliProcess, logEntries, runCli } from '../support/cli';
import { freePort } from '../support/ports';
import { loadTestbed } from '../support/testbed';
import { resetAws } from '../support/workers';

const NODE2 = 'sciops-node2';
/** No stack traces: an operator gets one line per problem. */
const ONE_LINE = /^sciops( worker)?: [^\n]+\n$/;

let env: NodeJS.ProcessEnv;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  loadTestbed();
  env = { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: 'default' };
  await resetAws();
  await createJobQueue('e2e-queue');
});

describe('sciops CLI against real workers and services', () => {
  const workers: CliProcess[] = [];

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL', 5000).catch(() => undefined)));
  });

  it('runs the doctor end to end: client -> workflow -> a worker process per queue -> report', async () => {
    const bed = loadTestbed();
    const all = new CliProcess(['worker'], env);
    const node2 = new CliProcess(['worker', '--node', NODE2], { ...env, DOCKER_HOST: bed.node2DockerHost });
    workers.push(all, node2);
    // The docker worker polls its engine's node queue too (docker@<engine name>), listed last.
    await all.waitFor(/polling sciops, docker, db, aws, docker@\S+ on /, 60_000);
    await node2.waitFor(new RegExp(`polling docker@${NODE2} on `), 60_000);

    const table = await runCli(['doctor', '--node', NODE2], env);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ok {4}docker {2,}engine .+, swarm manager with 2 ready node\(s\)$/m);
    expect(table.stdout).toMatch(new RegExp(`^ok {4}docker@${NODE2} +engine .+, swarm worker node ${NODE2}$`, 'm'));
    expect(table.stdout).toMatch(/^ok {4}db {2,}PostgreSQL \d+/m);
    expect(table.stdout).toMatch(/^ok {4}aws {2,}.+ answers; 1 Batch job queue\(s\)/m);
    expect(table.stdout).toContain('overall: ok (4 ok, 0 warn, 0 fail)');

    const json = await runCli(['--json', 'doctor'], env);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as DoctorReport;
    expect(report.status).toBe('ok');
    expect(report.checks.map((c) => c.check)).toEqual(['docker', 'db', 'aws']);
  });

  it('stops workers gracefully on SIGTERM and SIGINT', async () => {
    const [all, node2] = workers.splice(0, 2);
    expect(await all.stop('SIGTERM', 40_000)).toBe(0);
    expect(logEntries(all.stderr).at(-1)).toMatchObject({ level: 'info', msg: 'stopped' });
    expect(await node2.stop('SIGINT', 40_000)).toBe(0);
  });

  it('reports a queue no worker polls as a failed check and exits 1', async () => {
    const partial = new CliProcess(['worker', '--queues', 'sciops,db,aws'], env);
    workers.push(partial);
    await partial.waitFor(/polling sciops, db, aws on /, 60_000);
    const result = await runCli(['doctor', '--wait', '2'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL {2}docker +no worker picked up the check on task queue "docker" within 2s$/m);
    expect(result.stdout).toMatch(/^ +fix +start one where it can reach the system: sciops worker --queues docker$/m);
    expect(await partial.stop('SIGTERM', 40_000)).toBe(0);
  });

  it('warns at start-up, naming the setting, when the engine or the database does not answer, and keeps polling', async () => {
    const url = new URL(loadTestbed().databaseUrl);
    url.port = '1';
    const worker = new CliProcess(['worker', '--queues', 'docker,db'], {
      ...env,
      DOCKER_HOST: 'unix:///var/run/sciops-no-such.sock',
      DATABASE_URL: url.toString(),
    });
    workers.push(worker);
    await worker.waitFor(/no PostgreSQL answers/, 60_000);
    await worker.waitFor(/no Docker engine/, 10_000);
    const warnings = logEntries(worker.stderr).filter((e) => e.level === 'warn');
    expect(warnings).toContainEqual(
      expect.objectContaining({
        msg: 'no Docker engine at DOCKER_HOST=unix:///var/run/sciops-no-such.sock: the socket does not exist; start dockerd on this machine, or set DOCKER_HOST to an engine that runs',
      }),
    );
    expect(warnings).toContainEqual(
      expect.objectContaining({
        msg: expect.stringMatching(
          /^no PostgreSQL answers at DATABASE_URL=postgres:\/\/sciops:\*\*\*@127\.0\.0\.1:1\/sciops: connection refused; /,
        ),
      }),
    );
    expect(worker.child.exitCode).toBeNull();
    expect(await worker.stop('SIGTERM', 40_000)).toBe(0);
  });

  it('loses nothing when the worker is killed mid-run: a new worker finishes the same workflow', async () => {
    // Only workflows at first: the docker, db and aws checks wait for their workers. The worker process
    // itself is killed, as a crash or an OOM kill would.
    const first = new CliProcess(['--queues', 'sciops'], env, 'worker');
    workers.push(first);
    await first.waitFor(/polling sciops on /, 60_000);
    const doctor = runCli(['--json', 'doctor', '--wait', '60'], env, 90_000);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await first.stop('SIGKILL', 10_000)).toBeNull();

    const second = new CliProcess(['worker'], env);
    workers.push(second);
    const result = await doctor;
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as DoctorReport;
    expect(report.checks.map((c) => [c.check, c.status])).toEqual([
      ['docker', 'ok'],
      ['db', 'ok'],
      ['aws', 'ok'],
    ]);
    expect(await second.stop('SIGTERM', 40_000)).toBe(0);
  });

  it('leaves no orphan: when the sciops CLI is killed, the worker it started shuts down', async () => {
    const cli = new CliProcess(['worker', '--queues', 'sciops'], env);
    workers.push(cli);
    await cli.waitFor(/polling sciops on /, 60_000);
    const worker = Number(
      execFileSync('pgrep', ['-P', String(cli.child.pid)])
        .toString()
        .trim(),
    );
    expect(worker).toBeGreaterThan(0);
    expect(await cli.stop('SIGKILL', 10_000)).toBeNull();
    const deadline = Date.now() + 40_000;
    while (alive(worker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(alive(worker)).toBe(false);
  });

  it('says so, instead of waiting forever, when no worker runs workflows', async () => {
    const result = await runCli(['doctor', '--wait', '2'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(ONE_LINE);
    expect(result.stderr).toContain('cannot reach a worker for task queue "sciops" (TEMPORAL_ADDRESS): none picked up doctor within 2s');
  });
});

describe('sciops codec-server', () => {
  it('says where it listens (as JSON with --json), answers the protocol, and stops on Ctrl-C', async () => {
    const port = await freePort();
    const server = new CliProcess(['--json', 'codec-server', '--listen', `127.0.0.1:${port}`, '--ui-origin', 'http://127.0.0.1:8233'], {
      ...env,
      SCIOPS_CODEC_KEYS: newCodecKey('k1'),
    });
    await server.waitFor(/"event":"listening"/, 30_000);
    expect(JSON.parse(server.stdout)).toEqual({ event: 'listening', url: `http://127.0.0.1:${port}`, origins: ['http://127.0.0.1:8233'] });
    const res = await fetch(`http://127.0.0.1:${port}/encode`, { method: 'POST', body: '{}' });
    expect(await res.json()).toEqual({ payloads: [] });
    expect(await server.stop('SIGINT', 10_000)).toBe(0);
  });
});

describe('bad configuration: one line naming the setting, no stack trace', () => {
  it.each([
    [
      ['doctor'],
      { TEMPORAL_ADDRESS: '127.0.0.1:1' },
      1,
      /^sciops: cannot reach the Temporal server at 127\.0\.0\.1:1 \(TEMPORAL_ADDRESS\): /,
    ],
    [['doctor'], { TEMPORAL_ADDRESS: 'http://localhost:7233' }, 2, /^sciops: TEMPORAL_ADDRESS: "http:\/\/localhost:7233" is not host:port/],
    [['doctor', '--wait', '0'], {}, 2, /^sciops: invalid doctor options: waitSeconds: Too small/],
    [['worker'], { DATABASE_URL: 'db.example:5432' }, 2, /^sciops worker: DATABASE_URL: scheme "db\.example:" is not supported/],
    [['worker'], { DATABASE_URL: '' }, 2, /^sciops worker: DATABASE_URL: not set, and the db queue needs it/],
    [['worker', '--queues', 'sciops,dokcer'], {}, 2, /^sciops worker: --queues: unknown queue "dokcer"/],
    [['worker', '--queues', 'docker'], { DOCKER_HOST: 'ssh://host' }, 2, /^sciops worker: DOCKER_HOST: scheme "ssh:" is not supported/],
    [
      ['worker', '--queues', 'docker'],
      { TEMPORAL_ADDRESS: '127.0.0.1:1' },
      1,
      /^sciops worker: cannot reach the Temporal server at 127\.0\.0\.1:1/,
    ],
    [
      ['dev'],
      { TEMPORAL_CLI_PATH: '/nonexistent/temporal' },
      2,
      /^sciops: TEMPORAL_CLI_PATH: \/nonexistent\/temporal is not an executable file$/m,
    ],
    [['nosuch'], {}, 2, /^error: unknown command 'nosuch'/],
  ] as const)('sciops %j with %j exits %i', async (args, overrides, code, message) => {
    const result = await runCli(args, { ...env, ...overrides });
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    if (args[0] !== 'nosuch') expect(result.stderr).toMatch(ONE_LINE);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('output to a reader that goes away', () => {
  /** Runs the built CLI with its stdout on `out` (a pipe closed at once, or /dev/full); its exit code and stderr. */
  function cliInto(out: 'closed pipe' | '/dev/full'): Promise<{ code: number | null; stderr: string }> {
    const cli = path.resolve(__dirname, '../../dist/clients/cli.js');
    return new Promise((resolve) => {
      const stdout = out === '/dev/full' ? openSync('/dev/full', 'w') : 'pipe';
      const child = spawn(process.execPath, [cli, 'schema', 'backup'], { stdio: ['ignore', stdout, 'pipe'] });
      child.stdout?.destroy(); // `| head` that has read what it wanted
      let stderr = '';
      child.stderr?.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stderr }));
    });
  }

  it('stops quietly when the pipe closes early (`sciops … | head`): 141 as for SIGPIPE, no stack trace', async () => {
    expect(await cliInto('closed pipe')).toEqual({ code: 141, stderr: '' });
  });

  it('says in one line when the output cannot be written (a full disk), and fails', async () => {
    const { code, stderr } = await cliInto('/dev/full');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^sciops: cannot write the output: ENOSPC[^\n]*\n$/);
  });
});
