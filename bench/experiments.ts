/**
 * bench/experiments: 100 short containers at concurrency 4 through sciops (runExperiment workflows, a worker
 * process with SCIOPS_CONCURRENCY_DOCKER=4) against `xargs -P4 docker run --rm` in the same run; the
 * submit-to-running latency of each, one at a time; and the worker's memory with 1000 experiments waiting.
 * Goals (issue 13): ratio <= 1.0, worker RSS <= 200 MB with 10 000 waiting. Run: npm run bench:experiments [-- --count N --waiting N]
 */
import { execFile, spawn } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import type { Client, WorkflowHandle } from '@temporalio/client';
import Dockerode from 'dockerode';
import { EXPERIMENT_LABEL } from '../common/labels';
import { Queue } from '../common/queues';
import { experimentWorkflowId } from '../common/workflow-ids';
import { WorkflowType } from '../common/workflow-types';
import { benchEnvironment } from './support/environment';
import { percentile, rssMb, seconds } from './support/stats';

const run = promisify(execFile);
const IMAGE = 'local/busybox:1';
const COMMAND = 'echo hello; sleep 0.3';
const CONCURRENCY = 4;

const { values } = parseArgs({ options: { count: { type: 'string', default: '100' }, waiting: { type: 'string', default: '1000' } } });
const COUNT = Number(values.count);
const WAITING = Number(values.waiting);
const stamp = Date.now().toString(36);

function spec(id: string, type = 'inference') {
  return { id, type, image: IMAGE, command: ['sh', '-c', COMMAND] };
}

function start(client: Client, s: ReturnType<typeof spec>): Promise<WorkflowHandle> {
  return client.workflow.start(WorkflowType.runExperiment, {
    taskQueue: Queue.workflows,
    workflowId: experimentWorkflowId(s.id),
    args: [s],
  });
}

/** Start times of containers from the engine's event stream, by name or by experiment label. */
function watchStarts(docker: Dockerode): { starts: Map<string, number>; stop(): void } {
  const starts = new Map<string, number>();
  const abort = new AbortController();
  void docker.getEvents({ filters: { type: ['container'], event: ['start'] }, abortSignal: abort.signal } as object).then((stream) => {
    let buffer = '';
    (stream as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const event = JSON.parse(buffer.slice(0, nl)) as { timeNano: number; Actor: { Attributes: Record<string, string> } };
        buffer = buffer.slice(nl + 1);
        const key = event.Actor.Attributes[EXPERIMENT_LABEL] ?? event.Actor.Attributes.name;
        starts.set(key, event.timeNano / 1e6);
      }
    });
    (stream as NodeJS.ReadableStream).on('error', () => undefined);
  });
  return { starts, stop: () => abort.abort() };
}

async function plainBatch(): Promise<number> {
  const t0 = Date.now();
  await new Promise<void>((resolve, reject) => {
    const xargs = spawn(
      'sh',
      ['-c', `seq ${COUNT} | xargs -P${CONCURRENCY} -I{} docker run --rm ${IMAGE} sh -c '${COMMAND}' > /dev/null`],
      {
        stdio: 'inherit',
      },
    );
    xargs.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`xargs docker run exited ${code}`))));
  });
  return Date.now() - t0;
}

async function sciopsBatch(client: Client): Promise<number> {
  const t0 = Date.now();
  const handles = await Promise.all(Array.from({ length: COUNT }, (_, i) => start(client, spec(`bench-${stamp}-${i}`))));
  const results = (await Promise.all(handles.map((h) => h.result()))) as Array<{ state: string }>;
  const failed = results.filter((r) => r.state !== 'COMPLETED').length;
  if (failed > 0) throw new Error(`${failed} of ${COUNT} experiments did not complete`);
  return Date.now() - t0;
}

async function latencies(client: Client, docker: Dockerode, n: number): Promise<{ plain: number[]; sciops: number[] }> {
  const watch = watchStarts(docker);
  const plain: number[] = [];
  const sciops: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const name = `bench-plain-${stamp}-${i}`;
      const t0 = Date.now();
      await run('docker', ['run', '--rm', '--name', name, IMAGE, 'true']);
      plain.push((watch.starts.get(name) ?? Number.NaN) - t0);
      const id = `bench-lat-${stamp}-${i}`;
      const t1 = Date.now();
      await (await start(client, { ...spec(id), command: ['true'] })).result();
      sciops.push((watch.starts.get(id) ?? Number.NaN) - t1);
    }
  } finally {
    watch.stop();
  }
  return { plain, sciops };
}

async function waitingRss(client: Client, workerPid: number): Promise<{ mb: number; startedIn: number }> {
  // One slot for the type: one runs, the rest wait in PENDING for it.
  const t0 = Date.now();
  const handles: WorkflowHandle[] = [];
  for (let i = 0; i < WAITING; i += 100) {
    const batch = Array.from({ length: Math.min(100, WAITING - i) }, (_, j) => ({
      ...spec(`bench-wait-${stamp}-${i + j}`, 'feature_selection'),
      command: ['sleep', '3600'],
    }));
    handles.push(...(await Promise.all(batch.map((s) => start(client, s)))));
  }
  const startedIn = Date.now() - t0;
  let peak = 0;
  for (let s = 0; s < 30; s++) {
    peak = Math.max(peak, rssMb(workerPid));
    await new Promise((r) => setTimeout(r, 1000));
  }
  for (let i = 0; i < handles.length; i += 100) await Promise.all(handles.slice(i, i + 100).map((h) => h.cancel().catch(() => undefined)));
  await Promise.all(handles.map((h) => h.result().catch(() => undefined)));
  return { mb: peak, startedIn };
}

async function main(): Promise<void> {
  const bench = await benchEnvironment('experiments', 27233);
  const docker = new Dockerode();
  try {
    const worker = bench.worker(['--queues', 'sciops,docker,db'], {
      SCIOPS_CONCURRENCY_DOCKER: String(CONCURRENCY),
      SCIOPS_EXPERIMENTS_DIR: `/tmp/sciops-bench-${stamp}`,
      EXPERIMENT_CONCURRENCY_FEATURE_SELECTION: '1',
    });
    // Warm both paths once (image cache, worker start, workflow bundle) before timing.
    await run('docker', ['run', '--rm', IMAGE, 'true']);
    await (await start(bench.client, spec(`bench-warm-${stamp}`))).result();

    const plain = await plainBatch();
    const sciops = await sciopsBatch(bench.client);
    console.log(`bench/experiments: ${COUNT} containers at concurrency ${CONCURRENCY}`);
    console.log(`  xargs -P${CONCURRENCY} docker run --rm   ${seconds(plain)}`);
    console.log(`  sciops runExperiment         ${seconds(sciops)}`);
    console.log(`  ratio sciops / docker run    ${(sciops / plain).toFixed(2)}  (goal <= 1.0)`);

    const lat = await latencies(bench.client, docker, 20);
    const overhead = lat.sciops.map((s, i) => s - lat.plain[i]);
    console.log('  submit-to-running latency, one at a time (20 each):');
    console.log(`    docker run   p50 ${percentile(lat.plain, 50).toFixed(0)} ms   p95 ${percentile(lat.plain, 95).toFixed(0)} ms`);
    console.log(`    sciops       p50 ${percentile(lat.sciops, 50).toFixed(0)} ms   p95 ${percentile(lat.sciops, 95).toFixed(0)} ms`);
    console.log(`    overhead     p50 ${percentile(overhead, 50).toFixed(0)} ms   p95 ${percentile(overhead, 95).toFixed(0)} ms`);

    const waiting = await waitingRss(bench.client, worker.pid as number);
    console.log(
      `  worker RSS with ${WAITING} experiments waiting: ${waiting.mb.toFixed(0)} MB (goal <= 200 MB, with 10 000 waiting); all started in ${seconds(waiting.startedIn)}`,
    );
  } finally {
    await bench.close();
  }
}

main().catch((err: unknown) => {
  console.error('bench/experiments failed:', err);
  process.exit(1);
});
